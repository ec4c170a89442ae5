"""The footer shows the keys of the moment, and is not rebuilt when they have not changed."""

from __future__ import annotations

from typing import Any

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets._footer import FooterKey

from bc_tui.tui.widgets.footer import Footer

SIZE = (120, 10)


class Harness(App[None]):
    """Two keys; Synchronize is shown disabled while ``busy`` (as the main screen does)."""

    BINDINGS = [Binding("s", "synchronize", "Synchronize"), Binding("r", "refresh", "Refresh")]
    ENABLE_COMMAND_PALETTE = False

    def __init__(self) -> None:
        super().__init__()
        self.busy = False

    def compose(self) -> ComposeResult:
        yield Footer()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return None if action == "synchronize" and self.busy else True

    def action_synchronize(self) -> None:
        pass

    def action_refresh(self) -> None:
        pass


def shown(app: App[Any]) -> dict[str, bool]:
    """Each key's description in the footer → whether it is enabled (a disabled key is dimmed)."""
    return {key.description: not key.has_class("-disabled") for key in app.screen.query(FooterKey) if key.description}


async def test_the_footer_follows_the_bindings_and_keeps_its_keys_when_nothing_changed() -> None:
    app = Harness()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert shown(app) == {"Synchronize": True, "Refresh": True}
        before = list(app.screen.query(FooterKey))

        for _ in range(5):  # a burst of "bindings changed" that changes nothing
            app.screen.refresh_bindings()
        await pilot.pause()
        assert list(app.screen.query(FooterKey)) == before  # the same widgets: not rebuilt

        app.busy = True
        app.screen.refresh_bindings()
        await pilot.pause()
        assert shown(app) == {"Synchronize": False, "Refresh": True}

        app.busy = False
        app.screen.refresh_bindings()
        await pilot.pause()
        assert shown(app) == {"Synchronize": True, "Refresh": True}
