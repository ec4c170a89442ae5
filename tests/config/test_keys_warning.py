"""The terminal app checks the config's ``[keys]`` names against its binding ids at start and
shows the config warnings as notifications; the valid entries still apply."""

from __future__ import annotations

from pathlib import Path

from bc_tui.tui.app import BcTuiApp
from bc_tui.tui.bindings import known_binding_ids
from bc_tui.tui.screens.help import HelpScreen

TUI_SIZE = (120, 40)


def test_the_binding_ids_include_every_screen_and_dialog() -> None:
    ids = known_binding_ids()
    # Screens and dialogs that the app imports only when they open are found too.
    for binding_id in ("app.help", "list.mark", "main.synchronize", "errors.retry", "match.run", "confirm.yes"):
        assert binding_id in ids


async def test_an_unknown_binding_id_is_a_notification_and_the_valid_keys_apply(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    from_file = f"In {config}, databse_url is not a setting bc-tui knows (did you mean database_url?); it is ignored."
    app = BcTuiApp(keymap={"app.hlep": "x", "app.help": "h"}, config_warnings=[from_file], config_path=config)
    async with app.run_test(size=TUI_SIZE) as pilot:
        await pilot.pause()
        notes = [(n.title, n.severity, n.message) for n in app._notifications]
        assert notes == [
            ("Config", "warning", from_file),
            (
                "Config",
                "warning",
                f"In {config}, app.hlep in [keys] is not a binding id of the terminal app "
                "(did you mean app.help?); it is ignored.",
            ),
        ]
        await pilot.press("h")  # the valid entry of [keys] was applied all the same
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)


async def test_a_clean_key_map_gives_no_notification() -> None:
    app = BcTuiApp(keymap={"list.mark": "x"})
    async with app.run_test(size=TUI_SIZE) as pilot:
        await pilot.pause()
        assert list(app._notifications) == []
