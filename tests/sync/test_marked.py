"""What marks stand for (docs/coupling-and-sync.md "Marks"), read in batches over the sandbox:
gone and hidden marked records, and how many of a selection are coupled; and the numeric order
of numbers ("The order of numbers")."""

from __future__ import annotations

from starlette.applications import Starlette

from bc_tui.sync.bc_list import BcList
from bc_tui.sync.list_query import CoupledFilter, ListQuery, number_order
from bc_tui.sync.marked import check_marks, count_selection
from bc_tui.sync.session import SyncSession
from tests.sync.coupled_pairs import MAPPING, active_customer_ids, coupled_customers


def customers(sandbox_app: Starlette) -> list[dict]:
    return list(sandbox_app.state.store.rows("bc/customers"))


async def test_check_marks_tells_gone_from_hidden(session: SyncSession, sandbox_app: Starlette) -> None:
    first, second, third = customers(sandbox_app)[:3]
    sandbox_app.state.store.delete("bc/customers", third["id"])
    query = ListQuery(text=first["displayName"][:6].upper())  # case ignored, as the list's filter
    shown_too = {
        c["id"]
        for c in customers(sandbox_app)
        if c["displayName"].casefold().startswith(query.text.casefold())
        or c["number"].casefold().startswith(query.text.casefold())
        or query.text.casefold() in (c.get("email") or "").casefold()
    }
    keys = [first["id"], second["id"], third["id"]]
    check = await check_marks(session, MAPPING, "bc", query, keys)
    assert check.gone == {third["id"]}
    assert check.hidden == {k for k in keys[:2] if k not in shown_too}
    assert check.hidden and first["id"] not in check.hidden

    coupled_only = await check_marks(session, MAPPING, "bc", ListQuery(coupled=CoupledFilter.COUPLED), keys[:2])
    assert coupled_only.hidden == set(keys[:2]) and not coupled_only.gone


async def test_count_selection_counts_coupled_keys_and_all_without_reading_records(
    session: SyncSession, sandbox_app: Starlette
) -> None:
    pairs = await coupled_customers(session, sandbox_app, 2)
    uncoupled = [i for i in active_customer_ids(sandbox_app, 10) if i not in {p.bc_id for p in pairs}][:3]
    counted = await count_selection(session, MAPPING, "bc", keys=[*uncoupled, pairs[0].bc_id])
    assert (counted.selected, counted.coupled, counted.not_coupled) == (4, 1, 3)

    every = len(customers(sandbox_app))
    everything = await count_selection(session, MAPPING, "bc", every=every, excluded=[pairs[1].bc_id])
    assert (everything.selected, everything.coupled) == (every - 1, 1)
    none_coupled = await count_selection(session, MAPPING, "bc", every=96_000, coupled_filter=CoupledFilter.NOT_COUPLED)
    assert (none_coupled.selected, none_coupled.coupled, none_coupled.not_coupled) == (96_000, 0, 96_000)


async def test_numbers_are_ordered_as_numbers_by_the_list_not_by_the_service(
    session: SyncSession, sandbox_app: Starlette
) -> None:
    assert sorted(["100000", "20000", "10000", "C-10", "C-2"], key=number_order) == [
        "10000",
        "20000",
        "100000",
        "C-2",
        "C-10",
    ]
    numbers = [c["number"] for c in customers(sandbox_app)]
    rows = await BcList(lambda: session, MAPPING).page(0, 1000)
    assert [row.record["number"] for row in rows] == sorted(numbers, key=number_order)
    second_page = await BcList(lambda: session, MAPPING).page(10, 5)
    assert [row.record["number"] for row in second_page] == sorted(numbers, key=number_order)[10:15]


async def test_a_coupled_record_deleted_keeps_its_mark_as_a_broken_coupling(
    session: SyncSession, sandbox_app: Starlette
) -> None:
    [pair] = await coupled_customers(session, sandbox_app, 1)
    sandbox_app.state.store.delete("bc/customers", pair.bc_id)
    coupled = await check_marks(session, MAPPING, "bc", ListQuery(coupled=CoupledFilter.COUPLED), [pair.bc_id])
    assert not coupled.gone and not coupled.hidden  # the coupled list shows it, broken
    not_coupled = ListQuery(coupled=CoupledFilter.NOT_COUPLED)
    assert (await check_marks(session, MAPPING, "bc", not_coupled, [pair.bc_id])).hidden == {pair.bc_id}
    searched = await check_marks(session, MAPPING, "bc", ListQuery(text="zzz"), [pair.bc_id])
    assert searched.hidden == {pair.bc_id} and not searched.gone
