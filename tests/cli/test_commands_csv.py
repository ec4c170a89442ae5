"""``bc-tui log --csv`` and ``bc-tui errors --csv``: the rows of the JSON document as CSV, to
stdout or to a file written whole (docs/showing-data.md "Export to CSV")."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from bc_tui.commands.output import EXIT_FAILURES, EXIT_OK, EXIT_USAGE
from bc_tui.sync.export import JOB_ERROR_HEADER, LOG_HEADER, PROBLEM_HEADER
from tests.cli.conflicts import make_conflict


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def _conflict(cli: Any, sandbox: Any) -> None:
    """A conflict on 10000 whose Dataverse phone number is a formula, found by a synchronization."""
    make_conflict(cli, sandbox, dataverse_phone="=2+2")
    assert cli("sync", "--modified", "--mapping", "CUSTOMER").code == EXIT_FAILURES


def test_log_and_a_jobs_errors_as_csv_on_stdout(cli, sandbox) -> None:
    _conflict(cli, sandbox)
    jobs = cli("log", "--json").json["jobs"]

    listed = cli("log", "--csv")
    assert listed.code == EXIT_OK, listed.err
    rows = _rows(listed.out)
    assert rows[0] == list(LOG_HEADER)
    assert [int(r[0]) for r in rows[1:]] == [j["id"] for j in jobs]
    assert [r[3] for r in rows[1:]] == [j["type"] for j in jobs]
    conflicts = LOG_HEADER.index("Conflicts")
    assert [int(r[conflicts]) for r in rows[1:]] == [j["conflicts"] for j in jobs]

    failed = next(j for j in jobs if j["conflicts"])
    detail = cli("log", "--job", str(failed["id"]), "--json").json["errors"]
    errors = cli("log", "--job", str(failed["id"]), "--csv", "-")
    assert errors.code == EXIT_OK
    rows = _rows(errors.out)
    assert rows[0] == list(JOB_ERROR_HEADER)
    assert [r[4] for r in rows[1:]] == [e["message"] for e in detail] and "Phone No." in rows[1][4]


def test_errors_as_csv_to_a_file(cli, sandbox, tmp_path: Path) -> None:
    _conflict(cli, sandbox)
    overview = cli("errors", "--json").json
    target = tmp_path / "errors.csv"
    target.write_text("an older export\n", encoding="utf-8")

    result = cli("errors", "--csv", str(target))

    assert result.code == EXIT_OK, result.err
    assert result.out == f"Wrote 1 coupling to {target}.\n"
    rows = _rows(target.read_text(encoding="utf-8"))
    assert rows[0] == list(PROBLEM_HEADER)
    [row] = rows[1:]
    [coupling] = overview["couplings"]
    assert row[:3] == [coupling["mapping"], "conflict", coupling["description"]]
    assert row[6] == coupling["error"] and "Phone No." in row[6]
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith((".errors", "errors"))) == ["errors.csv"]


def test_csv_bad_input_is_one_sentence(cli, sandbox, tmp_path: Path) -> None:
    both = cli("log", "--csv", "--json")
    assert both.code == EXIT_USAGE and both.err == "bc-tui: Choose --csv or --json, not both.\n"

    nowhere = tmp_path / "missing" / "log.csv"
    failed = cli("log", "--csv", str(nowhere))
    assert failed.code == EXIT_USAGE and failed.out == ""
    assert str(nowhere) in failed.err and "no such file or directory" in failed.err
    assert "Traceback" not in failed.err and failed.err.count("bc-tui:") == 1
    assert not nowhere.parent.exists()
