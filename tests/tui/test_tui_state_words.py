"""The words of a coupled pair's state: the list and the card read the same domain rule and say
the same word, each explains it on hover (tooltip), and the help screen has the legend."""

from __future__ import annotations

from starlette.applications import Starlette
from textual.widgets import DataTable

from bc_tui.domain.diff import FieldState
from bc_tui.domain.sync_state import FIELD_STATE_LABELS, STATE_HELP, SyncState, state_legend
from bc_tui.store.coupling_writes import couple
from bc_tui.tui.app import BcTuiApp
from bc_tui.tui.backend import Backend
from tests.sync.coupled_pairs import MAPPING, edit_account
from tests.tui.pilot_waits import SIZE, screen_is, wait_for
from tests.tui.test_tui_coupling import accounts_named, customer


async def test_a_fresh_pair_is_not_synced_yet_in_the_list_and_on_the_card(
    tui_backend: Backend, tui_app: BcTuiApp, sandbox_app: Starlette
) -> None:
    adatum = customer(sandbox_app, "10000")
    [account] = accounts_named(sandbox_app, "Adatum Corporation")
    couple(MAPPING, adatum["id"], account["accountid"])  # coupled, never synchronized
    edit_account(sandbox_app, account["accountid"], telephone1="+1 555 0123")  # a field differs

    async with tui_app.run_test(size=SIZE) as pilot:
        customers = tui_app.main_screen.record_list("customers")
        await wait_for(pilot, lambda: customers.row_at(0) is not None and customers.row_at(0).cells.get("state"))
        row = customers.row_at(0)
        assert row.key == adatum["id"] and customers.cursor_row == 0
        assert row.cells["state"] == SyncState.NOT_SYNCED.value
        await wait_for(pilot, lambda: customers.tooltip == STATE_HELP[SyncState.NOT_SYNCED])

        await pilot.press("enter")
        await wait_for(pilot, lambda: screen_is(tui_app, "CardScreen") and tui_app.screen.preview is not None)
        card = tui_app.screen
        assert card.summary.startswith("Sync state: not synced yet. ")
        assert card.query_one("#card-summary").tooltip == STATE_HELP[SyncState.NOT_SYNCED]
        # Nothing says either side changed the phone number: it is different, not "changed on both".
        table = card.query_one("#card-fields", DataTable)
        assert str(table.get_cell("Phone No.", "state")).startswith(FIELD_STATE_LABELS[FieldState.DIFFERENT])
        states = {str(table.get_cell(key.value, "state")) for key in table.rows}
        assert not any(
            FIELD_STATE_LABELS[s] in text for s in (FieldState.CHANGED_ON_BOTH, FieldState.CONFLICT) for text in states
        )
        assert "changed on both" not in card.summary


async def test_the_help_screen_explains_every_state(tui_app: BcTuiApp) -> None:
    async with tui_app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: screen_is(tui_app, "HelpScreen"))
        legend = tui_app.screen.query_one("#help-states", DataTable)
        shown = [(str(legend.get_row_at(i)[0]), str(legend.get_row_at(i)[1])) for i in range(legend.row_count)]
        assert shown == state_legend()
        assert {words for words, _ in shown} == {s.value for s in SyncState} | {"outside filter"}
