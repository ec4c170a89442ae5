"""Jobs left "running" by a process that is gone are marked interrupted; live ones are left alone.

The processes are real: a child started and ended (dead pid), a child still sleeping (live pid),
and this test process itself.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta

import peewee
import pytest

from bc_tui.store.create_intents import begin_create_intent
from bc_tui.store.fields import utc_now
from bc_tui.store.interrupted import (
    STALE_AFTER,
    interrupted_jobs,
    interrupted_message,
    mark_interrupted_jobs,
    settleable_intents,
)
from bc_tui.store.jobs import JobStatus, JobType, finish_job, get_job, heartbeat, start_job
from bc_tui.store.liveness import Liveness, ProcessIdentity, host_name, liveness, process_start, this_process
from bc_tui.store.models import SyncJob
from bc_tui.store.records import Side

LINUX = sys.platform.startswith("linux")


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    """A live process that is not this one."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield child
    child.kill()
    child.wait()


def _dead_process() -> ProcessIdentity:
    """The identity a process had before it ended (and was reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    started = process_start(child.pid) or ""
    child.kill()
    child.wait()
    return ProcessIdentity(host=host_name(), pid=child.pid, started=started)


def _run_as(job_id: int, identity: ProcessIdentity, **changes: object) -> None:
    SyncJob.update(host=identity.host, pid=identity.pid, process_started=identity.started or None, **changes).where(
        SyncJob.id == job_id
    ).execute()


def test_a_new_job_records_its_process_and_a_heartbeat(store: peewee.Database) -> None:
    job = start_job(JobType.SYNCHRONIZATION, mapping="CUSTOMER")
    row = SyncJob.get_by_id(job.id)
    me = this_process()
    assert (row.host, row.pid, row.process_started or "") == (me.host, os.getpid(), me.started)
    assert row.heartbeat_at is not None and job.heartbeat_at == row.heartbeat_at
    if LINUX:
        assert me.started.count(":") == 2 and liveness(me) is Liveness.ALIVE


def test_a_job_of_a_dead_process_on_this_host_is_interrupted_at_once(store: peewee.Database) -> None:
    job = start_job(JobType.SYNCHRONIZATION, mapping="CUSTOMER")
    heartbeat(job.id, total=5000, modified=1150, failed=50)
    _run_as(job.id, _dead_process())
    marked = mark_interrupted_jobs()
    assert [j.id for j in marked] == [job.id]
    done = get_job(job.id)
    assert done.status is JobStatus.INTERRUPTED
    assert done.finished_at == done.heartbeat_at  # it ended at its last sign of life
    assert done.message.startswith("Interrupted: the bc-tui process ended at about ")
    assert done.message.endswith(" (last sign of life) after 1,200 of 5,000 records.")
    assert mark_interrupted_jobs() == []  # once only
    assert [j.id for j in interrupted_jobs()] == [job.id]


@pytest.mark.skipif(not LINUX, reason="process start times are read from /proc")
def test_a_reused_pid_does_not_keep_a_dead_job_running(store: peewee.Database, sleeper) -> None:
    job = start_job(JobType.CREATION, mapping="CUSTOMER")
    # The pid is alive, but that process started at another time than the job's.
    machine = this_process().started.rpartition(":")[0]
    _run_as(job.id, ProcessIdentity(host_name(), sleeper.pid, f"{machine}:1"))
    assert [j.id for j in mark_interrupted_jobs()] == [job.id]
    assert get_job(job.id).message.endswith("after 0 records.")


@pytest.mark.skipif(not LINUX, reason="without /proc a live pid is judged by its heartbeat")
@pytest.mark.skipif(not LINUX, reason="boot ids and pid namespaces are read from /proc")
def test_a_restart_ends_a_job_at_once_another_pid_namespace_waits_for_the_heartbeat(store: peewee.Database) -> None:
    boot, namespace, _ = this_process().started.split(":")
    rebooted = start_job(JobType.SYNCHRONIZATION)
    _run_as(rebooted.id, ProcessIdentity(host_name(), os.getpid(), f"not-{boot}:{namespace}:5"))
    container = start_job(JobType.SYNCHRONIZATION)  # same host name, its own pids: cannot be examined
    _run_as(container.id, ProcessIdentity(host_name(), 1, f"{boot}:{namespace}0:5"))
    assert [j.id for j in mark_interrupted_jobs()] == [rebooted.id]
    SyncJob.update(heartbeat_at=utc_now() - STALE_AFTER - timedelta(seconds=1)).where(
        SyncJob.id == container.id
    ).execute()
    assert [j.id for j in mark_interrupted_jobs()] == [container.id]


def test_running_jobs_of_live_processes_are_left_alone(store: peewee.Database, sleeper) -> None:
    mine = start_job(JobType.SYNCHRONIZATION, mapping="CUSTOMER")
    other = start_job(JobType.MATCH_BASED_COUPLING, mapping="CUSTOMER")
    _run_as(other.id, ProcessIdentity(host_name(), sleeper.pid, process_start(sleeper.pid) or ""))
    # Even with an old heartbeat: on this host the process itself says it lives.
    SyncJob.update(heartbeat_at=utc_now() - timedelta(hours=2)).where(SyncJob.id.in_([mine.id, other.id])).execute()
    assert mark_interrupted_jobs() == []
    assert {get_job(mine.id).status, get_job(other.id).status} == {JobStatus.RUNNING}


def test_a_job_of_another_host_is_interrupted_only_when_its_heartbeat_is_stale(store: peewee.Database) -> None:
    job = start_job(JobType.SYNCHRONIZATION, mapping="CUSTOMER")
    _run_as(job.id, ProcessIdentity("build-server-7", 4242, "x:1"), total=None)
    heartbeat(job.id, inserted=3)
    assert mark_interrupted_jobs() == []
    assert get_job(job.id).status is JobStatus.RUNNING
    stale = utc_now() - STALE_AFTER - timedelta(seconds=5)
    SyncJob.update(heartbeat_at=stale).where(SyncJob.id == job.id).execute()
    assert [j.id for j in mark_interrupted_jobs()] == [job.id]
    message = get_job(job.id).message
    assert message.startswith("Interrupted: the bc-tui process on build-server-7 gave no sign of life since about ")
    assert message.endswith("(more than 10 minutes), after 3 records.")


def test_a_job_from_before_processes_were_recorded_is_judged_by_its_start(store: peewee.Database) -> None:
    old = start_job(JobType.SYNCHRONIZATION)
    new = start_job(JobType.SYNCHRONIZATION)
    SyncJob.update(host=None, pid=None, process_started=None, heartbeat_at=None).execute()
    SyncJob.update(started_at=utc_now() - timedelta(hours=1)).where(SyncJob.id == old.id).execute()
    assert [j.id for j in mark_interrupted_jobs()] == [old.id]
    assert get_job(new.id).status is JobStatus.RUNNING


def test_a_heartbeat_adds_counters_but_never_revives_an_ended_job(store: peewee.Database) -> None:
    job = start_job(JobType.SYNCHRONIZATION)
    heartbeat(job.id, total=10, modified=2)
    heartbeat(job.id, unchanged=3)
    beat = get_job(job.id)
    assert (beat.modified, beat.unchanged, beat.total, beat.done) == (2, 3, 10, 5)
    finish_job(job.id, JobStatus.CANCELLED)
    heartbeat(job.id, modified=1)
    assert (get_job(job.id).status, get_job(job.id).modified) == (JobStatus.CANCELLED, 2)
    with pytest.raises(ValueError, match="unknown job counters"):
        heartbeat(job.id, created=1)


def test_only_intents_of_ended_jobs_are_settleable(store: peewee.Database) -> None:
    live = start_job(JobType.CREATION, mapping="CUSTOMER")
    ended = start_job(JobType.CREATION, mapping="CUSTOMER")
    finish_job(ended.id, JobStatus.CRASHED)
    begin_create_intent("CUSTOMER", Side.BC, "b1", "p1", job_id=live.id)
    theirs = begin_create_intent("CUSTOMER", Side.BC, "b2", "p2", job_id=ended.id)
    orphan = begin_create_intent("CUSTOMER", Side.BC, "b3", "p3")
    gone = begin_create_intent("CONTACT", Side.BC, "b4", "p4", job_id=999_999)  # job cleaned up
    assert [i.id for i in settleable_intents("CUSTOMER")] == [theirs.id, orphan.id]
    assert [i.id for i in settleable_intents()] == [theirs.id, orphan.id, gone.id]


def test_the_message_names_the_day_when_it_was_not_today() -> None:
    yesterday = utc_now() - timedelta(days=1, hours=1)
    text = interrupted_message(yesterday, 12, None)
    assert text.startswith(f"Interrupted: the bc-tui process ended at about {yesterday.astimezone():%Y-%m-%d %H:%M}")
    assert text.endswith("after 12 records.")


def test_a_schema_1_database_gets_the_process_columns_and_keeps_its_jobs(empty_db: peewee.Database) -> None:
    from bc_tui.store.migrations import STEPS, migrate
    from bc_tui.store.models import ALL_MODELS, SchemaVersion

    with empty_db.bind_ctx(list(ALL_MODELS)):
        empty_db.create_tables([SchemaVersion])
        STEPS[0](empty_db)
        SchemaVersion.create(version=1)
    assert "heartbeat_at" not in {c.name for c in empty_db.get_columns("sync_jobs")}
    empty_db.execute_sql(
        "INSERT INTO sync_jobs (type, started_at, message, inserted, modified, deleted, unchanged, "
        "skipped, failed, coupled, uncoupled, status) VALUES ('synchronization', "
        "'2020-01-01 00:00:00.000000', '', 7, 0, 0, 0, 0, 0, 0, 0, 'running')"
    )
    migrate(empty_db)
    columns = {c.name for c in empty_db.get_columns("sync_jobs")}
    assert {"total", "host", "pid", "process_started", "heartbeat_at"} <= columns
    # The job an old bc-tui left running is judged by its start, long ago: interrupted.
    (job,) = mark_interrupted_jobs()
    assert (job.inserted, job.status, job.host) == (7, JobStatus.INTERRUPTED, None)
    assert job.message.endswith("after 7 records.")
