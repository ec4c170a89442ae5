"""A create-and-couple job run in its own process, so that tests can kill it with SIGKILL.

Usage: python crash_worker.py <sandbox-info.json> <database-url> <to-dataverse|from-dataverse>
Creates the counterpart of every uncoupled record of CUSTOMER in the given direction (duplicates
allowed: the point is that each source record gets exactly one) and prints the job's counters.
"""

from __future__ import annotations

import asyncio
import json
import sys

from bc_tui.config import profile_from_sandbox_info
from bc_tui.store import couplings
from bc_tui.sync.create import create_in_bc, create_in_dataverse
from bc_tui.sync.records import iter_bc, iter_dataverse
from bc_tui.sync.session import open_session


async def main(info_path: str, database_url: str, direction: str) -> None:
    with open(info_path, encoding="utf-8") as handle:
        profile = profile_from_sandbox_info(json.load(handle))
    async with open_session(profile, database_url) as session:
        mapping = session.mapping("CUSTOMER")
        if direction == "to-dataverse":
            ids = [r["id"] async for r in iter_bc(session, mapping, select=("id",))]
            coupled = couplings.couplings_by_bc_id(mapping.name, ids)
            ids = [i for i in ids if couplings.normalize_id(i) not in coupled]
            summary = await create_in_dataverse(session, mapping.name, ids, allow_duplicates=True)
        else:
            ids = [r["accountid"] async for r in iter_dataverse(session, mapping, select=("accountid",))]
            coupled = couplings.couplings_by_dataverse_id(mapping.name, ids)
            ids = [i for i in ids if couplings.normalize_id(i) not in coupled]
            summary = await create_in_bc(session, mapping.name, ids, allow_duplicates=True)
    print(json.dumps(summary.counters), flush=True)


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
