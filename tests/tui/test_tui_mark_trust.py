"""Marks you can trust: the status line counts marks the filter hides, marks of deleted records are
dropped, an action over hidden marks asks first, a job over marks says how many will be skipped,
and match-based coupling works on the marks. Keyboard only; assertions on the app and the data."""

from __future__ import annotations

from bc_tui.store import jobs
from bc_tui.store.coupling_queries import count_couplings, couplings_by_bc_id, iter_couplings
from bc_tui.store.jobs import JobType
from bc_tui.tui.app import BcTuiApp
from bc_tui.tui.widgets.list_text import MARK_GLYPH
from bc_tui.tui.widgets.record_list import RecordList
from tests.tui.pilot_waits import SIZE, job_done, screen_is, wait_for
from tests.tui.test_tui_lists import (
    all_rows,
    couple_by_name,
    customers,
    names_in_both,
    settle,
    store_customers,
)


def status_marks(app: BcTuiApp) -> str:
    return str(app.screen.query_one("#status-marks").render())


def status_message(app: BcTuiApp) -> str:
    return str(app.screen.query_one("#status-message").render())


def status_position(app: BcTuiApp) -> str:
    return str(app.screen.query_one("#status-position").render())


async def test_the_mark_glyph_is_not_the_coupled_mark(tui_app: BcTuiApp, sandbox_app) -> None:
    [name] = names_in_both(sandbox_app, 1)
    couple_by_name(sandbox_app, name)
    async with tui_app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f")  # coupled only: the one row has the coupled mark
        await settle(pilot)
        await pilot.press("space")
        line = customers(tui_app).render_lines_text()[1]
        assert line.startswith(MARK_GLYPH) and "●" in line and MARK_GLYPH != "●"


async def test_status_line_counts_the_marks_the_filter_hides(tui_app: BcTuiApp, sandbox_app) -> None:
    async with tui_app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        record_list = customers(tui_app)
        first = [record_list.row_at(i) for i in range(3)]
        await pilot.press("space", "space", "space")
        assert status_marks(tui_app) == "3 marked"
        number = first[0].cells["number"]
        await pilot.press("slash", *number, "enter")
        await settle(pilot)
        shown = {row.key for row in all_rows(record_list)}
        hidden = [row.key for row in first if row.key not in shown]
        assert first[0].key in shown and hidden  # "10000" also finds "100000" (text order)
        assert record_list.marked_count == 3
        assert status_marks(tui_app) == f"3 marked, {len(hidden)} hidden by the filter"
        await pilot.press("slash", "escape")  # no filter: nothing hidden
        await settle(pilot)
        assert status_marks(tui_app) == "3 marked"


async def test_marks_of_a_deleted_record_are_dropped(tui_app: BcTuiApp, sandbox_app) -> None:
    async with tui_app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        record_list = customers(tui_app)
        marked = [record_list.row_at(i).key for i in range(2)]
        await pilot.press("space", "space")
        sandbox_app.state.store.delete("bc/customers", marked[0])
        await pilot.press("f5")
        await settle(pilot)
        assert record_list.marked_count == 1
        assert await record_list.marked_keys() == [marked[1]]
        assert status_marks(tui_app) == "1 marked"
        assert status_message(tui_app) == "1 marked record no longer exists; its mark was dropped."


async def test_an_action_over_hidden_marks_asks_first(tui_app: BcTuiApp, sandbox_app) -> None:
    names = names_in_both(sandbox_app, 2)
    ids = couple_by_name(sandbox_app, *names)
    async with tui_app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f")  # coupled only: the two
        await settle(pilot)
        record_list = customers(tui_app)
        order = [r.key for r in all_rows(record_list)]
        await pilot.press("space", "space")
        number = record_list.row_at(0).cells["number"]
        await pilot.press("slash", *number, "enter")
        await settle(pilot)
        assert status_marks(tui_app) == "2 marked, 1 hidden by the filter"
        await pilot.press("d")
        await wait_for(pilot, lambda: screen_is(tui_app, "ConfirmDialog"))
        assert tui_app.screen.dialog_title == "Marks hidden by the filter"
        assert "2 records marked, 1 of them hidden by the filter" in tui_app.screen.question
        await pilot.press("n")
        await wait_for(pilot, lambda: screen_is(tui_app, "MainScreen"))
        await settle(pilot)
        assert set(couplings_by_bc_id("CUSTOMER", ids)) == set(order)  # nothing deleted
        assert record_list.marked_count == 2
        assert status_message(tui_app).startswith("Nothing done")


async def test_a_job_over_marks_none_coupled_says_all_will_be_skipped(tui_app: BcTuiApp, sandbox_app) -> None:
    total = len(store_customers(sandbox_app))
    async with tui_app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+a")
        assert customers(tui_app).marked_count == total
        await pilot.press("s")
        await settle(pilot)
        assert status_message(tui_app) == (
            f"{total:,} selected: 0 coupled, {total:,} will be skipped (not coupled). Nothing to do."
        )
        assert screen_is(tui_app, "MainScreen")
        assert not jobs.list_jobs()  # nobody waits for a job that does nothing


async def test_a_job_over_marks_some_coupled_counts_the_skipped_first(tui_app: BcTuiApp, sandbox_app) -> None:
    [name] = names_in_both(sandbox_app, 1)
    [coupled] = couple_by_name(sandbox_app, name)
    async with tui_app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        record_list = customers(tui_app)
        keys = [record_list.row_at(i).key for i in range(3) if record_list.row_at(i).key != coupled][:2]
        record_list.mark_keys([*keys, coupled])
        await pilot.press("d")
        await wait_for(pilot, lambda: screen_is(tui_app, "ConfirmDialog"))
        assert tui_app.screen.question == "3 selected: 1 coupled, 2 will be skipped (not coupled)."
        await pilot.press("y")  # go on: the Delete Coupling question of the one coupled
        await wait_for(pilot, lambda: screen_is(tui_app, "ConfirmDialog") and "Delete" in tui_app.screen.question)
        await pilot.press("y")
        await wait_for(pilot, lambda: job_done(tui_app))
        await pilot.press("enter")
        await settle(pilot)
        assert count_couplings("CUSTOMER") == 0


async def test_match_based_coupling_works_on_the_marks_and_says_so(tui_app: BcTuiApp, sandbox_app) -> None:
    names = set(names_in_both(sandbox_app, 50))
    async with tui_app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        record_list = customers(tui_app)
        rows = [r for r in all_rows(record_list) if r.cells["name"] in names][:2]
        record_list.mark_keys([r.key for r in rows])
        await pilot.press("m")
        await wait_for(pilot, lambda: screen_is(tui_app, "MatchDialog"))
        await pilot.press("enter")
        await wait_for(pilot, lambda: job_done(tui_app))
        assert "(the 2 marked records)" in tui_app.screen.job_title
        await pilot.press("enter")
        await settle(pilot)
        [job] = jobs.list_jobs(job_type=JobType.MATCH_BASED_COUPLING)
        assert job.coupled == 2
        assert {c.bc_id for c in iter_couplings("CUSTOMER")} == {r.key for r in rows}
        assert record_list.marked_count == 0  # done with: unmarked


async def test_status_line_says_which_row_of_how_many(tui_app: BcTuiApp, sandbox_app) -> None:
    total = len(store_customers(sandbox_app))
    async with tui_app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert status_position(tui_app) == f"row 1 of {total:,}"
        await pilot.press("down", "down")
        assert status_position(tui_app) == f"row 3 of {total:,}"
        await pilot.press("G")
        await settle(pilot)
        assert status_position(tui_app) == f"row {total:,} of {total:,}"
        assert isinstance(tui_app.focused, RecordList)


async def test_i_shows_the_full_values_of_the_cursor_row(tui_app: BcTuiApp, sandbox_app) -> None:
    longest = max(store_customers(sandbox_app), key=lambda c: len(c.get("email") or ""))
    async with tui_app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        record_list = customers(tui_app)
        index = next(i for i, r in enumerate(all_rows(record_list)) if r.key == longest["id"])
        record_list.cursor_row = index
        await pilot.pause()
        assert longest["email"] not in "".join(record_list.render_lines_text())  # the list cuts it
        await pilot.press("i")
        await wait_for(pilot, lambda: screen_is(tui_app, "FullValuesDialog"))
        shown = [str(w.render()) for w in tui_app.screen.query(".values-value")]
        assert longest["email"] in shown and longest["displayName"] in shown
        assert tui_app.screen.dialog_title == f"{longest['number']} {longest['displayName']}"
        await pilot.press("escape")
        await wait_for(pilot, lambda: screen_is(tui_app, "MainScreen"))


async def test_outside_filter_is_explained_on_the_status_line_and_in_full_values(
    tui_app: BcTuiApp, sandbox_app
) -> None:
    blocked = next(c for c in store_customers(sandbox_app) if c.get("blocked") not in (" ", "", None))
    async with tui_app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        record_list = customers(tui_app)
        record_list.cursor_row = next(i for i, r in enumerate(all_rows(record_list)) if r.key == blocked["id"])
        await pilot.pause()
        assert status_message(tui_app).startswith("Outside filter: the record does not pass the CUSTOMER table filter")
        await pilot.press("i")
        await wait_for(pilot, lambda: screen_is(tui_app, "FullValuesDialog"))
        assert "gets no Dataverse actions" in str(tui_app.screen.query_one("#values-note").render())


async def test_state_words_are_coloured_as_in_the_card(tui_app: BcTuiApp, sandbox_app) -> None:
    from bc_tui.domain.mappings import SyncDirection
    from bc_tui.sync.synchronize import synchronize_one
    from tests.tui.test_tui_lists import account_named

    names = names_in_both(sandbox_app, 2)
    for name, bc_id in zip(names, couple_by_name(sandbox_app, *names), strict=True):  # two conflicts
        summary = await synchronize_one(tui_app.backend.session, "CUSTOMER", bc_id, SyncDirection.TO_DATAVERSE)
        assert not summary.failed
        sandbox_app.state.store.update("bc/customers", bc_id, {"city": "Somewhere Else"})
        account = account_named(sandbox_app, name)
        sandbox_app.state.store.update("dv/accounts", account["accountid"], {"address1_city": "Elsewhere"})
    async with tui_app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f", "down")  # coupled only; the cursor off the first row, so its colours show
        await settle(pilot)
        record_list = customers(tui_app)
        row = record_list.row_at(0)
        assert row.cells["state"] == "conflict" and row.tones == {"state": "error"}
        segment = next(s for s in record_list.render_line(1) if s.text.strip() == "conflict")
        error = tui_app.get_css_variables()["text-error"]
        assert segment.style.color.triplet.hex.lower() == error.lower()[:7]


async def test_rows_in_view_are_read_again_as_a_job_progresses(tui_app: BcTuiApp, sandbox_app) -> None:
    from bc_tui.domain.mappings import SyncDirection
    from bc_tui.sync.job_log import Progress
    from bc_tui.sync.synchronize import synchronize_one
    from bc_tui.tui.dialogs.job import JobProgressed

    [name] = names_in_both(sandbox_app, 1)
    [bc_id] = couple_by_name(sandbox_app, name)
    summary = await synchronize_one(tui_app.backend.session, "CUSTOMER", bc_id, SyncDirection.TO_DATAVERSE)
    assert not summary.failed
    async with tui_app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f")
        await settle(pilot)
        record_list = customers(tui_app)
        assert record_list.row_at(0).cells["state"] == "synced"
        sandbox_app.state.store.update("bc/customers", bc_id, {"city": "Somewhere Else"})
        # What the job dialog posts while a job runs: the rows in view are read again, in place.
        tui_app.post_message(JobProgressed(Progress(job_id=summary.job_id, total=2, done=1)))
        await settle(pilot)
        assert record_list.row_at(0).cells["state"] == "changed in BC"
        assert record_list.row_at(0).cells["city"] == "Somewhere Else"


async def test_numbers_sort_as_numbers_though_business_central_sorts_them_as_text(
    tui_app: BcTuiApp, sandbox_app
) -> None:
    from bc_tui.connectors.models import BcCustomer
    from bc_tui.sync.list_query import number_order

    numbers = [c["number"] for c in store_customers(sandbox_app)]
    assert "20000" in numbers and any(len(n) > 5 for n in numbers)  # e.g. 100000 after 20000
    # The service (and so the sandbox) orders by number as text: 100000 before 20000.
    served = [c.number for c in await tui_app.backend.session.bc.page(BcCustomer, top=1000, orderby="number")]
    assert served == sorted(numbers) != sorted(numbers, key=number_order)
    async with tui_app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        shown = [row.cells["number"] for row in all_rows(customers(tui_app))]
        assert shown == sorted(numbers, key=number_order)
        assert shown.index("20000") < shown.index(min((n for n in numbers if len(n) > 5), key=number_order))


async def test_mark_all_under_a_text_filter_counts_the_rows_shown_not_every_coupling(
    tui_app: BcTuiApp, sandbox_app
) -> None:
    names = names_in_both(sandbox_app, 3)
    coupled = set(couple_by_name(sandbox_app, *names))
    async with tui_app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        record_list = customers(tui_app)
        uncoupled = next(r for r in all_rows(record_list) if r.key not in coupled)
        await pilot.press("slash", *uncoupled.cells["number"], "enter")
        await settle(pilot)
        shown = all_rows(record_list)
        assert shown and not {r.key for r in shown} & coupled
        await pilot.press("ctrl+a", "s")
        await settle(pilot)
        total = len(shown)
        assert status_message(tui_app) == (
            f"{total:,} selected: 0 coupled, {total:,} will be skipped (not coupled). Nothing to do."
        )


async def test_position_of_a_list_whose_end_is_not_known_yet_says_plus(generated_source) -> None:
    source = generated_source(250, count_known=False)
    app = BcTuiApp(sources={"customers": source})
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        record_list = app.main_screen.record_list("customers")
        assert not record_list.count_known
        assert status_position(app) == f"row 1 of {record_list.row_count - record_list.page_size:,}+"
        for _ in range(4):
            await pilot.press("G")
            await settle(pilot)
        assert record_list.count_known and status_position(app) == "row 250 of 250"


async def test_a_marked_coupled_record_deleted_in_bc_stays_marked_as_broken(tui_app: BcTuiApp, sandbox_app) -> None:
    [name] = names_in_both(sandbox_app, 1)
    [bc_id] = couple_by_name(sandbox_app, name)
    async with tui_app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f", "space")  # the coupled list: the one record, marked
        await settle(pilot)
        sandbox_app.state.store.delete("bc/customers", bc_id)
        await pilot.press("f5")
        await settle(pilot)
        record_list = customers(tui_app)
        assert record_list.row_at(0).key == bc_id and record_list.row_at(0).cells["state"] == "broken"
        assert await record_list.marked_keys() == [bc_id]  # kept: its coupling can still be fixed
        assert status_marks(tui_app) == "1 marked"
