"""The record lists on the sandbox's data: filter, coupled filter, sort, sync state, Dataverse
lists, and actions on marked rows. Keyboard only; assertions on the screen and the data."""

from __future__ import annotations

from typing import Any

from bc_tui.domain.mappings import SyncDirection
from bc_tui.store import coupling_writes
from bc_tui.store.coupling_queries import couplings_by_bc_id
from bc_tui.sync.synchronize import synchronize_one
from bc_tui.tui.app import BcTuiApp
from bc_tui.tui.record_sources import COUPLED_MARK, CoupledFilter
from bc_tui.tui.widgets.record_list import RecordList

SIZE = (120, 40)


async def settle(pilot) -> None:
    """Let the connection, the count and the page workers finish, and the screen redraw."""
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def wait_until(pilot, condition, tries: int = 200) -> None:
    """Pause until ``condition()`` holds (a flow waits on a dialog: its worker never completes)."""
    for _ in range(tries):
        if condition():
            return
        await pilot.pause(0.02)
    raise AssertionError("the screen never got there")


async def wait_for_screen(pilot, name: str) -> None:
    """Pause until the screen on top is of the class called ``name``."""
    await wait_until(pilot, lambda: type(pilot.app.screen).__name__ == name)


def customers(app: BcTuiApp) -> RecordList:
    record_list = app.main_screen.record_list("customers")
    assert record_list is not None
    return record_list


def all_rows(record_list: RecordList) -> list[Any]:
    """Every row of a list whose pages are loaded (small lists: one page)."""
    return [record_list.row_at(i) for i in range(record_list.row_count)]


def store_customers(sandbox_app) -> list[dict[str, Any]]:
    return list(sandbox_app.state.store.rows("bc/customers"))


def account_named(sandbox_app, name: str) -> dict[str, Any]:
    return next(r for r in sandbox_app.state.store.rows("dv/accounts") if r["name"] == name)


def couple_by_name(sandbox_app, *names: str) -> list[str]:
    """Couple BC customers to the Dataverse accounts of the same name; returns the BC ids."""
    ids = []
    by_name = {c["displayName"]: c for c in store_customers(sandbox_app)}
    for name in names:
        customer = by_name[name]
        account = account_named(sandbox_app, name)
        coupling_writes.couple(
            "CUSTOMER", customer["id"], account["accountid"], bc_number=customer["number"], display_name=name
        )
        ids.append(customer["id"])
    return ids


def names_in_both(sandbox_app, count: int) -> list[str]:
    accounts = {a["name"] for a in sandbox_app.state.store.rows("dv/accounts")}
    names = sorted(
        c["displayName"]
        for c in store_customers(sandbox_app)
        if c["displayName"] in accounts and c.get("blocked") == " "
    )
    return names[:count]


async def test_filter_with_a_quote_finds_the_right_rows_and_escape_clears_it(tui_app: BcTuiApp, sandbox_app) -> None:
    quoted = next(c for c in store_customers(sandbox_app) if "'" in c["displayName"])
    text = quoted["displayName"][: quoted["displayName"].index("'") + 2]  # e.g. "Munson's"
    expected = sorted(
        c["number"]
        for c in store_customers(sandbox_app)
        if c["displayName"].casefold().startswith(text.casefold())
        or c["number"].casefold().startswith(text.casefold())
        or text.casefold() in (c.get("email") or "").casefold()
    )
    async with tui_app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        total = customers(tui_app).row_count
        assert total == len(store_customers(sandbox_app))
        await pilot.press("slash")
        await pilot.press(*text)
        await pilot.press("enter")
        await settle(pilot)
        record_list = customers(tui_app)
        assert sorted(row.cells["number"] for row in all_rows(record_list)) == expected
        assert quoted["displayName"] in [row.cells["name"] for row in all_rows(record_list)]
        assert quoted["number"] in record_list.render_lines_text()[1]
        assert record_list.source.query.text == text
        assert tui_app.focused is record_list
        await pilot.press("slash", "escape")
        await settle(pilot)
        assert customers(tui_app).row_count == total and customers(tui_app).source.query.text == ""


async def test_coupled_filter_cycles_through_coupled_and_not_coupled(tui_app: BcTuiApp, sandbox_app) -> None:
    names = names_in_both(sandbox_app, 2)
    coupled_ids = couple_by_name(sandbox_app, *names)
    async with tui_app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        total = customers(tui_app).row_count
        await pilot.press("f")
        await settle(pilot)
        record_list = customers(tui_app)
        assert record_list.source.query.coupled is CoupledFilter.COUPLED
        rows = all_rows(record_list)
        assert sorted(r.key for r in rows) == sorted(coupled_ids)
        for row in rows:
            assert row.cells["coupled"] == COUPLED_MARK
            assert row.cells["dataverse_name"] == row.cells["name"]  # coupled by the same name
            assert row.cells["state"] == "not synced yet"
        await pilot.press("f")
        await settle(pilot)
        record_list = customers(tui_app)
        assert record_list.source.query.coupled is CoupledFilter.NOT_COUPLED
        assert await record_list.source.count() is None  # found by scanning: the end shows as pages arrive
        await pilot.press("G")
        await settle(pilot)
        assert record_list.count_known and record_list.row_count == total - 2
        keys = {r.key for r in all_rows(record_list)}
        assert not keys & set(coupled_ids)
        await pilot.press("f")
        await settle(pilot)
        assert customers(tui_app).row_count == total


async def test_sort_cycles_number_name_city(tui_app: BcTuiApp, sandbox_app) -> None:
    rows = store_customers(sandbox_app)
    async with tui_app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        first = customers(tui_app).row_at(0).cells
        assert first["number"] == min(r["number"] for r in rows)
        await pilot.press("o")
        await settle(pilot)
        names = [r.cells["name"] for r in all_rows(customers(tui_app))]
        assert names == sorted(names, key=str.casefold)
        assert names[0] == min((r["displayName"] for r in rows), key=str.casefold)
        await pilot.press("o")
        await settle(pilot)
        cities = [r.cells["city"] for r in all_rows(customers(tui_app))]
        assert cities == sorted(cities, key=str.casefold)
        assert "sorted by City" in str(tui_app.screen.query_one("#status-message").render())
        await pilot.press("o")
        await settle(pilot)
        assert customers(tui_app).source.query.sort == "No."


async def test_sync_state_follows_the_records(tui_app: BcTuiApp, sandbox_app) -> None:
    [name] = names_in_both(sandbox_app, 1)
    [bc_id] = couple_by_name(sandbox_app, name)
    summary = await synchronize_one(tui_app.backend.session, "CUSTOMER", bc_id, SyncDirection.TO_DATAVERSE)
    assert not summary.failed
    async with tui_app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f")
        await settle(pilot)
        row = customers(tui_app).row_at(0)
        assert row.key == bc_id and row.cells["state"] == "synced"
        sandbox_app.state.store.update("bc/customers", bc_id, {"city": "Somewhere Else"})
        await pilot.press("f5")
        await settle(pilot)
        assert customers(tui_app).row_at(0).cells["state"] == "changed in BC"
        account = account_named(sandbox_app, name)
        sandbox_app.state.store.update("dv/accounts", account["accountid"], {"address1_city": "Elsewhere"})
        await pilot.press("f5")
        await settle(pilot)
        assert customers(tui_app).row_at(0).cells["state"] == "conflict"


async def test_a_blocked_customer_shows_dimmed_and_outside_the_filter(tui_app: BcTuiApp, sandbox_app) -> None:
    blocked = next(c for c in store_customers(sandbox_app) if c.get("blocked") not in (" ", "", None))
    async with tui_app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        row = next(r for r in all_rows(customers(tui_app)) if r.key == blocked["id"])
        assert row.style == "dim" and row.cells["state"] == "outside filter"
        assert blocked["id"] in customers(tui_app).source.outside_filter


async def test_dataverse_accounts_list_shows_an_account_only_in_dataverse(tui_app: BcTuiApp, sandbox_app) -> None:
    bc_names = {c["displayName"] for c in store_customers(sandbox_app)}
    only_there = sorted(a["name"] for a in sandbox_app.state.store.rows("dv/accounts") if a["name"] not in bc_names)
    assert only_there
    async with tui_app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("right_square_bracket", "right_square_bracket")
        await settle(pilot)
        assert tui_app.main_screen.active_tab == "dataverse-accounts"
        record_list = tui_app.main_screen.active_list
        assert record_list.row_count == len(list(sandbox_app.state.store.rows("dv/accounts")))
        shown = [r.cells["name"] for r in all_rows(record_list)]
        assert set(only_there) <= set(shown)
        assert shown == sorted(shown, key=str.casefold)
        await pilot.press("slash", *only_there[0], "enter")
        await settle(pilot)
        rows = all_rows(record_list)
        assert [r.cells["name"] for r in rows] == [only_there[0]] and rows[0].cells["coupled"] == ""


async def test_marked_rows_are_what_an_action_acts_on(tui_app: BcTuiApp, sandbox_app) -> None:
    names = names_in_both(sandbox_app, 3)
    ids = couple_by_name(sandbox_app, *names)
    async with tui_app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f")  # coupled only: the three, in number order
        await settle(pilot)
        record_list = customers(tui_app)
        order = [r.key for r in all_rows(record_list)]
        assert sorted(order) == sorted(ids)
        await pilot.press("space", "down", "space")  # marks the first and the third
        assert await record_list.marked_keys() == [order[0], order[2]]
        await pilot.press("d")  # delete coupling → confirm → job → summary
        await wait_for_screen(pilot, "ConfirmDialog")
        await pilot.press("y")
        await wait_for_screen(pilot, "JobScreen")
        await wait_until(pilot, lambda: not tui_app.screen.running)
        await pilot.press("enter")  # close the job summary
        await settle(pilot)
        left = couplings_by_bc_id("CUSTOMER", ids)
        assert set(left) == {order[1]}  # only the unmarked record is still coupled
        assert record_list.marked_count == 0  # the finished records' marks are cleared
        assert [r.key for r in all_rows(record_list)] == [order[1]]


async def test_actions_are_in_the_footer_help_and_command_palette(tui_app: BcTuiApp) -> None:
    from bc_tui.tui.bindings import binding_entries

    async with tui_app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        entries = {e.binding_id: e for e in binding_entries(tui_app.screen, include_plumbing=False)}
        for binding_id in (
            "couple",
            "synchronize",
            "delete_coupling",
            "main.match",
            "main.create",
            "log",
            "main.errors",
            "main.filter",
            "main.coupled_filter",
            "main.sort",
            "refresh",
            "list.open",
        ):
            assert binding_id in entries and entries[binding_id].description
        footer_keys = {b.binding.id for b in tui_app.screen.active_bindings.values() if b.binding.show}
        assert {"couple", "synchronize", "main.filter", "list.open", "mark"} <= footer_keys


async def test_dataverse_list_coupled_filter_shows_the_bc_number(tui_app: BcTuiApp, sandbox_app) -> None:
    [name] = names_in_both(sandbox_app, 1)
    [bc_id] = couple_by_name(sandbox_app, name)
    number = next(c["number"] for c in store_customers(sandbox_app) if c["id"] == bc_id)
    async with tui_app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("right_square_bracket", "right_square_bracket", "f")
        await settle(pilot)
        rows = all_rows(tui_app.main_screen.active_list)
        assert [(r.cells["name"], r.cells["coupled"], r.cells["bc_number"]) for r in rows] == [
            (name, COUPLED_MARK, number)
        ]
        await pilot.press("f")  # not coupled: every other account
        await settle(pilot)
        rows = all_rows(tui_app.main_screen.active_list)
        assert len(rows) == len(list(sandbox_app.state.store.rows("dv/accounts"))) - 1
        assert name not in {r.cells["name"] for r in rows}
