"""``--csv [PATH]`` of ``log`` and ``errors``: the same rows as CSV, to a file or to stdout
(docs/showing-data.md "Export to CSV")."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from bc_tui.commands.common import UsageError
from bc_tui.commands.output import Report

#: What ``--csv`` without a path (or ``--csv -``) means: standard output.
STDOUT = "-"


def add_csv_option(parser: argparse.ArgumentParser, what: str) -> None:
    """``--csv [PATH]``: write ``what`` as CSV to PATH, or to stdout without one."""
    parser.add_argument(
        "--csv",
        nargs="?",
        const=STDOUT,
        default=None,
        metavar="PATH",
        help=f"write {what} as CSV to PATH (replaced if it exists), or to stdout without a PATH or with -",
    )


def check_csv(args: argparse.Namespace) -> None:
    """A ``validate`` for ``command``: ``--csv`` and ``--json`` are two outputs, pick one."""
    if getattr(args, "csv", None) is not None and args.json:
        raise UsageError("Choose --csv or --json, not both.")
    if getattr(args, "csv", None) == "":
        raise UsageError("--csv needs a file name, or - for stdout.")


def csv_report(args: argparse.Namespace, header: Sequence[str], rows: Iterable[Sequence[Any]], noun: str) -> Report:
    """Write the rows to ``--csv``'s target; the report says where (nothing when on stdout)."""
    from bc_tui.sync.export import write_table

    if args.csv == STDOUT:
        written = write_table(sys.stdout, header, rows)
        sys.stdout.flush()
        return Report(document={"rows": written.rows}, lines=[])
    path = Path(args.csv).expanduser()
    written = write_table(path, header, rows)
    word = noun if written.rows == 1 else f"{noun}s"
    return Report(
        document={"rows": written.rows, "path": str(path)}, lines=[f"Wrote {written.rows:,} {word} to {path}."]
    )
