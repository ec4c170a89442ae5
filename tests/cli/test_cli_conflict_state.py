"""A conflict found by ``sync --modified`` in the CLI: called a conflict in the job's text and JSON,
in ``errors``, ``status`` and ``log``, listed once; settled by choosing a side."""

from __future__ import annotations

from bc_tui.commands.output import EXIT_FAILURES, EXIT_OK
from tests.cli.conflicts import make_conflict


def test_a_conflict_is_a_conflict_listed_once_in_every_command(cli, sandbox) -> None:
    account_id = make_conflict(cli, sandbox)

    found = cli("sync", "--modified", "--mapping", "CUSTOMER", "--json")
    assert found.code == EXIT_FAILURES
    (job,) = found.json["jobs"]
    assert [(r["number"], r["outcome"]) for r in job["results"]] == [("10000", "conflict")]
    assert job["counters"]["conflicts"] == 1 and job["counters"]["failed"] == 0
    text = cli("sync", "--modified", "--mapping", "CUSTOMER")  # a repeated conflict: now Skipped
    assert text.out.startswith("Modified records of CUSTOMER: 1 conflict (job ")
    assert ": conflict - " in text.out and "failed" not in text.out.replace("0 records failed", "")

    errors = cli("errors", "--json").json
    assert (errors["total"], errors["skipped"], errors["conflict"], errors["failed"]) == (1, 1, 0, 0)
    assert "Phone No." in errors["couplings"][0]["error"]
    retried = cli("retry", "10000")
    assert retried.code == EXIT_OK
    errors = cli("errors", "--json").json
    assert (errors["total"], errors["conflict"], errors["failed"]) == (1, 1, 0)
    [row] = errors["couplings"]
    # Retry forgets the message (a retried record must repeat it twice to be skipped again).
    assert (row["number"], row["kind"]) == ("10000", "conflict") and "pick the side that wins" in row["error"]
    listed = cli("errors")
    assert "1 coupling needs attention: 0 skipped, 1 conflict, 0 failed, 0 broken." in listed.out
    assert listed.out.count("10000") == 1 and ": conflict - " in listed.out
    status = cli("status", "--json").json
    assert (status["conflict"], status["failed"]) == (1, 0)

    log = cli("log", "--json").json["jobs"]
    conflicted = [j for j in log if j["conflicts"]]
    assert conflicted and all(j["failed"] == 0 for j in conflicted)
    assert ": 1 conflict - The synchronization has run for 0 of 1 record." in cli("log").out

    # Business Central wins: the conflict is settled in both directions at once.
    assert cli("sync", "10000", "--direction", "to-dataverse").code == EXIT_OK
    assert sandbox.account(account_id)["telephone1"] == "+1 111 111 1111"
    assert cli("errors", "--json").json["total"] == 0
    assert "No couplings need attention." in cli("errors").out
