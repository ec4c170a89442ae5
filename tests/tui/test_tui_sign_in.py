"""Device code sign-in in the terminal app: the header and a notification say where to sign in
with which code until the person has, then the app is connected as usual."""

from __future__ import annotations

from pathlib import Path

import pytest

from bc_tui.sandbox.server import start_in_thread
from bc_tui.sandbox.settings import SandboxSettings
from bc_tui.tui.app import BcTuiApp
from bc_tui.tui.backend import Backend
from tests.tui.test_tui_startup import TUI_SIZE, _profile_settings, settle


async def test_the_header_says_where_to_sign_in_until_the_person_has(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BC_TUI_DATA_DIR", str(tmp_path / "data"))
    settings = SandboxSettings(customers=5, device_code_interval_s=1, device_code_approve_after=2)
    with start_in_thread(settings) as running:
        config = _profile_settings(tmp_path, running.info)
        config.profiles["contoso"]["sign_in"] = "device_code"  # type: ignore[index]
        backend = Backend.from_settings(config)
        app = BcTuiApp(backend=backend)
        try:
            async with app.run_test(size=TUI_SIZE) as pilot:
                seen: set[str] = set()
                for _ in range(200):  # the sandbox approves on its third poll, a second apart
                    seen.add(app.sub_title)
                    if app.connected:
                        break
                    await pilot.pause(0.05)
                await settle(pilot)
                signing_in = [title for title in seen if "To sign in" in title]
                assert signing_in and signing_in[0].startswith("Profile contoso")
                assert "/devicelogin and enter the code " in signing_in[0]
                (notice,) = [n for n in app._notifications if n.title == "Sign in"]
                assert notice.message in signing_in[0]
                assert app.connected and app.sub_title.endswith("connected")
        finally:
            await backend.close()
