"""Colleagues edit both sides while ``bc-tui sync --modified`` runs, with two bc-tui writers.

Usage: ``python benchmarks/colleague_editing.py [--records 10000] [--postgres-url URL] [--old sqlite|both|none]``

The sandbox runs in its own process (real HTTP on loopback). For each coupling database
(SQLite, then PostgreSQL from ``--postgres-url`` or ``BC_TUI_TEST_POSTGRES_URL``; skipped with a
printed line when there is none) and each watermark strategy (the current one; then, by
default on SQLite only, the old "newest modified time seen" for comparison, selected by the
private switch in ``bc_tui.sync.modified``; the database plays no part in that difference):

1. ``--records`` demo customers get a Dataverse account and a coupling, and one
   ``sync --modified`` sets the baseline (in this process, through the Python API);
2. every coupled customer is changed in BC (a new phone number), so the runs have work to do;
3. at the same time, as separate processes: two colleagues loop ``bc-tui sandbox edit`` on BC
   and on Dataverse; writer A runs ``bc-tui sync --modified`` (the cron job); writer B runs
   ``bc-tui sync --modified`` too, started a second later while A goes (a second bc-tui on the
   same coupling database);
4. when the writers are done the colleagues stop, and one final ``bc-tui sync --modified`` runs.

Then it reads both services' data and the coupling database and prints: the edits made to
coupled records, the edits lost (a field whose last edit is not on both sides, while the
coupling is not listed as a conflict or failure: must be 0), the conflicts reported (couplings
``bc-tui errors`` lists), and the two-writer crashes (bc-tui processes that ended with a
traceback or "database is locked": must be 0).
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import contextlib
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _sandbox import sandbox_process

from bc_tui.config import profile_from_sandbox_info
from bc_tui.sandbox.store import EntityStore
from bc_tui.store import database as store_database
from bc_tui.store.coupling_queries import iter_couplings, problem_couplings
from bc_tui.store.models import ALL_MODELS
from bc_tui.sync import modified
from bc_tui.sync.create import create_in_dataverse
from bc_tui.sync.session import open_session

MAPPING = "CUSTOMER"
#: The field mappings the colleagues edit: label -> (BC field, Dataverse attribute).
EDITED = {
    "Phone No.": ("phoneNumber", "telephone1"),
    "City": ("city", "address1_city"),
    "E-Mail": ("email", "emailaddress1"),
}
BC_FIELDS = {bc: label for label, (bc, _) in EDITED.items()}
DV_FIELDS = {dv: label for label, (_, dv) in EDITED.items()}
#: "Changed BC customer 10000 'Adatum': phoneNumber '+1 555' -> '+1 555 123 4567', city 'A' -> 'B'"
CHANGED = re.compile(r"^Changed (BC customer|Dataverse account) (\S+) .*?: (.*)$")
CHANGE = re.compile(
    r"(\w+) (?:'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|None) -> ('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")"
)
#: What a crashed bc-tui process leaves in its output ("Unexpected error … please report it" is
#: how the CLI ends on an exception it did not expect).
CRASH = ("Traceback", "database is locked", "Unexpected error")
#: Writer B on or off (``--one-writer`` turns it off, to tell watermark losses from two-writer trouble).
TWO_WRITERS = True
#: Keep the sandbox data and coupling databases for a look afterwards (``--keep``).
KEEP = False
#: The old strategy, for comparison: the CLI with the private switch of bc_tui.sync.modified set.
OLD_CLI = "import sys, bc_tui.sync.modified as m; m._NEWEST_SEEN_WATERMARK = True; from bc_tui.cli import main; sys.exit(main())"


@dataclass
class Edit:
    side: str  # "bc" / "dv"
    key: str  # BC number / Dataverse accountid
    label: str
    value: str


@dataclass
class Colleague:
    """Loops ``bc-tui sandbox edit`` on one side until stopped; keeps every change it printed."""

    side: str
    data_dir: Path
    env: dict[str, str]
    count: int = 25
    #: Seconds between two ``edit`` runs: about 40 edits a second from both colleagues together,
    #: the pace of the original report (2,270 edits during one 10,000-record run).
    pause: float = 0.5
    edits: list[Edit] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    failures: list[str] = field(default_factory=list)

    def run(self) -> None:
        seed = 1 if self.side == "bc" else 100_001
        while not self.stop.is_set():
            seed += 1
            result = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "bc_tui.cli",
                    "sandbox",
                    "edit",
                    "--side",
                    "bc" if self.side == "bc" else "dataverse",
                    "--count",
                    str(self.count),
                    "--seed",
                    str(seed),
                    "--data",
                    str(self.data_dir),
                ],
                capture_output=True,
                text=True,
                env=self.env,
                timeout=120,
            )
            if result.returncode != 0:
                self.failures.append(
                    result.stderr.strip().splitlines()[-1] if result.stderr.strip() else f"exit {result.returncode}"
                )
            # Each change is committed before it is printed: what was printed happened.
            for line in result.stdout.splitlines():
                self._parse(line)
            self.stop.wait(self.pause)

    def _parse(self, line: str) -> None:
        match = CHANGED.match(line)
        if not match:
            return
        fields = BC_FIELDS if self.side == "bc" else DV_FIELDS
        for name, value in CHANGE.findall(match.group(3)):
            if name in fields:
                self.edits.append(Edit(self.side, match.group(2), fields[name], _literal(value)))


def _literal(text: str) -> str:
    return str(ast.literal_eval(text))


@dataclass
class Writer:
    """One bc-tui process: its command, exit code and output."""

    name: str
    code: int | None = None
    out: str = ""
    err: str = ""
    seconds: float = 0.0

    @property
    def crashed(self) -> bool:
        return any(sign in self.out or sign in self.err for sign in CRASH)


def run_writer(name: str, args: list[str], env: dict[str, str], old: bool, into: list[Writer]) -> None:
    command = [sys.executable, "-c", OLD_CLI, *args] if old else [sys.executable, "-m", "bc_tui.cli", *args]
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=900)
    into.append(Writer(name, result.returncode, result.stdout, result.stderr, time.perf_counter() - started))


def write_config(path: Path, info: dict[str, Any]) -> None:
    origin = info["dataverse_api"].split("/api/data/")[0]
    path.write_text(
        'profile = "bench"\n\n[profiles.bench]\n'
        f'tenant = "{info["tenant"]}"\nclient_id = "{info["client_id"]}"\n'
        f'bc_environment = "{info["environment"]}"\nbc_company_id = "{info["company_id"]}"\n'
        f'dataverse_url = "{origin}"\ntoken_url = "{info["token_url"]}"\n'
        f'bc_api_url = "{info["bc_api"]}"\ndataverse_api_url = "{info["dataverse_api"]}"\n'
        f'bc_scope = "{info["bc_scope"]}"\ndataverse_scope = "{info["dataverse_scope"]}"\n'
    )


def wipe_postgres(url: str) -> None:
    db = store_database.connect(url)
    try:
        db.drop_tables(list(ALL_MODELS), safe=True, cascade=True)
    finally:
        store_database.close()


async def couple(info: dict[str, Any], database_url: str, ids: list[str], old: bool) -> None:
    """Accounts and couplings for ``ids``, then the baseline ``sync --modified``."""
    modified._NEWEST_SEEN_WATERMARK = old
    try:
        async with open_session(profile_from_sandbox_info(info), database_url) as session:
            created = await create_in_dataverse(session, MAPPING, ids, allow_duplicates=True)
            if created.count("inserted") != len(ids):
                raise SystemExit(f"only {created.count('inserted')} of {len(ids)} customers got an account")
            baseline = await modified.synchronize_modified(session, MAPPING)
            if baseline.count("failed"):
                raise SystemExit(f"the baseline synchronization failed for {baseline.count('failed')} records")
    finally:
        modified._NEWEST_SEEN_WATERMARK = False


def unblocked_customer_ids(data_file: Path, start: int, count: int) -> list[str]:
    store = EntityStore(data_file)
    try:
        rows = [r for r in store.rows("bc/customers") if r.get("blocked") in (" ", "", None)]
    finally:
        store.close()
    if len(rows) < start + count:
        raise SystemExit(f"the sandbox has only {len(rows)} unblocked customers")
    return [r["id"] for r in rows[start : start + count]]


def change_all(data_file: Path, ids: list[str], round_: int) -> None:
    """Every coupled customer gets a new phone number in BC (the work for the first run)."""
    store = EntityStore(data_file)
    try:
        with store.atomic():
            for n, bc_id in enumerate(ids):
                store.update("bc/customers", bc_id, {"phoneNumber": f"+1 777 {round_:02d}{n:05d}"})
    finally:
        store.close()


@dataclass
class Figures:
    edits: int
    lost: int
    conflicts: int
    crashes: int
    seconds: float
    lost_examples: list[str]


def tally(
    data_file: Path, database_url: str, colleagues: list[Colleague], writers: list[Writer], seconds: float
) -> Figures:
    """Compare both sides field by field with the colleagues' last edits."""
    store = EntityStore(data_file)
    try:
        customers = {r["id"]: r for r in store.rows("bc/customers")}
        accounts = {r["accountid"]: r for r in store.rows("dv/accounts")}
    finally:
        store.close()
    store_database.connect(database_url)
    try:
        pairs = list(iter_couplings(MAPPING))
        problems = {c.bc_id for c in problem_couplings(MAPPING) if c.failed or c.skipped or c.broken}
    finally:
        store_database.close()
    by_bc_id = {c.bc_id: c for c in pairs}
    by_number = {customers[c.bc_id]["number"]: c for c in pairs if c.bc_id in customers}
    by_account = {c.dataverse_id: c for c in pairs}
    last: dict[tuple[str, str], dict[str, str]] = {}  # (bc_id, label) -> side -> last value
    edits = 0
    for colleague in colleagues:
        for edit in colleague.edits:
            pair = by_number.get(edit.key) if edit.side == "bc" else by_account.get(edit.key)
            if pair is None:
                continue  # an uncoupled record: not ours to synchronize
            edits += 1
            last.setdefault((pair.bc_id, edit.label), {})[edit.side] = edit.value
    lost, examples = 0, []
    for (bc_id, label), sides in last.items():
        if bc_id in problems:
            continue  # reported: `bc-tui errors` lists it
        coupling = by_bc_id[bc_id]
        bc_field, dv_field = EDITED[label]
        bc_value = customers[bc_id].get(bc_field) or ""
        dv_value = accounts[coupling.dataverse_id].get(dv_field) or ""
        if bc_value != dv_value or bc_value not in sides.values():
            lost += 1
            if len(examples) < 3:
                examples.append(
                    f"{customers[bc_id]['number']} {label}: BC {bc_value!r}, Dataverse {dv_value!r}, last edits {sides}"
                )
    crashes = sum(1 for w in writers if w.crashed)
    return Figures(edits, lost, len(problems), crashes, seconds, examples)


def scenario(info: dict[str, Any], data_dir: Path, database_url: str, ids: list[str], old: bool, tmp: Path) -> Figures:
    data_file = data_dir / "sandbox.sqlite"
    config = tmp / "config.toml"
    write_config(config, info)
    env = {
        **os.environ,
        "BC_TUI_CONFIG": str(config),
        "BC_TUI_CLIENT_SECRET": info["client_secret"],
        "BC_TUI_DATA_DIR": str(tmp / "bc-tui-data"),
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("BC_TUI_DATABASE_URL", None)
    setup = time.perf_counter()
    asyncio.run(couple(info, database_url, ids, old))
    change_all(data_file, ids, 2 if old else 1)
    print(f"    {len(ids):,} customers coupled, synchronized once and changed in {time.perf_counter() - setup:.0f} s")

    sync = ["sync", "--modified", "--mapping", MAPPING, "--database", database_url]
    colleagues = [Colleague("bc", data_dir, env), Colleague("dv", data_dir, env)]
    threads = [threading.Thread(target=c.run, daemon=True) for c in colleagues]
    writers: list[Writer] = []
    started = time.perf_counter()
    for thread in threads:
        thread.start()

    def writer_a() -> None:
        run_writer("A", sync, env, old, writers)

    def writer_b() -> None:
        time.sleep(1.0)  # while A goes
        run_writer("B", sync, env, old, writers)

    work = [threading.Thread(target=writer_a)] + ([threading.Thread(target=writer_b)] if TWO_WRITERS else [])
    for thread in work:
        thread.start()
    for thread in work:
        thread.join()
    for colleague in colleagues:
        colleague.stop.set()
    for thread in threads:
        thread.join()
    run_writer("final", sync, env, old, writers)
    seconds = time.perf_counter() - started
    print("    bc-tui runs: " + ", ".join(f"{w.name} {w.seconds:.0f} s (exit {w.code})" for w in writers))
    for writer in writers:
        if writer.crashed:
            print(f"    writer {writer.name} crashed (exit {writer.code}): {_last_line(writer.err or writer.out)}")
        else:
            print(f"    writer {writer.name}: {_last_line(_summary_line(writer.out))}")
    for colleague in colleagues:
        if colleague.failures:
            print(
                f"    colleague {colleague.side}: {len(colleague.failures)} edit runs failed, e.g. {colleague.failures[0]}"
            )
    return tally(data_file, database_url, colleagues, writers, seconds)


def _last_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[-1] if lines else "(no output)"


def _summary_line(text: str) -> str:
    """The CLI's "The synchronization has run for …" sentence, else its whole output."""
    return next((line for line in text.splitlines() if line.startswith("The synchronization has run")), text)


def report(backend: str, strategy: str, figures: Figures) -> None:
    print(
        f"  {backend:<10} {strategy:<40} edits made (coupled records) {figures.edits:>5,}   edits lost {figures.lost:>4,}   "
        f"conflicts reported {figures.conflicts:>4,}   two-writer crashes {figures.crashes}   ({figures.seconds:.0f} s)"
    )
    for example in figures.lost_examples:
        print(f"      lost: {example}")


def backend_runs(backend: str, records: int, postgres_url: str | None, old_too: bool) -> None:
    """The scenario on one kind of coupling database, with the current and (``old_too``) the old rule."""
    strategies = [False, True] if old_too else [False]
    with contextlib.ExitStack() as stack:
        if KEEP:
            tmp_text = tempfile.mkdtemp(prefix="bc-tui-colleagues-")
            print(f"(keeping {tmp_text})")
        else:
            tmp_text = stack.enter_context(tempfile.TemporaryDirectory(prefix="bc-tui-colleagues-"))
        tmp = Path(tmp_text)
        data_dir = tmp / "sandbox"
        # Enough unblocked customers for a disjoint set of records per strategy.
        with sandbox_process(int(records * len(strategies) * 1.15) + 100, data_dir) as info:
            print(f"{backend}: sandbox with {info['startup_s']:.1f} s start-up; {records:,} coupled customers per run")
            for n, old in enumerate(strategies):
                ids = unblocked_customer_ids(data_dir / "sandbox.sqlite", n * records, records)
                if backend == "sqlite":
                    url = f"sqlite:///{tmp / f'coupling-{n}.sqlite'}"
                else:
                    assert postgres_url is not None
                    wipe_postgres(postgres_url)
                    url = postgres_url
                run_dir = tmp / f"run-{n}"
                run_dir.mkdir()
                label = "old: newest modified time seen" if old else "new: service time at pass start - overlap"
                report(backend, label, scenario(info, data_dir, url, ids, old, run_dir))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000, help="coupled customers (default 10,000)")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("BC_TUI_TEST_POSTGRES_URL"),
        help="a PostgreSQL database to use (its bc-tui tables are dropped first)",
    )
    parser.add_argument(
        "--old",
        choices=("sqlite", "both", "none"),
        default="sqlite",
        help="where to run the scenario with the old watermark too (default: sqlite)",
    )
    parser.add_argument(
        "--backends",
        default="sqlite,postgresql",
        help="which coupling databases to try, comma-separated (default: sqlite,postgresql)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the data folders (their path is printed)")
    parser.add_argument("--one-writer", action="store_true", help="no second bc-tui writer (writer B)")
    args = parser.parse_args()
    global TWO_WRITERS, KEEP
    TWO_WRITERS, KEEP = not args.one_writer, args.keep
    print(f"watermark overlap: {modified.OVERLAP.total_seconds():.0f} s")
    backends = {name.strip() for name in args.backends.split(",")}
    if "sqlite" in backends:
        backend_runs("sqlite", args.records, None, args.old in ("sqlite", "both"))
    if "postgresql" not in backends:
        return
    if args.postgres_url:
        backend_runs("postgresql", args.records, args.postgres_url, args.old == "both")
    else:
        print("postgresql: skipped (no --postgres-url and no BC_TUI_TEST_POSTGRES_URL)")


if __name__ == "__main__":
    main()
