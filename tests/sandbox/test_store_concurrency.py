"""Two processes' worth of connections writing one sandbox data file at once lose nothing.

The server's store and ``bc-tui sandbox edit`` share the SQLite file; each catches up with the
other's commits. A commit landing between reading the version counter and reading the rows
(at open, or right after a commit) used to be taken as loaded: its rows never reached the
other's memory, its version numbers were handed out again, and the next write undid it.
"""

from __future__ import annotations

import random
import threading
from pathlib import Path

from bc_tui.sandbox.demo_data import ensure_seeded
from bc_tui.sandbox.settings import SandboxSettings
from bc_tui.sandbox.store import EntityStore

EDITOR_RUNS = 40  # each opens the file, as one `bc-tui sandbox edit` does
EDITS_PER_RUN = 15


def test_concurrent_writers_see_every_commit_of_the_other(tmp_path: Path) -> None:
    server = EntityStore(tmp_path / "sandbox.sqlite")
    ensure_seeded(server, SandboxSettings(data_dir=tmp_path, customers=100))
    keys = [r["accountid"] for r in server.rows("dv/accounts")]
    editors_done = threading.Event()
    errors: list[BaseException] = []

    def editor(seed: int) -> None:
        rng = random.Random(seed)
        try:
            for run in range(EDITOR_RUNS):
                store = EntityStore(tmp_path / "sandbox.sqlite")
                try:
                    for n in range(EDITS_PER_RUN):
                        store.update("dv/accounts", rng.choice(keys), {"telephone1": f"+1 555 {seed}{run:02d}{n:02d}"})
                finally:
                    store.close()
        except BaseException as error:  # noqa: BLE001 - any failure in the thread is surfaced below
            errors.append(error)

    def serve() -> None:
        rng = random.Random(0)
        try:
            while not editors_done.is_set():
                server.refresh()  # as the app does at the start of every request
                server.update("dv/accounts", rng.choice(keys), {"address1_city": f"City {rng.randint(1, 999)}"})
        except BaseException as error:  # noqa: BLE001 - any failure in the thread is surfaced below
            errors.append(error)

    editors = [threading.Thread(target=editor, args=(seed,)) for seed in (1, 2)]
    serving = threading.Thread(target=serve)
    serving.start()
    for thread in editors:
        thread.start()
    for thread in editors:
        thread.join(timeout=120)
    editors_done.set()
    serving.join(timeout=120)
    assert errors == []

    server.refresh()
    on_disk = EntityStore(tmp_path / "sandbox.sqlite")
    try:
        stale = [k for k in keys if server.get("dv/accounts", k) != on_disk.get("dv/accounts", k)]
        versions = [r["_version"] for s in ("dv/accounts", "bc/customers") for r in on_disk.rows(s)]
    finally:
        on_disk.close()
        server.close()
    assert stale == []
    assert len(versions) == len(set(versions))  # no version number was handed out twice
