"""The sandbox over real HTTP: the `bc-tui sandbox` commands, uvicorn on loopback, the thread runner."""

from __future__ import annotations

import contextlib
import io
import json
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from bc_tui.cli import main
from bc_tui.sandbox.server import RunningSandbox, start_in_thread
from bc_tui.sandbox.settings import SandboxSettings

INFO_KEYS = {
    "bc_api",
    "dataverse_api",
    "token_url",
    "bc_scope",
    "dataverse_scope",
    "tenant",
    "environment",
    "company_id",
    "client_id",
    "client_secret",
    "organization",
}


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """``bc-tui sandbox ARGS`` through the CLI's entry function in this process, streams captured.

    The commands run here end by themselves and their output and exit code are the point; the
    serve that runs until Ctrl-C below is a real subprocess.
    """
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(["sandbox", *args])
        except SystemExit as exc:  # argparse usage errors
            code = exc.code if isinstance(exc.code, int) else 1
    return subprocess.CompletedProcess(["bc-tui", "sandbox", *args], code, out.getvalue(), err.getvalue())


def bearer(http: httpx.Client, info: dict[str, Any], scope_key: str) -> dict[str, str]:
    response = http.post(
        info["token_url"],
        data={
            "grant_type": "client_credentials",
            "client_id": info["client_id"],
            "client_secret": info["client_secret"],
            "scope": info[scope_key],
        },
    )
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def customer(http: httpx.Client, info: dict[str, Any], number: str) -> dict[str, Any]:
    headers = bearer(http, info, "bc_scope")
    url = f"{info['bc_api']}companies({info['company_id']})/customers"
    rows = (
        http.get(url, headers=headers, params={"$filter": f"number eq '{number}'"}).raise_for_status().json()["value"]
    )
    assert len(rows) == 1
    return rows[0]


def test_serve_prints_one_json_line_serves_and_stops_quietly_on_ctrl_c(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "bc_tui.cli", "sandbox", "serve", "--port", "0", "--data", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        info = json.loads(process.stdout.readline())
        assert set(info) == INFO_KEYS
        assert info["bc_api"].startswith("http://127.0.0.1:") and info["dataverse_scope"].endswith("/.default")
        with httpx.Client(timeout=10) as http:
            before = customer(http, info, "10000")

            # A colleague edits BC while the server runs: the server notices on the next request.
            edit = run_cli("edit", "--side", "bc", "--count", "50", "--data", str(tmp_path), "--seed", "3")
            assert edit.returncode == 0, edit.stderr
            assert edit.stdout.count("Changed BC customer") == 50
            after = customer(http, info, "10000")
            # BC shows lastModifiedDateTime in whole seconds: the edit may fall in the same second.
            assert after["lastModifiedDateTime"] >= before["lastModifiedDateTime"]
            assert after["@odata.etag"] != before["@odata.etag"]
    finally:
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0
    assert "Traceback" not in stderr
    assert (tmp_path / "sandbox.sqlite").exists()


def test_reset_restores_the_demo_data(tmp_path: Path) -> None:
    run_cli("edit", "--side", "dataverse", "-n", "3", "--data", str(tmp_path), "--seed", "1")
    edited = run_cli("edit", "--side", "bc", "-n", "1", "--data", str(tmp_path), "--seed", "1")
    assert edited.stdout.startswith("Changed BC customer")
    reset = run_cli("reset", "--data", str(tmp_path), "--customers", "20")
    assert reset.returncode == 0 and len(reset.stdout.strip().splitlines()) == 1
    assert "demo data" in reset.stdout

    with start_in_thread(SandboxSettings(data_dir=tmp_path, customers=20)) as running, httpx.Client() as http:
        url = f"{running.info['bc_api']}companies({running.info['company_id']})/customers"
        body = http.get(
            url, headers=bearer(http, running.info, "bc_scope"), params={"$count": "true", "$top": "1"}
        ).json()
        assert body["@odata.count"] == 20


def test_serve_refuses_a_port_in_use_in_one_sentence(loopback_sandbox: RunningSandbox, tmp_path: Path) -> None:
    port = loopback_sandbox.origin.rsplit(":", 1)[1]
    result = run_cli("serve", "--port", port, "--data", str(tmp_path))
    assert result.returncode == 2  # bad input: exit 2 (docs/bad-input.md)
    assert result.stderr.startswith("bc-tui: the sandbox could not start") and "Traceback" not in result.stderr


def test_loopback_sandbox_answers_over_real_http(loopback_sandbox: RunningSandbox) -> None:
    info = loopback_sandbox.info
    assert set(info) == INFO_KEYS and info["bc_api"].startswith(loopback_sandbox.origin)
    with httpx.Client() as http:
        companies = http.get(info["bc_api"] + "companies", headers=bearer(http, info, "bc_scope"))
        assert companies.status_code == 200
        assert companies.json()["value"][0]["id"] == info["company_id"]
        dataverse = http.get(info["dataverse_api"] + "WhoAmI", headers=bearer(http, info, "dataverse_scope"))
        assert dataverse.status_code != 401 and dataverse.headers["x-ms-dop-hint"] == "4"


def test_stop_frees_the_port() -> None:
    running = start_in_thread(SandboxSettings())
    running.stop()
    with httpx.Client() as http, pytest.raises(httpx.ConnectError):
        http.get(running.info["bc_api"] + "companies")


def test_only_loopback_addresses_are_served() -> None:
    with pytest.raises(ValueError, match="loopback"):
        start_in_thread(SandboxSettings(), host="0.0.0.0")
    refused = run_cli("serve", "--host", "192.168.1.10")
    assert refused.returncode == 2 and "loopback" in refused.stderr
