"""Synchronize Now and Delete Coupling from the card and for several records (keyboard only, on the
in-process sandbox): the direction dialog, one-way confirmations, conflicts, the job dialog."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.applications import Starlette

from bc_tui.domain.mappings import SyncDirection
from bc_tui.store.coupling_queries import get_by_bc_id
from bc_tui.tui.backend import Backend
from bc_tui.tui.dialogs.confirm import ConfirmDialog
from bc_tui.tui.dialogs.coupling import CouplingDialog
from bc_tui.tui.dialogs.direction import DirectionDialog
from bc_tui.tui.dialogs.job import JobScreen
from bc_tui.tui.flows import synchronize_flow
from bc_tui.tui.screens.card import CardScreen
from tests.sync.coupled_pairs import account_row, bc_row, coupled_customers, edit_account, edit_bc, next_second
from tests.tui.flow_host import (
    SNAPSHOT_SIZE,
    FlowHost,
    couple_listed_customers,
    hold_cursor_shown,
    press_and_settle,
    settle,
    unstarted_backend,
    use_snapshot_folder,
)

pytestmark = pytest.mark.timeout(60)

SIZE = (120, 40)
MAPPING = "CUSTOMER"
SEND, GET, MERGE = SyncDirection.TO_DATAVERSE, SyncDirection.FROM_DATAVERSE, SyncDirection.MERGE


async def finish_job(pilot: Any) -> None:
    """Wait for the job dialog to show its summary, then close it with enter."""
    assert isinstance(pilot.app.screen, JobScreen), pilot.app.screen
    await settle(pilot)
    await press_and_settle(pilot, "enter")
    await settle(pilot)


async def test_send_one_record_from_the_card(tui_backend: Backend, sandbox_app: Starlette) -> None:
    [pair] = await coupled_customers(tui_backend.session, sandbox_app, 1)
    edit_bc(sandbox_app, pair.bc_id, city="Springfield")
    app = FlowHost(tui_backend, start=lambda: CardScreen(MAPPING, pair.bc_id))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press_and_settle(pilot, "s")
        dialog = app.screen
        assert isinstance(dialog, DirectionDialog)
        assert dialog.offered == (SEND, GET, MERGE)
        assert dialog.recommendation.recommended is SEND  # only BC changed
        assert "City changed in Business Central." in dialog.recommendation.reasons
        await press_and_settle(pilot, "1")
        await finish_job(pilot)
        card = app.screen
        assert isinstance(card, CardScreen)
        assert "nothing to synchronize" in card.summary
    assert account_row(sandbox_app, pair.dataverse_id)["address1_city"] == "Springfield"


async def test_get_one_record_from_the_card(tui_backend: Backend, sandbox_app: Starlette) -> None:
    [pair] = await coupled_customers(tui_backend.session, sandbox_app, 1)
    edit_account(sandbox_app, pair.dataverse_id, telephone1="+1 555 0199")
    app = FlowHost(tui_backend, start=lambda: CardScreen(MAPPING, pair.bc_id))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press_and_settle(pilot, "s")
        assert app.screen.recommendation.recommended is GET
        await press_and_settle(pilot, "2")
        await finish_job(pilot)
        assert isinstance(app.screen, CardScreen)
    assert bc_row(sandbox_app, pair.bc_id)["phoneNumber"] == "+1 555 0199"


async def test_enter_takes_the_recommended_direction_and_escape_cancels(
    tui_backend: Backend, sandbox_app: Starlette
) -> None:
    [pair] = await coupled_customers(tui_backend.session, sandbox_app, 1)
    edit_bc(sandbox_app, pair.bc_id, city="Springfield")
    edit_account(sandbox_app, pair.dataverse_id, telephone1="+1 555 0199")
    app = FlowHost(tui_backend, start=lambda: CardScreen(MAPPING, pair.bc_id))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press_and_settle(pilot, "s", "escape")
        assert isinstance(app.screen, CardScreen)
        assert account_row(sandbox_app, pair.dataverse_id)["address1_city"] != "Springfield"
        # Both changed different fields: merge is recommended and pre-selected; enter takes it.
        await press_and_settle(pilot, "s")
        assert app.screen.recommendation.recommended is MERGE
        await press_and_settle(pilot, "enter")
        await finish_job(pilot)
    assert account_row(sandbox_app, pair.dataverse_id)["address1_city"] == "Springfield"
    assert bc_row(sandbox_app, pair.bc_id)["phoneNumber"] == "+1 555 0199"


async def test_conflict_is_resolved_by_choosing_a_side(tui_backend: Backend, sandbox_app: Starlette) -> None:
    """Get stays offered beside the per-field merge: Dataverse wins the conflicting field."""
    [pair] = await coupled_customers(tui_backend.session, sandbox_app, 1)
    edit_bc(sandbox_app, pair.bc_id, city="Springfield")
    edit_account(sandbox_app, pair.dataverse_id, address1_city="Shelbyville")
    app = FlowHost(tui_backend, start=lambda: CardScreen(MAPPING, pair.bc_id))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "City changed on both sides" in app.screen.summary
        await press_and_settle(pilot, "s")
        dialog = app.screen
        assert isinstance(dialog, DirectionDialog)
        # Merge with a winner per conflicting field is offered and recommended; send and get stay.
        assert dialog.offered == (SEND, GET, MERGE)
        assert dialog.recommendation.recommended is MERGE
        assert dialog.recommendation.conflicts == ("City",)
        warning = str(dialog.query_one("#direction-warning").content)
        assert "the side you do not pick loses its change there" in warning
        why = str(dialog.query_one("#direction-reasons").content)
        assert "2 Get writes:\n  • in Business Central: City 'Springfield' → 'Shelbyville'" in why
        await press_and_settle(pilot, "2")  # Dataverse wins the conflicting field
        await finish_job(pilot)
        assert "nothing to synchronize" in app.screen.summary
    assert bc_row(sandbox_app, pair.bc_id)["city"] == "Shelbyville"
    assert account_row(sandbox_app, pair.dataverse_id)["address1_city"] == "Shelbyville"


async def test_synchronize_several_records(tui_backend: Backend, sandbox_app: Starlette) -> None:
    pairs = await coupled_customers(tui_backend.session, sandbox_app, 3)
    for index, pair in enumerate(pairs):
        edit_bc(sandbox_app, pair.bc_id, phoneNumber=f"+1 555 010{index}")
    app = FlowHost(tui_backend)
    async with app.run_test(size=SIZE) as pilot:
        app.run_flow(synchronize_flow(app, MAPPING, [p.bc_id for p in pairs]))
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, DirectionDialog)
        assert dialog.offered == (SEND, GET)
        assert dialog.recommendation.question == "Synchronize data for the 3 selected records?"
        await press_and_settle(pilot, "1")
        await finish_job(pilot)
        await settle(pilot, flows_too=True)
    [summary] = app.flow_results
    assert summary.count("modified") == 3
    for index, pair in enumerate(pairs):
        assert account_row(sandbox_app, pair.dataverse_id)["telephone1"] == f"+1 555 010{index}"


async def test_several_records_let_the_chosen_side_win_conflicting_fields(
    tui_backend: Backend, sandbox_app: Starlette
) -> None:
    """w in the dialog for several records: Business Central wins the conflicting City, and
    Dataverse's own E-Mail change still flows back; without w such a record would be skipped."""
    first, second = await coupled_customers(tui_backend.session, sandbox_app, 2)
    conflict_with_changes_on_both_sides(sandbox_app, first)
    edit_bc(sandbox_app, second.bc_id, phoneNumber="+1 555 0300")
    app = FlowHost(tui_backend)
    async with app.run_test(size=SIZE) as pilot:
        app.run_flow(synchronize_flow(app, MAPPING, [first.bc_id, second.bc_id]))
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, DirectionDialog)
        assert "is skipped" in str(dialog.query_one("#direction-conflicts").content)
        await press_and_settle(pilot, "w")
        assert dialog.conflicts_win
        assert "the side you choose wins those fields" in str(dialog.query_one("#direction-conflicts").content)
        await press_and_settle(pilot, "1")
        await finish_job(pilot)
        await settle(pilot, flows_too=True)
    [summary] = app.flow_results
    assert summary.count("modified") == 2
    bc, account = bc_row(sandbox_app, first.bc_id), account_row(sandbox_app, first.dataverse_id)
    assert (bc["city"], account["address1_city"]) == ("Springfield", "Springfield")
    assert (bc["email"], account["emailaddress1"]) == ("sales@adatum.example.com", "sales@adatum.example.com")
    assert account["telephone1"] == "+1 555 0100"
    assert account_row(sandbox_app, second.dataverse_id)["telephone1"] == "+1 555 0300"


async def test_mark_several_customers_in_the_list_and_synchronize_them(
    tui_app: Any, tui_backend: Backend, sandbox_app: Starlette
) -> None:
    """The whole journey on the real app: mark three customers, s, send, the job, the data."""
    async with tui_app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        pairs = await couple_listed_customers(tui_app, tui_backend.session, 3)
        customers = tui_app.main_screen.record_list("customers")
        for index, pair in enumerate(pairs):
            edit_bc(sandbox_app, pair.bc_id, phoneNumber=f"+1 555 020{index}")
        await press_and_settle(pilot, "space", "space", "space")
        assert customers.marked_count == 3
        assert all(customers.is_marked(p.bc_id) for p in pairs)
        await press_and_settle(pilot, "s")
        dialog = tui_app.screen
        assert isinstance(dialog, DirectionDialog)
        assert dialog.recommendation.question == "Synchronize data for the 3 selected records?"
        await press_and_settle(pilot, "1")
        await finish_job(pilot)
        await settle(pilot, flows_too=True)
    for index, pair in enumerate(pairs):
        assert account_row(sandbox_app, pair.dataverse_id)["telephone1"] == f"+1 555 020{index}"


async def test_synchronize_an_uncoupled_record_offers_to_couple(tui_backend: Backend, sandbox_app: Starlette) -> None:
    record = next(r for r in sandbox_app.state.store.rows("bc/customers") if r["number"] == "10000")
    app = FlowHost(tui_backend, start=lambda: CardScreen(MAPPING, record["id"]))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press_and_settle(pilot, "s")
        confirm = app.screen
        assert isinstance(confirm, ConfirmDialog)
        assert confirm.question == (
            "The customer 10000 Adatum Corporation is not coupled to Dataverse. Do you want to create a coupling?"
        )
        await press_and_settle(pilot, "enter")
        assert isinstance(app.screen, CouplingDialog)
        await press_and_settle(pilot, "escape")
        assert isinstance(app.screen, CardScreen)
    assert get_by_bc_id(MAPPING, record["id"]) is None


async def test_one_way_mapping_confirms_with_no_when_the_destination_is_newer(
    tui_backend: Backend, sandbox_app: Starlette
) -> None:
    from dataclasses import replace

    from bc_tui.domain.mappings import Direction

    [pair] = await coupled_customers(tui_backend.session, sandbox_app, 1)
    session = tui_backend.session
    session.mappings[MAPPING] = replace(session.mappings[MAPPING], direction=Direction.TO_DATAVERSE)
    edit_account(sandbox_app, pair.dataverse_id, telephone1="+1 555 0199")
    app = FlowHost(tui_backend, start=lambda: CardScreen(MAPPING, pair.bc_id))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press_and_settle(pilot, "s")
        confirm = app.screen
        assert isinstance(confirm, ConfirmDialog)
        assert confirm.default is False
        assert "contains newer data than the Business Central record" in confirm.question
        await press_and_settle(pilot, "enter")  # the default: No
        assert isinstance(app.screen, CardScreen)
        assert account_row(sandbox_app, pair.dataverse_id)["telephone1"] == "+1 555 0199"
        await press_and_settle(pilot, "s", "y")
        await finish_job(pilot)
    assert account_row(sandbox_app, pair.dataverse_id)["telephone1"] == bc_row(sandbox_app, pair.bc_id)["phoneNumber"]


async def test_delete_coupling_from_the_card(tui_backend: Backend, sandbox_app: Starlette) -> None:
    [pair] = await coupled_customers(tui_backend.session, sandbox_app, 1)
    accounts_before = sandbox_app.state.store.count("dv/accounts")
    app = FlowHost(tui_backend, start=lambda: CardScreen(MAPPING, pair.bc_id))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press_and_settle(pilot, "d")
        confirm = app.screen
        assert isinstance(confirm, ConfirmDialog)
        assert confirm.question == "Delete the coupling of the customer 10000 Adatum Corporation?"
        await press_and_settle(pilot, "enter")
        await finish_job(pilot)
        card = app.screen
        assert isinstance(card, CardScreen)
        assert str(card.query_one("#card-dataverse-name").content) == "not coupled"
    assert get_by_bc_id(MAPPING, pair.bc_id) is None
    # Neither record was touched.
    assert sandbox_app.state.store.count("dv/accounts") == accounts_before
    assert account_row(sandbox_app, pair.dataverse_id) is not None


async def test_flows_without_a_session_say_why(tui_backend: Backend) -> None:
    from bc_tui.tui.flows import couple_flow, delete_coupling_flow

    await tui_backend.close()
    app = FlowHost(tui_backend)
    async with app.run_test(size=SIZE) as pilot:
        app.run_flow(couple_flow(app, MAPPING, "x"))
        app.run_flow(synchronize_flow(app, MAPPING, ["x"]))
        app.run_flow(delete_coupling_flow(app, MAPPING, ["x"]))
        await settle(pilot, flows_too=True)
        assert app.flow_results == [False, None, None]
        messages = [n.message for n in app._notifications]
        assert len(messages) == 3 and all("not available yet" in m for m in messages)


async def test_flow_errors_become_notifications(tui_backend: Backend) -> None:
    app = FlowHost(tui_backend)
    async with app.run_test(size=SIZE) as pilot:
        app.run_flow(synchronize_flow(app, "NO-SUCH-MAPPING", ["x", "y"]))
        await settle(pilot, flows_too=True)
        assert app.flow_results == [None]
        [note] = list(app._notifications)
        assert note.severity == "error"
        assert note.message.startswith("There is no table mapping called NO-SUCH-MAPPING")


# --- snapshot ------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _snapshot_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    use_snapshot_folder(monkeypatch)


def test_direction_dialog_snapshot(
    snap_compare: Any, sandbox_app: Starlette, sandbox_info: dict[str, Any], tui_database_url: str
) -> None:
    """The direction dialog for a conflict on City and a change in Dataverse: the per-field winner
    of City (Dataverse, changed last, recommended), and what send, get and merge each overwrite."""
    backend = unstarted_backend(sandbox_app, sandbox_info, tui_database_url)
    app = FlowHost(backend, own_backend=True)

    async def open_direction(pilot: Any) -> None:
        [pair] = await coupled_customers(backend.session, sandbox_app, 1)
        edit_bc(sandbox_app, pair.bc_id, city="Springfield")
        await next_second()  # Dataverse changed last: its City is the recommended winner (★)
        edit_account(sandbox_app, pair.dataverse_id, address1_city="Shelbyville", telephone1="+1 555 0199")
        app.push_screen(CardScreen(MAPPING, pair.bc_id))
        await settle(pilot)
        await press_and_settle(pilot, "s")

    assert snap_compare(app, terminal_size=SNAPSHOT_SIZE, run_before=open_direction)


# --- per-field winners ---------------------------------------------------------------------------


def conflict_with_changes_on_both_sides(sandbox_app: Starlette, pair: Any) -> None:
    """City changed on both sides to different values; Phone No. changed in BC only, E-Mail in Dataverse only."""
    edit_bc(sandbox_app, pair.bc_id, city="Springfield", phoneNumber="+1 555 0100")
    edit_account(sandbox_app, pair.dataverse_id, address1_city="Shelbyville", emailaddress1="sales@adatum.example.com")


async def test_pick_per_field_winners_in_the_card(tui_backend: Backend, sandbox_app: Starlette) -> None:
    """The journey of issue 10: one conflicting field and one change on each side; the user picks
    Dataverse for City on the card with the keyboard, synchronizes, and all three changes survive."""
    from textual.widgets import DataTable

    [pair] = await coupled_customers(tui_backend.session, sandbox_app, 1)
    conflict_with_changes_on_both_sides(sandbox_app, pair)
    app = FlowHost(tui_backend, start=lambda: CardScreen(MAPPING, pair.bc_id))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        card = app.screen
        assert isinstance(card, CardScreen)
        assert "Pick each conflict's winner with ← / →" in card.summary
        table = card.query_one("#card-fields", DataTable)
        # The cursor starts on the conflicting field; → keeps Dataverse's value.
        assert table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value == "City"
        await press_and_settle(pilot, "left", "right")
        assert card.picked == {"City": GET}
        assert str(table.get_cell("City", "state")).startswith("✖ conflict: Dataverse")
        assert str(table.get_cell("City", "dataverse")) == "✓ Shelbyville"
        await press_and_settle(pilot, "s")
        dialog = app.screen
        assert isinstance(dialog, DirectionDialog)
        assert dialog.recommendation.recommended is MERGE
        assert dialog.picked == {"City": GET}  # the card's pick
        why = str(dialog.query_one("#direction-reasons").content)
        assert "  • in Business Central: City 'Springfield' → 'Shelbyville' (your pick; " in why
        await press_and_settle(pilot, "enter")  # merge, recommended
        await finish_job(pilot)
        assert "nothing to synchronize" in app.screen.summary
    bc, account = bc_row(sandbox_app, pair.bc_id), account_row(sandbox_app, pair.dataverse_id)
    assert (bc["city"], account["address1_city"]) == ("Shelbyville", "Shelbyville")  # the pick
    assert (bc["phoneNumber"], account["telephone1"]) == ("+1 555 0100", "+1 555 0100")  # BC's change
    assert (bc["email"], account["emailaddress1"]) == ("sales@adatum.example.com", "sales@adatum.example.com")


async def test_pick_a_winner_in_the_direction_dialog(tui_backend: Backend, sandbox_app: Starlette) -> None:
    """← in the dialog keeps Business Central's City; the Why follows the pick; merge writes it."""
    [pair] = await coupled_customers(tui_backend.session, sandbox_app, 1)
    conflict_with_changes_on_both_sides(sandbox_app, pair)
    app = FlowHost(tui_backend, start=lambda: CardScreen(MAPPING, pair.bc_id))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press_and_settle(pilot, "s", "right")
        dialog = app.screen
        assert isinstance(dialog, DirectionDialog)
        assert dialog.picked == {"City": GET}
        await press_and_settle(pilot, "left")
        assert dialog.picked == {"City": SEND}
        why = str(dialog.query_one("#direction-reasons").content)
        assert "  • in Dataverse: City 'Shelbyville' → 'Springfield' (your pick; Dataverse's change is lost)" in why
        assert "  • in Dataverse: Phone No." in why and "  • in Business Central: E-Mail" in why
        await press_and_settle(pilot, "3")
        await finish_job(pilot)
    bc, account = bc_row(sandbox_app, pair.bc_id), account_row(sandbox_app, pair.dataverse_id)
    assert (bc["city"], account["address1_city"]) == ("Springfield", "Springfield")
    assert account["telephone1"] == "+1 555 0100"
    assert bc["email"] == "sales@adatum.example.com"


async def test_several_conflicting_fields_are_picked_one_by_one_and_shown_literally(
    tui_backend: Backend, sandbox_app: Starlette
) -> None:
    """tab reaches the picks table, ↓ the next field; a value that looks like markup stays text."""
    from textual.widgets import DataTable

    [pair] = await coupled_customers(tui_backend.session, sandbox_app, 1)
    edit_bc(sandbox_app, pair.bc_id, city="[bold]Boulder[/bold]", phoneNumber="+1 555 0111")
    await next_second()
    edit_account(sandbox_app, pair.dataverse_id, address1_city="Aurora", telephone1="+1 555 0222")
    app = FlowHost(tui_backend, start=lambda: CardScreen(MAPPING, pair.bc_id))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press_and_settle(pilot, "s")
        dialog = app.screen
        assert isinstance(dialog, DirectionDialog)
        assert dialog.picked == {"City": GET, "Phone No.": GET}  # Dataverse changed last
        table = dialog.query_one("#direction-picks", DataTable)
        assert str(table.get_cell("City", "bc")) == "[bold]Boulder[/bold]"
        await press_and_settle(pilot, "tab", "down", "left")
        assert dialog.picked == {"City": GET, "Phone No.": SEND}
        assert str(table.get_cell("Phone No.", "winner")) == "Business Central"
        assert str(table.get_cell("City", "winner")) == "Dataverse ★"
        await press_and_settle(pilot, "3")
        await finish_job(pilot)
    bc, account = bc_row(sandbox_app, pair.bc_id), account_row(sandbox_app, pair.dataverse_id)
    assert (bc["city"], account["address1_city"]) == ("Aurora", "Aurora")
    assert (bc["phoneNumber"], account["telephone1"]) == ("+1 555 0111", "+1 555 0111")


async def test_type_the_value_of_a_conflicting_field_on_the_card(tui_backend: Backend, sandbox_app: Starlette) -> None:
    """e on the card: the typed City goes to both sides; the one-sided changes still flow."""
    from bc_tui.tui.dialogs.edit_value import EditValueDialog

    [pair] = await coupled_customers(tui_backend.session, sandbox_app, 1)
    conflict_with_changes_on_both_sides(sandbox_app, pair)
    app = FlowHost(tui_backend, start=lambda: CardScreen(MAPPING, pair.bc_id))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        card = app.screen
        await press_and_settle(pilot, "e")
        editor = app.screen
        assert isinstance(editor, EditValueDialog)
        assert "Business Central has 'Springfield'; Dataverse has 'Shelbyville'." in str(
            editor.query_one("#edit-values").content
        )
        await press_and_settle(pilot, "ctrl+u", *"Capitol Hill", "enter")
        assert app.screen is card
        assert card.edits == {"City": "Capitol Hill"}
        await press_and_settle(pilot, "s")
        dialog = app.screen
        assert isinstance(dialog, DirectionDialog)
        assert dialog.edits == {"City": "Capitol Hill"}
        why = str(dialog.query_one("#direction-reasons").content)
        assert "  • in Business Central: City 'Springfield' → 'Capitol Hill' (your value; " in why
        await press_and_settle(pilot, "3")
        await finish_job(pilot)
    bc, account = bc_row(sandbox_app, pair.bc_id), account_row(sandbox_app, pair.dataverse_id)
    assert (bc["city"], account["address1_city"]) == ("Capitol Hill", "Capitol Hill")
    assert account["telephone1"] == "+1 555 0100"
    assert bc["email"] == "sales@adatum.example.com"


async def test_send_the_whole_record_overwrites_every_field_that_differs(
    tui_backend: Backend, sandbox_app: Starlette
) -> None:
    """4: Business Central's record as a whole; the Why lists Dataverse's E-Mail change as lost."""
    [pair] = await coupled_customers(tui_backend.session, sandbox_app, 1)
    email_before = bc_row(sandbox_app, pair.bc_id)["email"]
    conflict_with_changes_on_both_sides(sandbox_app, pair)
    app = FlowHost(tui_backend, start=lambda: CardScreen(MAPPING, pair.bc_id))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press_and_settle(pilot, "s")
        dialog = app.screen
        assert isinstance(dialog, DirectionDialog)
        why = str(dialog.query_one("#direction-reasons").content)
        assert (
            "4 Send whole record writes:\n"
            "  • in Dataverse: City 'Shelbyville' → 'Springfield' (Dataverse's change is lost)\n"
            f"  • in Dataverse: E-Mail 'sales@adatum.example.com' → '{email_before}' (Dataverse's change is lost)\n"
        ) in why
        await press_and_settle(pilot, "4")
        assert dialog.whole_record
        await finish_job(pilot)
    account = account_row(sandbox_app, pair.dataverse_id)
    assert (account["address1_city"], account["emailaddress1"], account["telephone1"]) == (
        "Springfield",
        email_before,
        "+1 555 0100",
    )


def test_edit_value_dialog_snapshot(
    snap_compare: Any, sandbox_app: Starlette, sandbox_info: dict[str, Any], tui_database_url: str
) -> None:
    """e on the card's conflicting City: both values, and the input starting with the value kept."""
    backend = unstarted_backend(sandbox_app, sandbox_info, tui_database_url)
    app = FlowHost(backend, own_backend=True)

    async def open_editor(pilot: Any) -> None:
        [pair] = await coupled_customers(backend.session, sandbox_app, 1)
        edit_bc(sandbox_app, pair.bc_id, city="Springfield")
        await next_second()  # Dataverse changed last: its City is kept until the user types
        edit_account(sandbox_app, pair.dataverse_id, address1_city="Shelbyville")
        app.push_screen(CardScreen(MAPPING, pair.bc_id))
        await settle(pilot)
        await press_and_settle(pilot, "e")
        hold_cursor_shown(app)

    assert snap_compare(app, terminal_size=SNAPSHOT_SIZE, run_before=open_editor)
