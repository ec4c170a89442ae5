"""Export to CSV: a record list (streamed page by page), the synchronization log, a job's errors
and the errors screen's couplings (docs/showing-data.md "Export to CSV").

- Every value is data: the ``csv`` module quotes it, and a cell that a spreadsheet would read as
  a formula (it starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) gets a
  leading apostrophe (:func:`csv_cell`).
- A file is written beside its final name and renamed into place at the end
  (:func:`csv_file`), so a failed or cancelled export leaves nothing half-written behind.
- A list is read through the read model (``MappingList.page``), one page at a time, and each
  page is written before the next is read: 100,000 rows never sit in memory together.
"""

from __future__ import annotations

import contextlib
import csv
import os
import tempfile
from collections.abc import Callable, Container, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from bc_tui.domain.text import shorten
from bc_tui.sync.errors import SyncError
from bc_tui.sync.job_log import Progress, ProgressCallback
from bc_tui.sync.lists import ListRow, MappingList, cell
from bc_tui.sync.logged_jobs import COUNTERS, JobErrorRecord, JobRecord

if TYPE_CHECKING:
    from bc_tui.sync.resolve import ProblemRow

#: What a spreadsheet takes for the start of a formula (OWASP's "CSV injection" list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

#: A path in a sentence is cut only past this many characters (a file name is at its end).
PATH_LIMIT = 500

#: Rows read per request when exporting a list.
EXPORT_PAGE_SIZE = 500

#: How CSV files end their lines: RFC 4180's CRLF, which every spreadsheet reads.
LINE_END = "\r\n"


class ExportError(SyncError):
    """The CSV file cannot be written; the sentence names the file, the cause and the next step."""


@dataclass(frozen=True)
class Exported:
    """What an export wrote: ``rows`` data rows (the header not counted) to ``path``."""

    path: Path | None
    rows: int


def csv_cell(value: Any) -> str:
    """``value`` as the text of one CSV cell: None is empty, a would-be formula gets a leading
    apostrophe so that a spreadsheet shows it as text instead of running it."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def default_file_name(what: str, now: datetime | None = None) -> str:
    """A readable, timestamped file name, e.g. ``customers-2026-12-02-1605.csv``."""
    moment = now or datetime.now().astimezone()
    return f"{what}-{moment:%Y-%m-%d-%H%M}.csv"


def _cannot_write(path: Path, error: OSError) -> ExportError:
    cause = error.strerror or type(error).__name__
    return ExportError(
        f"Could not write {shorten(str(path), PATH_LIMIT)}: {cause.lower()}; "
        "choose another folder or file name and export again."
    )


@contextlib.contextmanager
def csv_file(path: Path) -> Iterator[Any]:
    """A ``csv.writer`` whose rows end up in ``path`` only if the block ends normally.

    The rows go to a hidden temporary file in the same folder, renamed over ``path`` at the end
    (one rename: readers see the old file or the whole new one). On any error or cancellation
    the temporary file is removed and ``path`` is left as it was. Raises :class:`ExportError`
    when the folder cannot be written."""
    path = Path(path)
    folder = path.parent
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=folder)
    except OSError as error:
        raise _cannot_write(path, error) from None
    try:
        with open(handle, "w", encoding="utf-8", newline="") as stream:
            yield csv.writer(stream, lineterminator=LINE_END)
        if path.is_dir():
            raise IsADirectoryError(21, "Is a directory", str(path))
        os.replace(temporary, path)
    except OSError as error:
        _remove(temporary)
        raise _cannot_write(path, error) from None
    except BaseException:
        _remove(temporary)
        raise


def _remove(temporary: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(temporary)


def write_table(target: Path | IO[str], header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Exported:
    """Write ``header`` and ``rows`` as CSV to the file ``target`` (whole or not at all) or to an
    open text stream (e.g. stdout); returns how many rows were written."""
    if not isinstance(target, Path):
        writer = csv.writer(target, lineterminator=LINE_END)
        return Exported(None, _write_rows(writer, header, rows))
    with csv_file(target) as writer:
        count = _write_rows(writer, header, rows)
    return Exported(target, count)


def _write_rows(writer: Any, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    writer.writerow([csv_cell(title) for title in header])
    count = 0
    for row in rows:
        writer.writerow([csv_cell(value) for value in row])
        count += 1
    return count


# --- record lists --------------------------------------------------------------------------------


def _state(row: ListRow) -> str:
    """The sync state as the list shows it (a record outside the table filter says so)."""
    if row.state is not None:
        return row.state.value
    return "" if row.inside else "outside filter"


def list_columns(records: MappingList) -> tuple[tuple[str, Callable[[ListRow], Any]], ...]:
    """The CSV columns of a list: its shown fields, whether it is coupled, the counterpart, the
    sync state (Business Central side) and the record's id, each as (title, cell of a row)."""
    if records.side == "dataverse":
        return (
            ("Name", lambda row: row.name),
            ("City", lambda row: cell(row.record, "address1_city")),
            ("Phone", lambda row: cell(row.record, "telephone1")),
            ("E-mail", lambda row: cell(row.record, "emailaddress1")),
            ("Coupled", lambda row: "yes" if row.coupled else "no"),
            ("BC No.", lambda row: row.counterpart),
            ("Id", lambda row: row.key),
        )
    return (
        ("No.", lambda row: cell(row.record, "number")),
        ("Name", lambda row: row.name),
        ("City", lambda row: cell(row.record, "city")),
        ("Phone", lambda row: cell(row.record, "phoneNumber")),
        ("E-mail", lambda row: cell(row.record, "email")),
        ("Coupled", lambda row: "yes" if row.coupled else "no"),
        ("Dataverse name", lambda row: row.counterpart),
        ("Sync state", _state),
        ("Id", lambda row: row.key),
    )


async def export_list(
    records: MappingList,
    path: Path,
    *,
    only: Container[str] | None = None,
    wanted: int | None = None,
    progress: ProgressCallback | None = None,
    page_size: int = EXPORT_PAGE_SIZE,
) -> Exported:
    """Write every row of ``records`` (its current query: filter, coupled filter, sort) to
    ``path``, reading one page at a time through the read model.

    ``only``: keep just the rows whose key it contains (the marked rows); ``wanted``: how many
    those are, when known, so that reading stops once all are written. ``progress`` hears after
    every page. The list is read through a copy of ``records`` (same query), so the positions a
    screen's list remembers are not disturbed."""
    source = records.with_query()
    total = wanted if wanted is not None else (await source.count() or 0)
    columns = list_columns(source)
    written = 0
    start = 0
    with csv_file(path) as writer:
        writer.writerow([title for title, _ in columns])
        while True:
            page = await source.page(start, page_size)
            start += len(page)
            for row in page:
                if only is not None and row.key not in only:
                    continue
                writer.writerow([csv_cell(value(row)) for _, value in columns])
                written += 1
            if progress is not None:
                progress(
                    Progress(job_id=0, total=max(total, written), done=written, current=page[-1].name if page else None)
                )
            if len(page) < page_size or (wanted is not None and written >= wanted):
                break
    return Exported(path, written)


# --- the log, a job's errors, the errors screen ------------------------------------------------


def _time(moment: datetime | None) -> str:
    """A stored time in ISO 8601 with its offset (unambiguous in any spreadsheet's locale)."""
    return "" if moment is None else moment.isoformat(timespec="seconds")


LOG_HEADER: tuple[str, ...] = (
    "Job",
    "Started",
    "Finished",
    "Type",
    "Mapping",
    "Direction",
    "Status",
    *(name.capitalize() for name in COUNTERS),
    "Message",
)


def log_rows(jobs: Iterable[JobRecord]) -> Iterator[list[Any]]:
    """The jobs of the synchronization log as rows under :data:`LOG_HEADER`."""
    for job in jobs:
        yield [
            job.id,
            _time(job.started_at),
            _time(job.finished_at),
            str(job.type),
            job.mapping or "",
            job.direction or "",
            str(job.status),
            *(getattr(job, name) for name in COUNTERS),
            job.message,
        ]


JOB_ERROR_HEADER: tuple[str, ...] = (
    "Job",
    "Date/time",
    "Source",
    "Destination",
    "Message",
    "Detail",
    "BC id",
    "Dataverse id",
)


def job_error_rows(errors: Iterable[JobErrorRecord]) -> Iterator[list[Any]]:
    """The errors a job logged (its records that failed) as rows under :data:`JOB_ERROR_HEADER`."""
    for error in errors:
        yield [
            error.job_id,
            _time(error.created_at),
            error.source_description,
            error.destination_description,
            error.message,
            error.detail,
            error.bc_id or "",
            error.dataverse_id or "",
        ]


PROBLEM_HEADER: tuple[str, ...] = (
    "Mapping",
    "Kind",
    "Record",
    "Record exists",
    "Coupled to",
    "Coupled record exists",
    "Error",
    "Failed on",
    "BC id",
    "Dataverse id",
)


def _exists(found: bool | None) -> str:
    return "" if found is None else ("yes" if found else "no")


def problem_rows(rows: Iterable[ProblemRow]) -> Iterator[list[Any]]:
    """The errors screen's couplings as rows under :data:`PROBLEM_HEADER` ("" where a record's
    existence was not checked)."""
    for row in rows:
        yield [
            row.mapping,
            str(row.kind),
            row.description,
            _exists(row.record_exists),
            row.coupled_to,
            _exists(row.coupled_record_exists),
            row.error,
            _time(row.failed_on),
            row.bc_id,
            row.dataverse_id,
        ]


__all__ = [
    "EXPORT_PAGE_SIZE",
    "Exported",
    "ExportError",
    "FORMULA_STARTS",
    "JOB_ERROR_HEADER",
    "LOG_HEADER",
    "PROBLEM_HEADER",
    "csv_cell",
    "csv_file",
    "default_file_name",
    "export_list",
    "job_error_rows",
    "list_columns",
    "log_rows",
    "problem_rows",
    "write_table",
]
