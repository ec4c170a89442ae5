"""A job run in its own process, so that tests can kill it with SIGKILL (or stop it with SIGSTOP).

Usage: python crash_worker.py <sandbox-info.json> <database-url> <job>
with <job> one of
  to-dataverse / from-dataverse: create the counterpart of every uncoupled record of CUSTOMER in
      that direction (duplicates allowed: the point is that each source record gets exactly one);
  match-create: match-based coupling of CUSTOMER with Create New;
  sync: synchronize every coupled CUSTOMER record to Dataverse (the BC side wins);
  hold: a creation job that stores its create intents for three uncoupled customers, creates the
      first account, prints "ready" and waits for a line on stdin (a live job, e.g. one waiting
      on a slow service), then finishes creating them.
Prints the job's counters.
"""

from __future__ import annotations

import asyncio
import json
import sys
import uuid

from bc_tui.config import ConnectionProfile, profile_from_sandbox_info
from bc_tui.connectors import DataverseAccount
from bc_tui.domain.mappings import SyncDirection
from bc_tui.store.coupling_queries import couplings_by_bc_id, couplings_by_dataverse_id, iter_couplings
from bc_tui.store.create_intents import begin_create_intent
from bc_tui.store.jobs import JobType
from bc_tui.store.records import Side, normalize_id
from bc_tui.sync.create import create_counterparts_in_dataverse, create_in_bc, create_in_dataverse
from bc_tui.sync.match import match_based_coupling
from bc_tui.sync.progress import JobRun, JobSummary
from bc_tui.sync.records import iter_records
from bc_tui.sync.session import SyncSession, open_session
from bc_tui.sync.sides import BC_SIDE, DATAVERSE_SIDE
from bc_tui.sync.synchronize import synchronize_many


def load_profile(info_path: str) -> ConnectionProfile:
    """The connection profile of the sandbox described in ``info_path``."""
    with open(info_path, encoding="utf-8") as handle:
        return profile_from_sandbox_info(json.load(handle))


async def main(profile: ConnectionProfile, database_url: str, direction: str) -> None:
    async with open_session(profile, database_url) as session:
        mapping = session.mapping("CUSTOMER")
        if direction == "hold":
            summary = await hold(session)
        elif direction == "match-create":
            summary = await match_based_coupling(session, mapping.name, create_new=True)
        elif direction == "sync":
            ids = [c.bc_id for c in iter_couplings(mapping.name)]
            summary = await synchronize_many(session, mapping.name, ids, SyncDirection.TO_DATAVERSE, whole_record=True)
        elif direction == "to-dataverse":
            ids = [r["id"] async for r in iter_records(BC_SIDE, session, mapping, select=("id",))]
            coupled = couplings_by_bc_id(mapping.name, ids)
            ids = [i for i in ids if normalize_id(i) not in coupled]
            summary = await create_in_dataverse(session, mapping.name, ids, allow_duplicates=True)
        else:
            ids = [r["accountid"] async for r in iter_records(DATAVERSE_SIDE, session, mapping, select=("accountid",))]
            coupled = couplings_by_dataverse_id(mapping.name, ids)
            ids = [i for i in ids if normalize_id(i) not in coupled]
            summary = await create_in_bc(session, mapping.name, ids, allow_duplicates=True)
    print(json.dumps(summary.counters), flush=True)


async def hold(session: SyncSession) -> JobSummary:
    """A creation job that stays running, with pending intents, until told to go on."""
    mapping = session.mapping("CUSTOMER")
    ids = [r["id"] async for r in iter_records(BC_SIDE, session, mapping, select=("id",))]
    coupled = couplings_by_bc_id(mapping.name, ids)
    ids = [normalize_id(i) for i in ids if normalize_id(i) not in coupled][:3]
    async with JobRun(JobType.CREATION, mapping=mapping.name, total=len(ids), session=session) as run:
        intents = [begin_create_intent(mapping.name, Side.BC, i, str(uuid.uuid4()), job_id=run.job_id) for i in ids]
        await session.dataverse.create(DataverseAccount, {"accountid": intents[0].planned_id, "name": f"Held {ids[0]}"})
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.readline)
        await create_counterparts_in_dataverse(session, mapping, ids, run, allow_duplicates=True)
    print(json.dumps([[i.source_id, i.planned_id] for i in intents]), flush=True)
    return run.summary


if __name__ == "__main__":
    asyncio.run(main(load_profile(sys.argv[1]), *sys.argv[2:4]))
