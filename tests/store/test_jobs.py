"""The synchronization job log, its errors, and the errors overview."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import peewee
import pytest

from bc_tui.domain.mappings import SyncDirection
from bc_tui.store.coupling_writes import couple
from bc_tui.store.jobs import (
    JobStatus,
    JobType,
    add_job_error,
    add_job_errors,
    errors_overview,
    finish_job,
    increment,
    job_errors,
    list_jobs,
    record_errors,
    start_job,
)
from bc_tui.store.records import CouplingRecord, Side, SyncResult, SyncResultUpdate
from bc_tui.store.sync_state import mark_broken, record_sync_result


def test_a_job_counts_and_finishes(store: peewee.Database) -> None:
    job = start_job(JobType.SYNCHRONIZATION, mapping="CUSTOMER", direction=SyncDirection.TO_DATAVERSE)
    assert (job.status, job.direction, job.finished_at, job.duration) == (JobStatus.RUNNING, "to-dataverse", None, None)
    increment(job.id, modified=2, failed=1)
    increment(job.id, modified=1, unchanged=5, skipped=0)
    done = finish_job(job.id, message="3 of 4 records synchronized.")
    assert (done.modified, done.failed, done.unchanged, done.inserted) == (3, 1, 5, 0)
    assert done.status is JobStatus.FINISHED and done.message == "3 of 4 records synchronized."
    assert done.duration is not None and done.duration >= timedelta(0)


def test_unknown_counter_is_a_programming_error(store: peewee.Database) -> None:
    job = start_job(JobType.COUPLING)
    with pytest.raises(ValueError, match="unknown job counters"):
        increment(job.id, updated=1)


def test_jobs_are_listed_newest_first_and_filtered(store: peewee.Database) -> None:
    first = start_job(JobType.COUPLING, mapping="CUSTOMER")
    second = start_job(JobType.MATCH_BASED_COUPLING, mapping="CONTACT")
    third = finish_job(start_job(JobType.UNCOUPLING, mapping="CUSTOMER").id, JobStatus.CANCELLED)
    assert [j.id for j in list_jobs()] == [third.id, second.id, first.id]
    assert [j.id for j in list_jobs(mapping="CUSTOMER")] == [third.id, first.id]
    assert [j.type for j in list_jobs(job_type=JobType.MATCH_BASED_COUPLING)] == [JobType.MATCH_BASED_COUPLING]
    assert list_jobs()[0].status is JobStatus.CANCELLED


def test_errors_belong_to_their_job_and_to_their_record(store: peewee.Database) -> None:
    job = start_job(JobType.SYNCHRONIZATION, mapping="CUSTOMER")
    other = start_job(JobType.CREATION, mapping="CUSTOMER")
    error = add_job_error(
        job.id,
        "The Dataverse record coupled to 10000 was deleted.",
        detail="HTTP 404",
        source_description="Customer 10000",
        source_id="B1",
        destination_description="Account Adatum",
        destination_id="d1",
        bc_id="B1",
        dataverse_id="D1",
    )
    add_job_error(other.id, "Another failure.", bc_id="b2")
    assert job_errors(job.id) == [error]
    assert (error.bc_id, error.dataverse_id, error.source_id) == ("b1", "d1", "B1")
    assert record_errors(bc_id="b1") == [error]
    assert record_errors(dataverse_id="d1") == [error]
    assert record_errors() == []


def test_errors_logged_in_bulk_read_back_as_one_at_a_time(store: peewee.Database) -> None:
    job = start_job(JobType.MATCH_BASED_COUPLING, mapping="CUSTOMER")
    one = add_job_error(job.id, "First.", detail="d", source_description="Customer 1", bc_id="B1", dataverse_id="D1")
    many = [
        {"job_id": job.id, "message": f"Failure {n}.", "source_description": f"Customer {n}", "bc_id": f"B{n}"}
        for n in range(2, 1203)  # more than one INSERT's worth (500 rows each)
    ]
    many.append({"job_id": job.id, "message": "Last.", "destination_id": "x", "dataverse_id": "DV"})
    add_job_errors(many)
    logged = job_errors(job.id)
    assert logged[0] == one
    assert [e.message for e in logged[1:]] == [e["message"] for e in many]
    assert (logged[1].source_description, logged[1].bc_id, logged[1].detail, logged[1].dataverse_id) == (
        "Customer 2",
        "b2",
        "",
        None,
    )
    assert (logged[-1].bc_id, logged[-1].dataverse_id, logged[-1].destination_id) == (None, "dv", "x")
    assert all(e.created_at is not None and e.job_id == job.id for e in logged)
    assert record_errors(bc_id="b1202")[0].message == "Failure 1202."


def test_errors_overview_sorts_couplings_into_skipped_failed_and_broken(
    store: peewee.Database, make_skipped: Callable[[int], CouplingRecord]
) -> None:
    couple("CUSTOMER", "fine", "d0")
    failed = couple("CUSTOMER", "b1", "d1")
    record_sync_result(SyncResultUpdate(failed.id, SyncDirection.FROM_DATAVERSE, SyncResult.FAILURE, error="Bad."))
    skipped = couple("CUSTOMER", "b2", "d2")
    make_skipped(skipped.id)
    broken = couple("CONTACT", "b3", "d3")
    mark_broken(broken.id, Side.BC)
    overview = errors_overview()
    assert [r.bc_id for r in overview.failed] == ["b1"]
    assert [r.bc_id for r in overview.skipped] == ["b2"]
    assert [r.bc_id for r in overview.broken] == ["b3"]
    assert overview.total == 3
    assert errors_overview("CONTACT").total == 1
