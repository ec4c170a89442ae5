"""The virtual record list inside the app: paging, cursor, marks, opening, mouse."""

from __future__ import annotations

import asyncio

from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding

from bc_tui.tui.app import BcTuiApp
from bc_tui.tui.sources import Column, Row, SequencePageSource
from bc_tui.tui.widgets.record_list import MARK_GLYPH, PLACEHOLDER, RecordList

SIZE = (120, 40)


async def settle(pilot) -> None:
    """Let the page workers finish and the screen redraw."""
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def customers(app: BcTuiApp) -> RecordList:
    record_list = app.main_screen.record_list("customers")
    assert record_list is not None
    return record_list


async def test_first_rows_render_with_header_and_only_first_page_fetched(make_app) -> None:
    app, sources = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        lines = customers(app).render_lines_text()
        assert lines[0].split() == ["No.", "Name", "City", "Coupled"]
        assert "C Customer 0 " in lines[1] and "Atlanta" in lines[1]
        assert "C Customer 1 " in lines[2]
        assert sources["customers"].page_calls == [(0, 100)]
        assert customers(app).cursor_key == "C000000"


async def test_capital_g_reaches_last_row_fetching_only_the_last_page(make_app) -> None:
    app, sources = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("G")
        await settle(pilot)
        record_list = customers(app)
        assert record_list.cursor_row == 99_999
        assert record_list.cursor_key == "C099999"
        assert "C Customer 99999 " in record_list.render_lines_text()[-1]
        calls = sources["customers"].page_calls
        assert len(calls) <= 3
        assert calls[-1] == (99_900, 100)
        await pilot.press("g")
        await settle(pilot)
        assert record_list.cursor_key == "C000000"


async def test_rows_not_loaded_yet_show_a_placeholder(make_app) -> None:
    app, sources = make_app()
    gate = sources["customers"].gate = asyncio.Event()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        record_list = customers(app)
        # Before any page arrives, the visible rows are placeholders, not blanks or errors.
        assert record_list.row_at(0) is None
        assert PLACEHOLDER in record_list.render_line(1).text
        await pilot.press("space", "enter")  # nothing to mark or open yet: no error
        assert record_list.marked_count == 0
        gate.set()
        await settle(pilot)
        assert PLACEHOLDER not in record_list.render_line(1).text


async def test_space_marks_and_moves_down_and_status_line_shows_count(make_app) -> None:
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("space", "space", "down", "space")
        record_list = customers(app)
        assert record_list.marked_count == 3
        assert [record_list.is_marked(k) for k in ("C000000", "C000001", "C000002", "C000003")] == [
            True,
            True,
            False,
            True,
        ]
        assert record_list.render_lines_text()[1].startswith(MARK_GLYPH)
        assert app.main_screen.status.marked_count == 3
        assert "3 marked" in str(app.screen.query_one("#status-marks").render())
        assert await record_list.marked_keys() == ["C000000", "C000001", "C000003"]
        # space again on a marked row unmarks it
        await pilot.press("up", "space")
        assert record_list.marked_count == 2


async def test_range_marks_with_shift_and_with_v(make_app) -> None:
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("shift+down", "shift+down")
        record_list = customers(app)
        assert await record_list.marked_keys() == ["C000000", "C000001", "C000002"]
        await pilot.press("u")
        assert record_list.marked_count == 0
        await pilot.press("down", "v")
        start = record_list.cursor_row
        await pilot.press("pagedown")
        await settle(pilot)
        end = record_list.cursor_row
        assert end - start > 30
        assert record_list.marked_count == end - start + 1  # rows start … end
        await pilot.press("v", "down")  # v again stops extending
        assert record_list.marked_count == end - start + 1


async def test_mark_all_counts_every_row_without_fetching_them(make_app) -> None:
    app, sources = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+a")
        record_list = customers(app)
        assert record_list.marked_count == 100_000
        assert len(sources["customers"].page_calls) <= 2
        assert "100,000 marked" in str(app.screen.query_one("#status-marks").render())
        await pilot.press("space")  # unmark the first row
        assert record_list.marked_count == 99_999
        selection = record_list.selection
        assert selection.all and selection.excluded == {"C000000"}
        keys = await record_list.marked_keys()  # resolving walks the source, on request only
        assert len(keys) == 99_999 and keys[0] == "C000001"


async def test_escape_clears_marks_and_otherwise_reaches_the_screen(generated_source) -> None:
    escapes: list[str] = []

    class Harness(App[None]):
        BINDINGS = [Binding("escape", "back", "Back")]

        def compose(self) -> ComposeResult:
            yield RecordList(generated_source(500))

        def action_back(self) -> None:
            escapes.append("back")

    app = Harness()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        record_list = app.query_one(RecordList)
        record_list.focus()
        await pilot.press("space", "escape")
        assert record_list.marked_count == 0 and escapes == []
        await pilot.press("escape")
        assert escapes == ["back"]


async def test_enter_and_click_post_opened_with_the_record_key(generated_source) -> None:
    opened: list[str] = []

    class Recording(BcTuiApp):
        @on(RecordList.Opened)
        def _opened(self, event: RecordList.Opened) -> None:
            opened.append(event.key)

    sources = {"customers": generated_source(1000)}
    app = Recording(sources=sources)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("down", "down", "enter")
        assert opened == ["C000002"]
        record_list = customers(app)
        # y=0 is the header, y=5 the fifth record: a click moves the cursor, a second opens it.
        await pilot.click(record_list, offset=(4, 5))
        assert record_list.cursor_key == "C000004" and opened == ["C000002"]
        await pilot.click(record_list, offset=(4, 5))
        assert opened == ["C000002", "C000004"]
        await pilot.double_click(record_list, offset=(4, 7))
        assert opened[-1] == "C000006"


async def test_marks_survive_refresh_and_resort() -> None:
    class Sortable:
        columns = (Column("name", "Name", 20),)

        def __init__(self) -> None:
            self.rows = [Row(key=f"k{i}", cells={"name": f"n{i}"}) for i in range(300)]

        async def count(self) -> int | None:
            return len(self.rows)

        async def page(self, start: int, size: int) -> list[Row]:
            return self.rows[start : start + size]

    source = Sortable()
    app = BcTuiApp(sources={"customers": source})
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("space")
        record_list = customers(app)
        source.rows.reverse()
        record_list.refresh_data()
        await settle(pilot)
        assert record_list.is_marked("k0") and record_list.marked_count == 1
        assert record_list.row_at(0).key == "k299"
        lines = record_list.render_lines_text()
        assert lines[1].startswith("  ") and "n299" in lines[1]  # k299 is not marked
        assert await record_list.marked_keys() == ["k0"]


async def test_unknown_count_grows_as_pages_arrive(generated_source) -> None:
    source = generated_source(250, count_known=False)
    app = BcTuiApp(sources={"customers": source})
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        record_list = customers(app)
        assert not record_list.count_known
        for _ in range(4):
            await pilot.press("G")
            await settle(pilot)
        assert record_list.count_known and record_list.row_count == 250
        assert record_list.cursor_key == "C000249"


async def test_empty_source_shows_only_the_header() -> None:
    app = BcTuiApp(sources={"customers": SequencePageSource([Column("name", "Name", 10)], [])})
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        record_list = customers(app)
        await pilot.press("enter", "space", "G")
        assert record_list.row_count == 0 and record_list.cursor_key is None
        assert record_list.render_lines_text()[0].strip() == "Name"


async def test_set_source_swaps_columns_and_rows_and_long_cells_are_cut(make_app) -> None:
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        record_list = customers(app)
        filtered = SequencePageSource(
            [Column("name", "Name", 10), Column("email", "E-Mail", 12)],
            [Row(key="X1", cells={"name": "Adatum Corporation", "email": "a@adatum.com"})],
        )
        record_list.set_source(filtered)
        await settle(pilot)
        lines = record_list.render_lines_text()
        assert lines[0].split() == ["Name", "E-Mail"]
        assert lines[1].startswith("  Adatum Co… a@adatum.com")
        assert record_list.row_count == 1 and record_list.cursor_key == "X1"
