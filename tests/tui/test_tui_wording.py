"""Small wording checks of the terminal app's status line."""

from __future__ import annotations

from bc_tui.tui.app import BcTuiApp
from tests.tui.test_tui_lists import SIZE, customers, settle


async def test_the_status_line_of_a_filter_sorted_by_number_ends_with_one_period(tui_app: BcTuiApp) -> None:
    async with tui_app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash", "A", "enter")
        await settle(pilot)
        assert customers(tui_app).source.query.sort == "No."
        message = str(tui_app.screen.query_one("#status-message").render())
        assert message.strip().endswith("sorted by No."), message
        assert ".." not in message
