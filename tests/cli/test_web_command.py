"""``bc-tui web``: bad hosts and ports are one sentence, an open host warns, and requests from
other sites are refused (docs/browser-mode.md). The browser itself: tests/web/test_browser.py."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from typing import Any

import aiohttp
import httpx
from web_process import served

OPEN_WARNING = "anyone who can reach that port can use the app"


def one_sentence(result: Any) -> str:
    """The one line a refused command printed (exit 2, nothing on stdout, no traceback)."""
    assert result.code == 2, result
    assert result.out == ""
    assert "Traceback" not in result.err
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    return lines[0]


def test_a_port_in_use_is_one_sentence_and_exit_2(cli) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        line = one_sentence(cli("web", "--port", str(port)))
    assert f"Port {port} on 127.0.0.1 is already in use" in line
    assert "--port" in line


def test_a_host_that_is_not_this_machines_is_one_sentence_and_exit_2(cli) -> None:
    # 192.0.2.1 is in TEST-NET-1 (RFC 5737): never an address of this machine.
    line = one_sentence(cli("web", "--host", "192.0.2.1", "--port", "0"))
    assert "The address 192.0.2.1 is not one of this machine's" in line
    unknown = one_sentence(cli("web", "--host", "no-such-host.invalid", "--port", "0"))
    assert "The host 'no-such-host.invalid' is not a name or address bc-tui can listen on" in unknown
    assert "--host" in one_sentence(cli("web", "--host", " ", "--port", "0"))


def test_a_port_out_of_range_is_one_sentence_and_exit_2(cli) -> None:
    line = one_sentence(cli("web", "--port", "65536"))
    assert "argument --port: 65536 is out of range; the port (0 picks a free one) must be from 0 to 65535" in line


def test_a_missing_config_file_is_one_sentence_before_anything_listens(cli, tmp_path: Path) -> None:
    line = one_sentence(cli("web", "--port", "0", "--config", str(tmp_path / "nowhere.toml")))
    assert "nowhere.toml does not exist" in line


def test_the_help_says_what_it_serves_and_who_can_reach_it(cli) -> None:
    result = cli("web", "--help")
    assert result.code == 0
    text = " ".join(result.out.split())
    assert "Serve the terminal app to a web browser" in text
    assert "default 127.0.0.1: this machine only" in text
    assert "anyone who can reach that port can use the app" in text


async def _open_app_and_leave(url: str) -> None:
    """Open the app's websocket as a browser page does (no Origin: not from another site), and leave."""
    async with aiohttp.ClientSession() as session, session.ws_connect(f"{url}/ws?width=80&height=24") as ws:
        message = await ws.receive(timeout=120)  # the app's first output, or its meta message
        assert message.type in (aiohttp.WSMsgType.BINARY, aiohttp.WSMsgType.TEXT)


def test_a_non_loopback_host_warns_on_stderr_and_in_the_log(tmp_path: Path) -> None:
    with served(tmp_path, "--host", "0.0.0.0") as web:
        # 0.0.0.0 is every address of this machine, loopback included.
        asyncio.run(_open_app_and_leave(f"http://127.0.0.1:{web.port}"))
    assert web.code == 0, web.err
    warning = [line for line in web.err.splitlines() if OPEN_WARNING in line]
    assert warning == [
        f"bc-tui: warning: bc-tui web listens on any address of this machine, port {web.port}: "
        f"{OPEN_WARNING}, with this machine's connection and data, without signing in."
    ]
    log = " ".join(web.out.split())
    assert "A browser at 127.0.0.1 opened the app." in log
    assert OPEN_WARNING in log


def test_loopback_serves_no_other_host_name_and_no_other_sites_websocket(tmp_path: Path) -> None:
    with served(tmp_path) as web:
        assert web.url == f"http://127.0.0.1:{web.port}"
        page = httpx.get(f"{web.url}/", timeout=30)
        assert page.status_code == 200
        assert f'data-session-websocket-url="ws://127.0.0.1:{web.port}/ws"' in page.text
        by_name = httpx.get(f"{web.url}/", headers={"Host": f"localhost:{web.port}"}, timeout=30)
        assert f'data-session-websocket-url="ws://localhost:{web.port}/ws"' in by_name.text
        # A web page whose name was re-pointed at 127.0.0.1 (DNS rebinding).
        rebound = httpx.get(f"{web.url}/", headers={"Host": f"attacker.example:{web.port}"}, timeout=30)
        assert rebound.status_code == 403
        assert "serves this machine only" in rebound.text
        script = f"{web.url}/static/js/textual.js"
        assert httpx.get(script, timeout=30).status_code == 200
        assert httpx.get(script, headers={"Host": f"attacker.example:{web.port}"}, timeout=30).status_code == 403
        # Another site's page opening the app's websocket in the user's browser.
        upgrade = {"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13"}
        upgrade["Sec-WebSocket-Key"] = "dGhlIHNhbXBsZSBub25jZQ=="
        foreign = httpx.get(f"{web.url}/ws", headers={**upgrade, "Origin": "http://attacker.example"}, timeout=30)
        assert foreign.status_code == 403
        assert "from its own page only" in foreign.text
    assert web.code == 0, web.err
    assert web.err == ""
