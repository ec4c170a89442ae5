"""The CLI's output helpers: the progress line, JSON conversion, and a light --help."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from datetime import UTC, datetime

from bc_tui.commands.output import progress_printer, to_json
from bc_tui.domain.outcomes import Outcome
from bc_tui.sync.progress import Progress


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_one_rewritten_line_on_a_terminal_and_nothing_otherwise() -> None:
    assert progress_printer(io.StringIO()) is None
    terminal = _Terminal()
    show = progress_printer(terminal)
    assert show is not None
    show(Progress(job_id=1, total=3, done=1, current="customer 10000"))
    show(Progress(job_id=1, total=3, done=3, failed=1, skipped=1))
    text = terminal.getvalue()
    assert "\n" not in text and text.count("\r") == 2
    assert "1/3 records - customer 10000" in text and "3/3 records, 1 failed, 1 skipped" in text


def test_to_json_makes_store_values_native() -> None:
    moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    document = to_json(
        {"at": moment, "outcome": Outcome.CONFLICT, "ids": ("a", "b"), "progress": Progress(job_id=7, total=2)}
    )
    assert json.loads(json.dumps(document)) == {
        "at": "2026-01-02T03:04:05+00:00",
        "outcome": "conflict",
        "ids": ["a", "b"],
        "progress": {"job_id": 7, "total": 2, "done": 0, "failed": 0, "skipped": 0, "conflicts": 0, "current": None},
    }


def test_subcommand_help_does_not_import_heavy_modules() -> None:
    probe = (
        "import sys; from bc_tui.cli import main\n"
        "for argv in (['sync', '--help'], ['match', '--help'], ['status', '--help']):\n"
        "    try:\n        main(argv)\n    except SystemExit:\n        pass\n"
        "heavy = [m for m in ('textual', 'starlette', 'uvicorn', 'httpx', 'peewee') if m in sys.modules]\n"
        "print('HEAVY=' + ','.join(heavy))"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert "--direction" in result.stdout and "--field" in result.stdout
    assert result.stdout.strip().endswith("HEAVY="), result.stdout[-300:]
