"""Settling the create intents an ended job left: before every job on the mapping, in a job of its own."""

from __future__ import annotations

import uuid

from starlette.applications import Starlette
from sync_demo import customers_without_account

from bc_tui.connectors import DataverseAccount
from bc_tui.domain.mappings import SyncDirection
from bc_tui.store import jobs
from bc_tui.store.coupling_queries import get_by_bc_id
from bc_tui.store.coupling_writes import couple
from bc_tui.store.create_intents import begin_create_intent, pending_intents
from bc_tui.store.jobs import JobStatus, JobType
from bc_tui.store.records import Side
from bc_tui.sync.session import SyncSession
from bc_tui.sync.synchronize import synchronize_many
from bc_tui.sync.uncouple import delete_couplings


async def test_any_job_on_the_mapping_settles_what_an_ended_job_left(
    session: SyncSession, sandbox_app: Starlette
) -> None:
    made, never, coupled_since = customers_without_account(sandbox_app)[:3]
    ended = jobs.finish_job(jobs.start_job(JobType.CREATION, mapping="CUSTOMER").id, JobStatus.CRASHED)
    planned = [str(uuid.uuid4()) for _ in range(3)]
    for customer, guid in zip((made, never, coupled_since), planned, strict=True):
        begin_create_intent("CUSTOMER", Side.BC, customer["id"], guid, job_id=ended.id)
    await session.dataverse.create(DataverseAccount, {"accountid": planned[0], "name": made["displayName"]})
    await session.dataverse.create(DataverseAccount, {"accountid": planned[2], "name": coupled_since["displayName"]})
    other_account = str(uuid.uuid4())
    await session.dataverse.create(DataverseAccount, {"accountid": other_account, "name": "Coupled by hand"})
    couple("CUSTOMER", coupled_since["id"], other_account)
    # A job on CONTACT leaves CUSTOMER's intents alone.
    await synchronize_many(session, "CONTACT", [], SyncDirection.TO_DATAVERSE)
    assert len(pending_intents("CUSTOMER")) == 3

    summary = await synchronize_many(session, "CUSTOMER", [], SyncDirection.TO_DATAVERSE)
    settle = jobs.get_job(summary.job_id - 1)
    assert (settle.type, settle.mapping, settle.status) == (JobType.CREATION, "CUSTOMER", JobStatus.FINISHED)
    assert (settle.inserted, settle.skipped, settle.total) == (1, 2, 3)
    assert pending_intents() == []
    assert get_by_bc_id("CUSTOMER", made["id"]).dataverse_id == planned[0]
    assert get_by_bc_id("CUSTOMER", never["id"]) is None  # the next create starts cleanly
    assert get_by_bc_id("CUSTOMER", coupled_since["id"]).dataverse_id == other_account
    reasons = {e.bc_id: e.message for e in jobs.job_errors(settle.id)}
    assert reasons[never["id"]].endswith("never reached Dataverse; create it again.")
    assert reasons[coupled_since["id"]].endswith(f"the record it created ({planned[2]}) stays uncoupled.")


async def test_intents_of_a_live_running_job_are_not_touched(session: SyncSession, sandbox_app: Starlette) -> None:
    customer = customers_without_account(sandbox_app)[0]
    running = jobs.start_job(JobType.CREATION, mapping="CUSTOMER")  # this very process runs it
    intent = begin_create_intent("CUSTOMER", Side.BC, customer["id"], str(uuid.uuid4()), job_id=running.id)
    summary = await synchronize_many(session, "CUSTOMER", [], SyncDirection.TO_DATAVERSE)
    assert summary.job_id == running.id + 1  # no settling job was needed
    assert pending_intents() == [intent] and jobs.get_job(running.id).status is JobStatus.RUNNING


async def test_a_settlement_that_fails_is_logged_and_the_job_runs_anyway(
    session: SyncSession, sandbox_app: Starlette
) -> None:
    customer = customers_without_account(sandbox_app)[0]
    begin_create_intent("CUSTOMER", Side.BC, customer["id"], str(uuid.uuid4()))
    couple("CUSTOMER", "00000000-0000-0000-0000-00000000000b", "00000000-0000-0000-0000-00000000000d")
    await session.dataverse.aclose()  # Dataverse cannot be asked whether the account was made
    summary = await delete_couplings(session, "CUSTOMER", all_of_mapping=True)  # needs no service
    assert summary.status is JobStatus.FINISHED and summary.counters == {"uncoupled": 1}
    settle = jobs.get_job(summary.job_id - 1)
    assert (settle.type, settle.status) == (JobType.CREATION, JobStatus.CRASHED) and settle.message
    assert [i.source_id for i in pending_intents()] == [customer["id"]]  # waits for the next job
