"""Start-up: the app connects in the background, says where it is connected, and says clearly
why coupling and synchronization are unavailable when the connection fails."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Static

from bc_tui.config import Settings
from bc_tui.domain.words import not_connected
from bc_tui.sandbox.server import RunningSandbox
from bc_tui.tui.app import BcTuiApp
from bc_tui.tui.backend import SANDBOX_LABEL, Backend
from bc_tui.tui.feedback import session_or_notify
from bc_tui.tui.screens.errors import ErrorsScreen

TUI_SIZE = (120, 40)


async def settle(pilot) -> None:
    """Let the connection and the list workers finish and the screen redraw."""
    for _ in range(3):  # connecting starts the list loads, which start page loads
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


def first_customer_name(sandbox_app) -> str:
    """The name of the customer the list shows first (sorted by number, as BC sorts codes)."""
    rows = sorted(sandbox_app.state.store.rows("bc/customers"), key=lambda r: r["number"].casefold())
    return rows[0]["displayName"]


def _profile_settings(tmp_path: Path, info: dict[str, Any]) -> Settings:
    """A config with one profile, "contoso", pointing at a sandbox described by ``info``."""
    return Settings(
        config_path=tmp_path / "config.toml",
        database_url=f"sqlite:///{tmp_path / 'coupling.sqlite'}",
        profile_name="contoso",
        profiles={
            "contoso": {
                "tenant": info["tenant"],
                "client_id": info["client_id"],
                "bc_environment": info["environment"],
                "bc_company_id": info["company_id"],
                "dataverse_url": info["dataverse_api"].split("/api/")[0],
                "token_url": info["token_url"],
                "bc_api_url": info["bc_api"],
                "dataverse_api_url": info["dataverse_api"],
                "bc_scope": info["bc_scope"],
                "dataverse_scope": info["dataverse_scope"],
            }
        },
    )


async def test_start_up_shows_the_connection_and_the_first_customers(tui_app: BcTuiApp, sandbox_app) -> None:
    async with tui_app.run_test(size=TUI_SIZE) as pilot:
        await settle(pilot)
        assert tui_app.connected
        assert tui_app.sub_title.startswith(SANDBOX_LABEL)
        assert "BC production / CRONUS" in tui_app.sub_title and tui_app.sub_title.endswith("connected")
        lines = tui_app.main_screen.record_list("customers").render_lines_text()
        assert lines[0].split()[:3] == ["No.", "Name", "City"]
        assert first_customer_name(sandbox_app) in lines[1]
        assert tui_app.screen.query_one("#connection-banner").display is False
        assert tui_app.screen.check_action("synchronize", ()) is True


async def test_a_refused_client_secret_disables_coupling_and_says_how_to_fix_it(
    loopback_sandbox: RunningSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BC_TUI_CLIENT_SECRET", "not-the-secret")
    backend = Backend.from_settings(_profile_settings(tmp_path, loopback_sandbox.info))
    app = BcTuiApp(backend=backend)
    try:
        async with app.run_test(size=TUI_SIZE) as pilot:
            await settle(pilot)
            sentence = (
                "Cannot sign in to Business Central: invalid client secret. "
                "Set BC_TUI_CLIENT_SECRET or run: keyring set bc-tui contoso"
            )
            assert backend.state.problem == sentence
            assert not app.connected and app.sub_title.endswith("not connected")
            assert app.sub_title.startswith("Profile contoso")
            banner = app.screen.query_one("#connection-banner", Static)
            assert banner.display and sentence in str(banner.render())
            for action in ("couple", "synchronize", "delete_coupling", "match", "create"):
                assert app.screen.check_action(action, ()) is None  # greyed in the footer
            await pilot.press("s", "c", "n")
            await pilot.pause()
            assert app.screen is app.main_screen  # no dialog opened, nothing crashed
            assert app.main_screen.record_list("customers").row_count == 0

            # One sentence, wherever the app says it cannot couple or synchronize.
            told = not_connected(sentence)
            assert str(banner.render()) == f"⚠ {told} Restart bc-tui after fixing it."
            assert session_or_notify(app) is None  # what every coupling and sync flow asks first
            await pilot.pause()
            assert [n.message for n in app._notifications][-1] == told
            await app.push_screen(ErrorsScreen())
            await settle(pilot)
            # The errors screen reads the coupling store offline, and says why nothing was checked.
            said = str(app.screen.query_one("#errors-message", Static).render())
            assert said == f"No couplings need attention. {told} The records were not checked."
    finally:
        await backend.close()


async def test_a_closed_port_names_the_service_and_the_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as sock:  # a port nobody listens on (bound, then released)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    origin = f"http://127.0.0.1:{port}"
    info = {
        "tenant": "t",
        "client_id": "c",
        "environment": "production",
        "company_id": "x",
        "dataverse_api": f"{origin}/api/data/v9.2/",
        "token_url": f"{origin}/t/oauth2/v2.0/token",
        "bc_api": f"{origin}/v2.0/t/production/api/v2.0/",
        "bc_scope": "s",
        "dataverse_scope": "s",
    }
    monkeypatch.setenv("BC_TUI_CLIENT_SECRET", "whatever")
    backend = Backend.from_settings(_profile_settings(tmp_path, info))
    state = await backend.start()
    await backend.close()
    assert not state.ok and backend.session is None
    assert state.problem is not None
    assert "127.0.0.1" in state.problem and "Check the token URL in your profile" in state.problem


async def test_a_profile_that_cannot_be_built_is_a_problem_not_a_crash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BC_TUI_CLIENT_SECRET", raising=False)
    monkeypatch.setattr("bc_tui.config._keyring_secret", lambda name: None)
    backend = Backend.from_settings(
        _profile_settings(
            tmp_path,
            {
                "tenant": "t",
                "client_id": "c",
                "environment": "production",
                "company_id": "x",
                "dataverse_api": "https://x.crm.dynamics.com/api/data/v9.2/",
                "token_url": "https://login/t",
                "bc_api": "https://bc/api/v2.0/",
                "bc_scope": "s",
                "dataverse_scope": "s",
            },
        )
    )
    state = await backend.start()
    assert not state.ok
    assert state.problem == (
        "No client secret for profile 'contoso': set the environment variable BC_TUI_CLIENT_SECRET "
        "or store it with: keyring set bc-tui contoso"
    )


async def test_with_no_profile_the_embedded_sandbox_serves_demo_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BC_TUI_DATA_DIR", str(tmp_path / "data"))
    backend = Backend.from_settings(Settings(config_path=tmp_path / "none.toml"))
    assert backend.state.label == SANDBOX_LABEL and backend.state.connecting
    try:
        state = await backend.start()
        assert state.ok, state.problem
        assert state.label.startswith(SANDBOX_LABEL + " · BC production / CRONUS")
        assert backend.database_url == f"sqlite:///{tmp_path / 'data' / 'coupling.sqlite'}"
        assert (tmp_path / "data" / "sandbox").is_dir()
    finally:
        await backend.close()
