"""What a headless subcommand prints: its :class:`Report`, the exit codes, JSON and text
output that is safe on a terminal (docs/showing-data.md), one-sentence failures on stderr, and
the progress line of long jobs."""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, is_dataclass
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from bc_tui.domain.text import printable, shown_line

if TYPE_CHECKING:
    from bc_tui.sync.progress import Progress

EXIT_OK = 0
EXIT_FAILURES = 1
EXIT_USAGE = 2


@dataclass
class Report:
    """A command's result: the JSON document, the text lines, the exit code."""

    document: dict[str, Any]
    lines: list[str] = field(default_factory=list)
    exit_code: int = EXIT_OK


def to_json(value: Any) -> Any:
    """Make dataclasses, enums, datetimes and paths JSON-native."""
    if is_dataclass(value) and not isinstance(value, type):
        return to_json(asdict(value))
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [to_json(v) for v in value]
    return value


#: A text line longer than this is shortened (the JSON output keeps every value whole): a
#: sentence of the engine may embed a 10,000-character name.
LINE_LIMIT = 1000

#: Characters ``json.dumps(ensure_ascii=False)`` leaves raw although a terminal obeys them (C1
#: controls such as CSI, DEL) or reorders text by them (bidi overrides); C0 controls it escapes.
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def json_text(document: Any) -> str:
    """``document`` as indented JSON that is safe on a terminal and keeps every value exact.

    Those characters can only stand inside JSON strings, where ``\\uXXXX`` means the same.
    """
    text = json.dumps(to_json(document), indent=2, ensure_ascii=False)
    return _JSON_UNSAFE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def text_line(line: str) -> str:
    """One line of text output as the terminal gets it: control characters replaced by visible
    stand-ins, a long value without spaces shortened (a sentence of the engine embeds names
    whole), and the line shortened past `LINE_LIMIT` (see docs/showing-data.md)."""
    return shown_line(line, LINE_LIMIT)


def emit(args: argparse.Namespace, report: Report, out: TextIO | None = None) -> int:
    """Print ``report`` (JSON or text) and return its exit code."""
    out = out or sys.stdout
    if getattr(args, "json", False):
        text = json_text(report.document)
        if not _encodable(text, out):
            # An ASCII-only stdout: \u escapes keep the document exact, where "?" would not.
            text = json.dumps(to_json(report.document), indent=2, ensure_ascii=True)
        out.write(text + "\n")
    else:
        for line in report.lines:
            out.write(text_line(line) + "\n")
    out.flush()
    return report.exit_code


def _encodable(text: str, stream: TextIO) -> bool:
    encoding = getattr(stream, "encoding", None) or "utf-8"
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        return False
    except LookupError:
        return True
    return True


def fail(message: str, err: TextIO | None = None, *, code: int = EXIT_USAGE) -> int:
    """One sentence on stderr; returns the exit code (2 unless told).

    The sentence often names what the user typed or a record's value, so it is printed like
    any text line: control characters as stand-ins, long values shortened.
    """
    err = err or sys.stderr
    err.write(f"bc-tui: {text_line(message)}\n")
    err.flush()
    return code


def progress_printer(stream: TextIO) -> Callable[[Progress], None] | None:
    """A callback that rewrites one status line on ``stream`` when it is a terminal; else None."""
    if not stream.isatty():
        return None
    width = 78

    def show(progress: Progress) -> None:
        total = max(progress.total, progress.done)
        text = f"{progress.done}/{total} records"
        if progress.failed:
            text += f", {progress.failed} failed"
        if progress.conflicts:
            text += f", {progress.conflicts} conflict{'' if progress.conflicts == 1 else 's'}"
        if progress.skipped:
            text += f", {progress.skipped} skipped"
        if progress.current:
            text += f" - {printable(progress.current)}"
        stream.write("\r" + text[:width].ljust(width))
        stream.flush()

    return show


def clear_progress(stream: TextIO) -> None:
    """Blank the progress line again before the result is printed."""
    if stream.isatty():
        stream.write("\r" + " " * 78 + "\r")
        stream.flush()
