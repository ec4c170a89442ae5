"""The synchronization job log's entry of one job, and its live progress.

:class:`JobLog` wraps one job: it opens the job in the store, counts what happened to each
record, logs the failures, tells the progress callback, and closes the job as finished,
cancelled (the asyncio task was cancelled: a Textual worker or Ctrl-C) or crashed.

Before the job opens, jobs whose process died are marked interrupted. While it runs, the job's
counters, its errors and a heartbeat reach the database every few seconds. Every write runs
on the session's database thread (store/access.py); the log's writes are queued there without
waiting, so counting a record never holds up the event loop, and are awaited when the job
ends (docs/concurrency.md "The database thread"). ``progress.JobRun`` adds the settling of
interrupted creations; this module knows nothing of creating, so that settling can log its
own job here.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from types import TracebackType
from typing import Any, Self, TypedDict, TypeVar, Unpack

from bc_tui.domain.outcomes import Outcome
from bc_tui.store import interrupted, jobs
from bc_tui.store.access import DatabaseThread
from bc_tui.store.database import DATABASE_ERRORS, atomic, database_failure
from bc_tui.store.jobs import JobStatus, JobType

T = TypeVar("T")


@dataclass(frozen=True)
class Progress:
    """Where a running job is: ``done`` of ``total`` records handled (failed/skipped included)."""

    job_id: int
    total: int
    done: int = 0
    failed: int = 0
    skipped: int = 0
    conflicts: int = 0
    current: str | None = None  # the record being worked on, for the status line


ProgressCallback = Callable[[Progress], None]


@dataclass(frozen=True)
class RecordResult:
    """What happened to one record of a job."""

    bc_id: str | None
    dataverse_id: str | None
    description: str
    outcome: Outcome
    message: str | None = None


@dataclass(frozen=True)
class JobSummary:
    """How a job ended: its id, its counters (the store's names) and every record's result."""

    job_id: int
    counters: dict[str, int]
    results: list[RecordResult] = field(default_factory=list)
    status: JobStatus = JobStatus.FINISHED
    message: str = ""

    def count(self, outcome: Outcome | str) -> int:
        """How many records ended with ``outcome``."""
        return self.counters.get(_COUNTER[Outcome(outcome)], 0)

    @property
    def failed(self) -> list[RecordResult]:
        """The records that failed (a conflict is not a failure: see :attr:`conflicts`)."""
        return [r for r in self.results if r.outcome is Outcome.FAILED]

    @property
    def conflicts(self) -> list[RecordResult]:
        """The records that are conflicts, waiting for the user to pick a winner."""
        return [r for r in self.results if r.outcome is Outcome.CONFLICT]

    def result_for(self, bc_id: str) -> RecordResult | None:
        """The result of the BC record ``bc_id`` (case-insensitive), or None."""
        wanted = bc_id.lower()
        return next((r for r in self.results if (r.bc_id or "").lower() == wanted), None)


# Outcome → the store's job counter. BC counts conflicts as failures; we count them apart
# (docs/coupling-and-sync.md "A conflict's state").
_COUNTER: dict[Outcome, str] = {
    Outcome.INSERTED: "inserted",
    Outcome.MODIFIED: "modified",
    Outcome.UNCHANGED: "unchanged",
    Outcome.SKIPPED: "skipped",
    Outcome.FAILED: "failed",
    Outcome.CONFLICT: "conflicts",
    Outcome.COUPLED: "coupled",
    Outcome.UNCOUPLED: "uncoupled",
    Outcome.DELETED: "deleted",
    Outcome.UNMATCHED: "unmatched",
}

# Counters are written in small bursts, not one UPDATE per record: a job of 10,000 records
# would otherwise spend its time in the database.
_FLUSH_EVERY = 50
_FLUSH_SECONDS = 0.5


class JobOptions(TypedDict, total=False):
    """What a job is about, as ``JobLog`` and ``JobRun`` take it (all optional)."""

    #: The table mapping's name (None: a job of no one mapping).
    mapping: str | None
    #: The direction's value (None: no direction).
    direction: str | None
    #: The records the job expects to handle (0: not known yet).
    total: int
    #: Called with the job's progress as records are handled.
    progress: ProgressCallback | None
    #: The job's message in the log ("" at first).
    message: str


class JobLog:
    """One synchronization job, as an async context manager.

    ``async with JobLog(JobType.CREATION, mapping="CUSTOMER", total=n, progress=cb) as run:``
    then ``run.record(outcome, ...)`` per record; ``run.summary`` afterwards. On
    ``asyncio.CancelledError`` the job is marked cancelled, on any other exception crashed, and
    the exception goes on; otherwise it is marked finished. Use cases use
    ``progress.JobRun``, which first settles what an interrupted job left behind; settling
    itself logs its job with this class.
    """

    def __init__(self, job_type: JobType, *, db: DatabaseThread | None = None, **options: Unpack[JobOptions]) -> None:
        """``db``: the session's database thread (``session.db``); without one the job uses a
        thread of its own for its writes, closed when it ends."""
        self.job_type = JobType(job_type)
        self.mapping = options.get("mapping")
        self.direction = options.get("direction")
        self.message = options.get("message", "")
        self._callback = options.get("progress")
        self._total = options.get("total", 0)
        self._job_id: int | None = None
        self._counters: Counter[str] = Counter()
        self._pending: Counter[str] = Counter()
        self._last_flush = time.monotonic()
        self._results: list[RecordResult] = []
        self._progress: Progress | None = None
        self._summary: JobSummary | None = None
        self._stored_total: int | None = None
        self._heartbeat: asyncio.Task[None] | None = None
        self._own_db = db is None
        self._db = db if db is not None else DatabaseThread()
        self._pending_errors: list[dict[str, object]] = []
        # The log writes still queued: each leaves the set when it is done, and the first one that
        # failed is kept apart, so that counting a record costs the same at its 100,000th record.
        self._writes: set[asyncio.Future[Any]] = set()
        self._write_failure: BaseException | None = None
        self._progress_write: asyncio.Future[Any] | None = None

    # --- lifecycle ---------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        try:
            await self._db(interrupted.mark_interrupted_jobs)
            await self._before_start()
            job = await self._db(
                jobs.start_job, self.job_type, mapping=self.mapping, direction=self.direction, message=self.message
            )
        except BaseException:
            self._close_own_db()
            raise
        self._job_id = job.id
        self._progress = Progress(job_id=job.id, total=self._total)
        # The total, when known, so that "how far it got" has a denominator from the start.
        await self._db(_write_progress, job.id, *self._take())
        self._heartbeat = asyncio.create_task(self._beat(), name=f"heartbeat of job {job.id}")
        self._notify()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool:
        if exc_type is None:
            status = JobStatus.FINISHED
        elif issubclass(exc_type, asyncio.CancelledError):
            status = JobStatus.CANCELLED
        else:
            status = JobStatus.CRASHED
        if self._heartbeat is not None:
            self._heartbeat.cancel()  # not awaited: a cancelled task runs no more of its body
        ending = asyncio.ensure_future(self._end(status, exc))
        try:
            substituted = await _uncancellable(ending)
        finally:
            self._close_own_db()
        if substituted is not None:
            raise substituted
        return False  # never swallow: cancellation and crashes go on to the caller

    async def _end(self, status: JobStatus, exc: BaseException | None) -> BaseException | None:
        """Write the rest of the log and close the job with ``status``; the summary is set.

        Returns the error of a queued log write when that is why the job failed (``exc`` None).
        """
        substituted: BaseException | None = None
        self._flush()
        write_error = await self._written()
        if write_error is not None and exc is None:
            # A log write queued by record() failed: the job failed there, as if record() had raised.
            status, exc = JobStatus.CRASHED, write_error
            substituted = write_error
        if status is JobStatus.CRASHED and exc is not None and not self.message:
            # A database error names its first cause (e.g. a full disk), not the failed ROLLBACK after it.
            self.message = str(database_failure(exc)) if isinstance(exc, DATABASE_ERRORS) else _first_line(exc)
        record = await self._db(jobs.finish_job, self.job_id, status, self.message or None)
        self._summary = JobSummary(
            job_id=self.job_id,
            counters=dict(self._counters),
            results=list(self._results),
            status=status,
            message=record.message,
        )
        return substituted

    async def _before_start(self) -> None:
        """Work done after dead jobs are marked interrupted and before this job opens (none here)."""

    # --- what callers use --------------------------------------------------------------------

    @property
    def job_id(self) -> int:
        """The id of the job in the log (every sync result written by the job carries it)."""
        if self._job_id is None:
            raise RuntimeError("the job has not started: use 'async with JobRun(...)' or 'async with JobLog(...)'")
        return self._job_id

    @property
    def db(self) -> DatabaseThread:
        """The database thread this job writes through (the session's, when it was given one)."""
        return self._db

    @property
    def progress(self) -> Progress:
        """The progress as last reported."""
        assert self._progress is not None
        return self._progress

    @property
    def results(self) -> list[RecordResult]:
        """The per-record results so far."""
        return self._results

    @property
    def summary(self) -> JobSummary:
        """How the job ended (available after the ``async with`` block)."""
        if self._summary is None:
            raise RuntimeError("the job is still running")
        return self._summary

    def counted(self, outcome: Outcome) -> int:
        """How many records were counted under ``outcome``'s counter so far."""
        return self._counters[_COUNTER[Outcome(outcome)]]

    def set_total(self, total: int) -> None:
        """Say how many records the job will handle (when it is known only after reading)."""
        self._progress = replace(self.progress, total=total)
        self._notify()

    def add_total(self, count: int) -> None:
        """Add ``count`` records to the total (a streamed job learns its size page by page)."""
        self.set_total(self.progress.total + count)

    def working_on(self, description: str | None) -> None:
        """Name the record being worked on, for the status line."""
        self._progress = replace(self.progress, current=description)
        self._notify()

    def record(
        self,
        outcome: Outcome,
        error_message: str | None = None,
        *,
        bc_id: str | None = None,
        dataverse_id: str | None = None,
        description: str = "",
        source: str = "",
        destination: str = "",
        detail: str = "",
        source_id: str | None = None,
        destination_id: str | None = None,
    ) -> RecordResult:
        """Count one record's outcome, log its error, and report progress.

        A failure, a conflict, or a skip with a reason (``error_message``) is also written to
        the job's error list (``source``/``destination`` describe the two records there).
        """
        outcome = Outcome(outcome)
        counter = _COUNTER[outcome]
        self._counters[counter] += 1
        self._pending[counter] += 1
        failed = outcome is Outcome.FAILED
        conflict = outcome is Outcome.CONFLICT
        self._raise_failed_write()
        # Unmatched records are listed with the job's errors too, so that the log names them.
        logged = failed or conflict or (outcome in (Outcome.SKIPPED, Outcome.UNMATCHED) and bool(error_message))
        if logged:
            self._pending_errors.append(
                {
                    "job_id": self.job_id,
                    "message": error_message or f"{description or 'The record'} failed.",
                    "detail": detail,
                    "source_description": source or description,
                    "source_id": source_id,
                    "destination_description": destination,
                    "destination_id": destination_id,
                    "bc_id": bc_id,
                    "dataverse_id": dataverse_id,
                }
            )
        result = RecordResult(
            bc_id=bc_id, dataverse_id=dataverse_id, description=description, outcome=outcome, message=error_message
        )
        self._results.append(result)
        current = self.progress
        self._progress = replace(
            current,
            done=current.done + 1,
            failed=current.failed + (1 if failed else 0),
            skipped=current.skipped + (1 if outcome is Outcome.SKIPPED else 0),
            conflicts=current.conflicts + (1 if conflict else 0),
            total=max(current.total, current.done + 1),
        )
        # An error is queued at once (or, while a write is queued, as soon as that write is done:
        # one write per error would pile up faster than the database takes them), so that the
        # log screen shows it while the job goes on.
        if (
            (logged and not self._writing())
            or sum(self._pending.values()) >= _FLUSH_EVERY
            or time.monotonic() - self._last_flush >= _FLUSH_SECONDS
        ):
            self._flush()
        self._notify()
        return result

    # --- internals ---------------------------------------------------------------------------

    def _flush(self) -> None:
        """Queue on the database thread the errors logged and the counters counted since the
        last flush, the total and a heartbeat: one transaction, not awaited here."""
        if self._job_id is None:
            return
        write = self._db.submit(_write_progress, self._job_id, *self._take())
        self._progress_write = write
        self._queued(write)
        write.add_done_callback(self._flush_waiting_errors)

    def _writing(self) -> bool:
        """Whether the last progress write is still queued or running."""
        return self._progress_write is not None and not self._progress_write.done()

    def _queued(self, write: asyncio.Future[Any]) -> None:
        """Keep ``write`` until it is done; remember its error if it fails."""
        self._writes.add(write)
        write.add_done_callback(self._write_done)

    def _write_done(self, write: asyncio.Future[Any]) -> None:
        self._writes.discard(write)
        if not write.cancelled() and write.exception() is not None and self._write_failure is None:
            self._write_failure = write.exception()

    def _flush_waiting_errors(self, write: asyncio.Future[Any]) -> None:
        """Queue the errors logged while ``write`` was queued (the job may be waiting on a service)."""
        if write.cancelled() or write is not self._progress_write:
            return
        if self._pending_errors and self._write_failure is None:
            self._flush()

    def _take(self) -> tuple[int | None, dict[str, int], list[dict[str, object]]]:
        """What a flush writes (the total only when changed), taken out of the pending state."""
        total = self._progress.total if self._progress is not None and self._progress.total else None
        taken = (total if total != self._stored_total else None, dict(self._pending), self._pending_errors)
        self._stored_total = total
        self._pending_errors = []
        self._pending.clear()
        self._last_flush = time.monotonic()
        return taken

    def _give_back(self, taken: tuple[int | None, dict[str, int], list[dict[str, object]]]) -> None:
        """Put back what a failed heartbeat did not write, for the next flush."""
        total, counters, errors = taken
        if total is not None:
            self._stored_total = None
        self._pending.update(counters)
        self._pending_errors[:0] = errors

    def _raise_failed_write(self) -> None:
        """Raise the error of a queued log write that failed (the job must not go on without its log)."""
        if self._write_failure is not None:
            raise self._write_failure

    async def _written(self) -> BaseException | None:
        """Wait for every queued log write; the first one's error, if any failed."""
        outcomes = await asyncio.gather(*self._writes, return_exceptions=True)
        return self._write_failure or next((o for o in outcomes if isinstance(o, BaseException)), None)

    def _close_own_db(self) -> None:
        if self._own_db:
            self._db.close()

    async def _beat(self) -> None:
        """Refresh the heartbeat while the job waits on a service or reads, not only per record."""
        while True:
            await asyncio.sleep(interrupted.HEARTBEAT_SECONDS)
            if time.monotonic() - self._last_flush >= interrupted.HEARTBEAT_SECONDS:
                # A missed beat is harmless (the limit for other hosts is minutes): never let a
                # locked database end the job from here.
                taken = self._take()
                beat = self._db.submit(_beat_written, self.job_id, *taken)
                self._queued(beat)  # the job's end waits for it (it never raises)
                # Shielded: the job's end cancels this task, and must not cancel a write in the queue.
                if not await asyncio.shield(beat):
                    self._give_back(taken)

    def _notify(self) -> None:
        if self._callback is not None and self._progress is not None:
            self._callback(self._progress)


def _write_progress(job_id: int, total: int | None, counters: dict[str, int], errors: list[dict[str, object]]) -> None:
    """The errors and counters of a flush, in one transaction (runs on the database thread)."""
    with atomic():
        jobs.add_job_errors(errors)
        jobs.heartbeat(job_id, total=total, **counters)


async def _uncancellable(ending: asyncio.Future[T]) -> T:
    """The outcome of ``ending``, which runs to its end even when the caller is cancelled again
    meanwhile (a job cancelled by the user, then by the app quitting): the job's end is written
    to the log as it was when ending took no waiting; the cancellation goes on after it."""
    cancelled = False
    while True:
        try:
            result = await asyncio.shield(ending)
            break
        except asyncio.CancelledError:
            if ending.done():
                raise
            cancelled = True
    if cancelled:
        raise asyncio.CancelledError
    return result


def _beat_written(job_id: int, total: int | None, counters: dict[str, int], errors: list[dict[str, object]]) -> bool:
    """:func:`_write_progress` for the heartbeat: False instead of an error (a locked database)."""
    try:
        _write_progress(job_id, total, counters, errors)
    except Exception:  # noqa: BLE001 - the next flush writes it again
        return False
    return True


def _first_line(error: BaseException) -> str:
    text = getattr(error, "message", None) or str(error) or type(error).__name__
    return str(text).strip().splitlines()[0] if str(text).strip() else type(error).__name__
