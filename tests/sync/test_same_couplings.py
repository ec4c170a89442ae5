"""Two jobs on the same couplings: each coupling is written by one job only, the other waits for
it or skips it with a sentence naming the job, and never reports a conflict nobody made."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette

from bc_tui.domain.mappings import SyncDirection
from bc_tui.domain.outcomes import Outcome
from bc_tui.store import claims, jobs
from bc_tui.store.coupling_queries import couplings_by_bc_id, get_coupling
from bc_tui.store.jobs import JobStatus, JobType
from bc_tui.store.records import SyncResult
from bc_tui.sync import claiming
from bc_tui.sync.engine import run_pairs
from bc_tui.sync.modified import synchronize_modified
from bc_tui.sync.pairs import load_pairs
from bc_tui.sync.progress import JobRun, Progress
from bc_tui.sync.session import SyncSession
from bc_tui.sync.synchronize import synchronize_many
from tests.sync.coupled_pairs import MAPPING, account_row, coupled_customers, edit_bc

SEND = SyncDirection.TO_DATAVERSE


async def test_a_coupling_another_job_holds_is_skipped_with_a_sentence_and_synchronized_next_run(
    session: SyncSession, sandbox_app: Starlette, monkeypatch: pytest.MonkeyPatch
) -> None:
    pairs = await coupled_customers(session, sandbox_app, 5)
    for i, pair in enumerate(pairs):
        edit_bc(sandbox_app, pair.bc_id, city=f"Claimed City {i}")
    held, free = pairs[:3], pairs[3:]
    # Another bc-tui (another process, say) is synchronizing three of them right now.
    other = jobs.start_job(JobType.SYNCHRONIZATION, mapping=MAPPING, direction="bidirectional")
    assert claims.claim(other.id, [c.id for c in held]).claimed == {c.id for c in held}
    monkeypatch.setattr(claiming, "CLAIM_WAIT_SECONDS", 0.0)  # do not wait for it: skip at once

    first = await synchronize_modified(session, MAPPING)

    started = other.started_at.strftime("%H:%M")
    for pair in held:
        result = first.result_for(pair.bc_id)
        assert result.outcome is Outcome.SKIPPED
        assert result.message.endswith(
            f"was skipped: synchronization job {other.id} (started {started} UTC) was synchronizing it at the "
            "same time; it will be synchronized in the next run."
        )
        assert account_row(sandbox_app, pair.dataverse_id)["address1_city"] != f"Claimed City {pairs.index(pair)}"
        coupling = get_coupling(pair.id)
        assert coupling.to_dataverse_result is SyncResult.FAILURE  # so the next run retries it
        assert not coupling.skipped
    for pair in free:
        assert first.result_for(pair.bc_id).outcome is Outcome.MODIFIED
    assert first.count(Outcome.CONFLICT) == first.count(Outcome.FAILED) == 0
    assert "3 records were skipped" in first.message

    # The other job ends (here: its process died and it was marked interrupted); its claims no
    # longer count, and the next run synchronizes what was skipped.
    jobs.finish_job(other.id, JobStatus.CRASHED)
    second = await synchronize_modified(session, MAPPING)

    for i, pair in enumerate(pairs):
        assert account_row(sandbox_app, pair.dataverse_id)["address1_city"] == f"Claimed City {i}"
    assert {second.result_for(p.bc_id).outcome for p in held} == {Outcome.MODIFIED}
    assert second.count(Outcome.CONFLICT) == second.count(Outcome.FAILED) == second.count(Outcome.SKIPPED) == 0
    assert [c for c in couplings_by_bc_id(MAPPING, [p.bc_id for p in pairs]).values() if c.failed] == []


async def test_a_job_waits_for_a_held_coupling_and_then_synchronizes_it(
    session: SyncSession, sandbox_app: Starlette
) -> None:
    pairs = await coupled_customers(session, sandbox_app, 3)
    for pair in pairs:
        edit_bc(sandbox_app, pair.bc_id, city="Waited City")
    other = jobs.start_job(JobType.SYNCHRONIZATION, mapping=MAPPING)
    claims.claim(other.id, [c.id for c in pairs])
    said: list[str] = []

    def progress(now: Progress) -> None:
        if now.current and now.current.startswith("waiting for") and not said:
            said.append(now.current)
            jobs.finish_job(other.id)  # the other job is done with them

    summary = await synchronize_many(session, MAPPING, [p.bc_id for p in pairs], SEND, progress=progress)

    assert said == [f"waiting for synchronization job {other.id}, which is synchronizing 3 of these records"]
    assert {summary.result_for(p.bc_id).outcome for p in pairs} == {Outcome.MODIFIED}
    assert {account_row(sandbox_app, p.dataverse_id)["address1_city"] for p in pairs} == {"Waited City"}


async def test_a_job_that_read_before_another_job_wrote_reads_again_instead_of_reporting_a_conflict(
    session: SyncSession, sandbox_app: Starlette
) -> None:
    pairs = await coupled_customers(session, sandbox_app, 4)
    for pair in pairs:
        edit_bc(sandbox_app, pair.bc_id, city="Raced City")
    mapping = session.mapping(MAPPING)
    ids = [p.bc_id for p in pairs]
    # Job B reads the records and couplings first ...
    stale = await load_pairs(session, mapping, ids)
    # ... job A synchronizes the same couplings in the meantime ...
    first = await synchronize_many(session, MAPPING, ids, SEND)
    assert {first.result_for(i).outcome for i in ids} == {Outcome.MODIFIED}
    # ... then B gets the claims: it must not write from its stale ETags (412: a false conflict).
    async with JobRun(JobType.SYNCHRONIZATION, mapping=MAPPING, direction=SEND.value) as run:
        await run_pairs(session, mapping, SEND, stale, run, many=True)
    second = run.summary

    assert {second.result_for(i).outcome for i in ids} == {Outcome.UNCHANGED}
    assert {account_row(sandbox_app, p.dataverse_id)["address1_city"] for p in pairs} == {"Raced City"}
    assert all(get_coupling(p.id).to_dataverse_job_id == first.job_id for p in pairs)
