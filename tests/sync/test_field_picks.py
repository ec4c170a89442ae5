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


async def test_send_and_get_overwrite_the_other_sides_record_as_a_whole(
    session: SyncSession, sandbox_app: Starlette
) -> None:
    pair = await conflicting_pair(session, sandbox_app)
    old_phone = account_row(sandbox_app, pair.dataverse_id)["telephone1"]
    old_email = bc_row(sandbox_app, pair.bc_id)["email"]
    choices = record_choices(session, await preview_sync(session, MAPPING, pair.bc_id))
    # Send: every field that differs goes to Dataverse; Dataverse loses its City and E-Mail changes.
    assert choices.overwrites(SEND) == (
        Overwrite("City", "Dataverse", "Shelbyville", "Springfield", loses_change=True),
        Overwrite("E-Mail", "Dataverse", "sales@adatum.example.com", old_email, loses_change=True),
        Overwrite("Phone No.", "Dataverse", old_phone, "+1 555 0100", loses_change=False),
    )
    # Get: the other way round; Business Central loses its City and Phone No. changes.
    assert choices.overwrites(GET) == (
        Overwrite("City", "Business Central", "Springfield", "Shelbyville", loses_change=True),
        Overwrite("E-Mail", "Business Central", old_email, "sales@adatum.example.com", loses_change=False),
        Overwrite("Phone No.", "Business Central", "+1 555 0100", old_phone, loses_change=True),
    )


async def test_merge_with_picks_writes_exactly_what_the_why_said(session: SyncSession, sandbox_app: Starlette) -> None:
    pair = await conflicting_pair(session, sandbox_app)
    choices = record_choices(session, await preview_sync(session, MAPPING, pair.bc_id))
    picked = {"City": SEND}  # against the recommendation
    said = choices.overwrites(MERGE, picked)
    assert [(o.label, o.side, o.old, o.new, o.loses_change, o.picked) for o in said] == [
        ("City", "Dataverse", "Shelbyville", "Springfield", True, True),
        ("Phone No.", "Dataverse", said[1].old, "+1 555 0100", False, False),
        ("E-Mail", "Business Central", said[2].old, "sales@adatum.example.com", False, False),
    ]
    summary = await synchronize_one(session, MAPPING, pair.bc_id, MERGE, choices=picked)
    assert summary.count("modified") == 1
    bc, account = bc_row(sandbox_app, pair.bc_id), account_row(sandbox_app, pair.dataverse_id)
    assert (account["address1_city"], account["telephone1"]) == ("Springfield", "+1 555 0100")
    assert (bc["city"], bc["email"]) == ("Springfield", "sales@adatum.example.com")
    # Nothing is left to pick, and nothing more to overwrite.
    after = record_choices(session, await preview_sync(session, MAPPING, pair.bc_id))
    assert after.picks == ()
    assert after.overwrites(MERGE) == ()


async def test_a_record_without_conflicts_has_nothing_to_pick(session: SyncSession, sandbox_app: Starlette) -> None:
    [pair] = await coupled_customers(session, sandbox_app, 1)
    edit_bc(sandbox_app, pair.bc_id, phoneNumber="+1 555 0100")
    preview = await preview_sync(session, MAPPING, pair.bc_id)
    choices = record_choices(session, preview)
    assert choices.picks == ()
    assert preview.recommendation is not None
    assert picks_advice(preview.recommendation, choices.picks) is preview.recommendation
