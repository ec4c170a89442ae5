"""Coupling claims: one running job per coupling, and a claim never outlives its job's run."""

from __future__ import annotations

import threading
from datetime import timedelta

import peewee
import pytest

from bc_tui.store import claims, database, jobs
from bc_tui.store.claims import CLAIM_LIFETIME
from bc_tui.store.fields import utc_now
from bc_tui.store.jobs import JobType
from bc_tui.store.models import CouplingClaim, SyncJob


def start() -> int:
    return jobs.start_job(JobType.SYNCHRONIZATION, mapping="CUSTOMER").id


def test_a_coupling_held_by_a_running_job_is_not_claimed_again(store: peewee.Database) -> None:
    first, second = start(), start()
    assert claims.claim(first, [1, 2, 3]).claimed == {1, 2, 3}

    outcome = claims.claim(second, [2, 3, 4])

    assert outcome.claimed == {4}
    assert set(outcome.held) == {2, 3}
    holder = outcome.held[2]
    assert (holder.job_id, holder.job_type) == (first, "synchronization")
    assert holder.started_at == jobs.get_job(first).started_at
    # The holder asking again keeps what it has.
    assert claims.claim(first, [1, 2, 3]).claimed == {1, 2, 3}


def test_released_claims_are_free_for_the_next_job(store: peewee.Database) -> None:
    first, second = start(), start()
    claims.claim(first, [1, 2, 3])

    assert claims.release(first, [1, 2]) == 2
    assert claims.claim(second, [1, 2, 3]).claimed == {1, 2}
    assert claims.release(first) == 1  # everything the job still held
    assert claims.claim(second, [3]).claimed == {3}


@pytest.mark.parametrize("status", ["finished", "cancelled", "crashed", "interrupted"])
def test_a_claim_of_a_job_that_no_longer_runs_never_blocks(store: peewee.Database, status: str) -> None:
    gone, next_job = start(), start()
    claims.claim(gone, [7, 8])
    # "interrupted" is what dead-process detection marks; any status but running ends a claim.
    SyncJob.update(status=status).where(SyncJob.id == gone).execute()

    assert claims.claim(next_job, [7, 8]).claimed == {7, 8}
    assert {row.job_id for row in CouplingClaim.select()} == {next_job}


def test_a_claim_whose_job_row_was_cleaned_up_never_blocks(store: peewee.Database) -> None:
    gone, next_job = start(), start()
    claims.claim(gone, [5])
    jobs.finish_job(gone)
    SyncJob.delete().where(SyncJob.id == gone).execute()  # e.g. removed by hand from the database

    assert claims.claim(next_job, [5]).claimed == {5}


def test_a_claim_older_than_its_lifetime_is_taken_over(store: peewee.Database) -> None:
    stuck, next_job = start(), start()  # "stuck": its process died, its job still says running
    claims.claim(stuck, [9, 10])
    long_ago = utc_now() - CLAIM_LIFETIME - timedelta(seconds=1)
    CouplingClaim.update(claimed_at=long_ago).where(CouplingClaim.coupling_id == 9).execute()

    outcome = claims.claim(next_job, [9, 10])

    assert outcome.claimed == {9}
    assert set(outcome.held) == {10}


def test_many_couplings_are_claimed_in_bulk(store: peewee.Database) -> None:
    job = start()
    ids = list(range(1, 1001))  # more than one statement's worth

    assert claims.claim(job, ids).claimed == set(ids)
    assert claims.release(job, ids) == len(ids)


@pytest.mark.parametrize("empty_db", ["sqlite-file", "postgresql"], indirect=True)
def test_jobs_racing_for_the_same_couplings_get_each_one_once(store: peewee.Database) -> None:
    """Several connections claim the same couplings at the same moment: each goes to one job."""
    ids = list(range(1, 301))
    racers = 4
    job_ids = [start() for _ in range(racers)]
    barrier = threading.Barrier(racers)
    won: dict[int, frozenset[int]] = {}
    failures: list[BaseException] = []

    def race(job_id: int) -> None:
        try:
            barrier.wait(timeout=30)
            won[job_id] = claims.claim(job_id, ids).claimed
        except BaseException as error:  # noqa: BLE001 - any failure in the thread is reported by the main thread
            failures.append(error)
        finally:
            database.close()  # this thread's own connection

    threads = [threading.Thread(target=race, args=(job_id,)) for job_id in job_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert failures == []
    assert sum(len(got) for got in won.values()) == len(ids)
    assert set().union(*won.values()) == set(ids)
