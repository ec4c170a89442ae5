"""Per-field winners (docs/coupling-and-sync.md "Per-field winners"): which fields need a pick,
the recommended side and why, and what each choice overwrites — checked against what the
synchronization then writes in the sandbox."""

from __future__ import annotations

from dataclasses import replace

from starlette.applications import Starlette

from bc_tui.domain.mappings import ConflictResolution, SyncDirection
from bc_tui.sync.field_picks import Overwrite, picks_advice, record_choices
from bc_tui.sync.preview import preview_sync
from bc_tui.sync.session import SyncSession
from bc_tui.sync.synchronize import synchronize_one
from tests.sync.coupled_pairs import MAPPING, account_row, bc_row, coupled_customers, edit_account, edit_bc, next_second

SEND, GET, MERGE = SyncDirection.TO_DATAVERSE, SyncDirection.FROM_DATAVERSE, SyncDirection.MERGE


async def conflicting_pair(session: SyncSession, sandbox_app: Starlette):
    """City changed on both sides (Dataverse last), Phone No. in BC only, E-Mail in Dataverse only."""
    [pair] = await coupled_customers(session, sandbox_app, 1)
    edit_bc(sandbox_app, pair.bc_id, city="Springfield", phoneNumber="+1 555 0100")
    await next_second()
    edit_account(sandbox_app, pair.dataverse_id, address1_city="Shelbyville", emailaddress1="sales@adatum.example.com")
    return pair


async def test_the_conflicting_field_needs_a_pick_and_the_side_changed_last_is_recommended(
    session: SyncSession, sandbox_app: Starlette
) -> None:
    pair = await conflicting_pair(session, sandbox_app)
    preview = await preview_sync(session, MAPPING, pair.bc_id)
    choices = record_choices(session, preview)
    [pick] = choices.picks
    assert (pick.label, pick.bc_value, pick.dataverse_value) == ("City", "Springfield", "Shelbyville")
    assert pick.recommended is GET
    assert pick.reason == "the Dataverse record was changed last"
    assert choices.recommended() == {"City": GET}
    # Merge is offered beside send and get, and recommended.
    assert preview.recommendation is not None
    advice = picks_advice(preview.recommendation, choices.picks)
    assert advice.offered == (SEND, GET, MERGE)
    assert advice.recommended is MERGE
    assert advice.warning is not None and "City" in advice.warning


async def test_the_mapping_policy_decides_the_recommended_winner(session: SyncSession, sandbox_app: Starlette) -> None:
    pair = await conflicting_pair(session, sandbox_app)
    session.mappings[MAPPING] = replace(session.mappings[MAPPING], resolve_update_conflicts=ConflictResolution.SEND)
    preview = await preview_sync(session, MAPPING, pair.bc_id)
    [pick] = record_choices(session, preview).picks
    assert pick.recommended is SEND
    assert pick.reason == "the table mapping resolves update conflicts in favour of Business Central"


async def test_send_and_get_win_only_the_conflicting_field(session: SyncSession, sandbox_app: Starlette) -> None:
    pair = await conflicting_pair(session, sandbox_app)
    old_phone = account_row(sandbox_app, pair.dataverse_id)["telephone1"]
    old_email = bc_row(sandbox_app, pair.bc_id)["email"]
    choices = record_choices(session, await preview_sync(session, MAPPING, pair.bc_id))
    # Send: Business Central wins City; E-Mail (changed in Dataverse only) still flows to BC.
    assert choices.overwrites(SEND) == (
        Overwrite("City", "Dataverse", "Shelbyville", "Springfield", loses_change=True),
        Overwrite("E-Mail", "Business Central", old_email, "sales@adatum.example.com", loses_change=False),
        Overwrite("Phone No.", "Dataverse", old_phone, "+1 555 0100", loses_change=False),
    )
    # Get: Dataverse wins City; Phone No. (changed in BC only) still flows to Dataverse.
    assert choices.overwrites(GET) == (
        Overwrite("City", "Business Central", "Springfield", "Shelbyville", loses_change=True),
        Overwrite("E-Mail", "Business Central", old_email, "sales@adatum.example.com", loses_change=False),
        Overwrite("Phone No.", "Dataverse", old_phone, "+1 555 0100", loses_change=False),
    )


async def test_a_whole_record_overwrites_every_field_that_differs(session: SyncSession, sandbox_app: Starlette) -> None:
    pair = await conflicting_pair(session, sandbox_app)
    old_phone = account_row(sandbox_app, pair.dataverse_id)["telephone1"]
    old_email = bc_row(sandbox_app, pair.bc_id)["email"]
    choices = record_choices(session, await preview_sync(session, MAPPING, pair.bc_id))
    said = choices.overwrites(SEND, whole_record=True)
    assert said == (
        Overwrite("City", "Dataverse", "Shelbyville", "Springfield", loses_change=True),
        Overwrite("E-Mail", "Dataverse", "sales@adatum.example.com", old_email, loses_change=True),
        Overwrite("Phone No.", "Dataverse", old_phone, "+1 555 0100", loses_change=False),
    )
    summary = await synchronize_one(session, MAPPING, pair.bc_id, SEND, whole_record=True)
    assert summary.count("modified") == 1
    account = account_row(sandbox_app, pair.dataverse_id)
    assert (account["address1_city"], account["emailaddress1"], account["telephone1"]) == (
        "Springfield",
        old_email,
        "+1 555 0100",
    )


async def test_merge_with_picks_writes_exactly_what_the_why_said(session: SyncSession, sandbox_app: Starlette) -> None:
    pair = await conflicting_pair(session, sandbox_app)
    choices = record_choices(session, await preview_sync(session, MAPPING, pair.bc_id))
    picked = {"City": SEND}  # against the recommendation
    said = choices.overwrites(MERGE, picked)
    assert [(o.label, o.side, o.new, o.loses_change, o.picked) for o in said] == [
        ("City", "Dataverse", "Springfield", True, True),
        ("E-Mail", "Business Central", "sales@adatum.example.com", False, False),
        ("Phone No.", "Dataverse", "+1 555 0100", False, False),
    ]
    summary = await synchronize_one(session, MAPPING, pair.bc_id, MERGE, choices=picked)
    assert summary.count("modified") == 1
    bc, account = bc_row(sandbox_app, pair.bc_id), account_row(sandbox_app, pair.dataverse_id)
    assert (account["address1_city"], account["telephone1"]) == ("Springfield", "+1 555 0100")
    assert (bc["city"], bc["email"]) == ("Springfield", "sales@adatum.example.com")
    # Nothing is left to pick, and nothing more to write.
    after = record_choices(session, await preview_sync(session, MAPPING, pair.bc_id))
    assert after.picks == ()
    assert after.overwrites(MERGE) == ()


async def test_an_edited_value_goes_to_both_sides(session: SyncSession, sandbox_app: Starlette) -> None:
    pair = await conflicting_pair(session, sandbox_app)
    choices = record_choices(session, await preview_sync(session, MAPPING, pair.bc_id))
    [pick] = choices.picks
    assert pick.editable  # City is text
    edits = {"City": "Springfield East"}
    said = [o for o in choices.overwrites(MERGE, choices.recommended(), edits) if o.label == "City"]
    assert [(o.side, o.old, o.new, o.edited, o.loses_change) for o in said] == [
        ("Dataverse", "Shelbyville", "Springfield East", True, True),
        ("Business Central", "Springfield", "Springfield East", True, True),
    ]
    summary = await synchronize_one(session, MAPPING, pair.bc_id, MERGE, edits=edits)
    assert summary.count("modified") == 1
    assert bc_row(sandbox_app, pair.bc_id)["city"] == "Springfield East"
    assert account_row(sandbox_app, pair.dataverse_id)["address1_city"] == "Springfield East"


async def test_a_record_without_conflicts_has_nothing_to_pick(session: SyncSession, sandbox_app: Starlette) -> None:
    [pair] = await coupled_customers(session, sandbox_app, 1)
    edit_bc(sandbox_app, pair.bc_id, phoneNumber="+1 555 0100")
    preview = await preview_sync(session, MAPPING, pair.bc_id)
    choices = record_choices(session, preview)
    assert choices.picks == ()
    assert preview.recommendation is not None
    assert picks_advice(preview.recommendation, choices.picks) is preview.recommendation
