"""Settling an interrupted creation names the record as the user knows it (number and name)."""

from __future__ import annotations

import uuid

from starlette.applications import Starlette
from sync_demo import customers_without_account

from bc_tui.connectors import DataverseAccount
from bc_tui.domain.mappings import SyncDirection
from bc_tui.store import jobs
from bc_tui.store.coupling_queries import get_by_bc_id
from bc_tui.store.create_intents import begin_create_intent
from bc_tui.store.jobs import JobStatus, JobType
from bc_tui.store.records import Side
from bc_tui.sync.session import SyncSession
from bc_tui.sync.synchronize import synchronize_many


async def test_settled_intents_name_the_customer_by_number_and_name(
    session: SyncSession, sandbox_app: Starlette
) -> None:
    made, never = customers_without_account(sandbox_app)[:2]
    ended = jobs.finish_job(jobs.start_job(JobType.CREATION, mapping="CUSTOMER").id, JobStatus.CRASHED)
    planned = [str(uuid.uuid4()) for _ in range(2)]
    for customer, guid in zip((made, never), planned, strict=True):
        begin_create_intent("CUSTOMER", Side.BC, customer["id"], guid, job_id=ended.id)
    await session.dataverse.create(DataverseAccount, {"accountid": planned[0], "name": made["displayName"]})

    summary = await synchronize_many(session, "CUSTOMER", [], SyncDirection.TO_DATAVERSE)

    settle = jobs.get_job(summary.job_id - 1)
    [error] = jobs.job_errors(settle.id)
    named = f"customer {never['number']} {never['displayName']}"
    assert (
        error.message
        == f"The interrupted creation of the counterpart of the {named} never reached Dataverse; create it again."
    )
    assert error.source_description == named and never["id"] not in error.message
    # The adopted creation keeps the number and name, as a coupling made by any other path does.
    adopted = get_by_bc_id("CUSTOMER", made["id"])
    assert (adopted.bc_number, adopted.display_name) == (made["number"], made["displayName"])
