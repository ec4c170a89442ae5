"""``bc-tui undo`` and ``bc-tui history`` against the embedded sandbox (docs/undo-and-history.md)."""

from __future__ import annotations

from bc_tui.commands.output import EXIT_FAILURES, EXIT_OK, EXIT_USAGE


def _couple_adatum(cli) -> str:
    """Couple customer 10000 with its account and synchronize once (the baseline)."""
    coupled = cli("couple", "10000", "--to", "Adatum Corporation", "--sync", "to-dataverse", "--json")
    assert coupled.code == EXIT_OK, coupled.err
    return str(coupled.json["dataverse_id"])


def test_undo_a_send_and_read_the_history(cli, sandbox) -> None:
    account_id = _couple_adatum(cli)
    old_phone = sandbox.account(account_id)["telephone1"]
    sandbox.edit("bc/customers", sandbox.customer("10000")["id"], {"phoneNumber": "+1 425 555 0101"})
    sent = cli("sync", "10000", "--direction", "to-dataverse", "--json")
    assert sent.code == EXIT_OK, sent.err
    job = sent.json["job_id"]

    undone = cli("undo", str(job), "--json")

    assert undone.code == EXIT_OK, undone.err
    document = undone.json
    assert document["undone_job_id"] == job and document["counters"]["modified"] == 1
    assert document["results"][0]["number"] == "10000" and document["results"][0]["outcome"] == "modified"
    assert sandbox.account(account_id)["telephone1"] == old_phone

    text = cli("history", "10000")
    assert text.code == EXIT_OK, text.err
    lines = text.out.splitlines()
    assert lines[0] == "History of 10000 (CUSTOMER), newest first:"
    assert f"job {document['job_id']} Synchronization send: Dataverse" in lines[1]
    assert lines[2] == f"    Phone No.: '+1 425 555 0101' -> {old_phone!r}"
    assert f"job {job} Synchronization send: Dataverse" in lines[3]
    assert lines[4] == f"    Phone No.: {old_phone!r} -> '+1 425 555 0101'"

    entries = cli("history", "10000", "--json").json["entries"]
    assert [e["job_id"] for e in entries][:2] == [document["job_id"], job]
    assert entries[1]["fields"] == [
        {"label": "Phone No.", "field": "telephone1", "before": old_phone, "after": "+1 425 555 0101"}
    ]


def test_a_record_changed_since_is_reported_and_the_exit_code_says_so(cli, sandbox) -> None:
    account_id = _couple_adatum(cli)
    sandbox.edit("bc/customers", sandbox.customer("10000")["id"], {"city": "Redmond"})
    job = cli("sync", "10000", "--direction", "to-dataverse", "--json").json["job_id"]
    sandbox.edit("dv/accounts", account_id, {"address1_city": "Kirkland"})

    undone = cli("undo", str(job), "10000")

    assert undone.code == EXIT_FAILURES
    assert "Undo: 1 skipped" in undone.out and f"Undo of job {job}: 0 records put back, 1 not touched" in undone.out
    assert "was changed in Dataverse after job" in undone.out and "(City), so it was not touched" in undone.out
    assert sandbox.account(account_id)["address1_city"] == "Kirkland"


def test_undo_of_a_creation_asks_for_delete_created(cli, sandbox) -> None:
    accounts = {a["name"].casefold() for a in sandbox.rows("dv/accounts")}
    lonely = next(
        c
        for c in sandbox.rows("bc/customers")
        if c["displayName"].casefold() not in accounts and not c["blocked"].strip()
    )
    created = cli("create", lonely["number"], "--json")
    job, account_id = created.json["job_id"], created.json["results"][0]["dataverse_id"]

    asked = cli("undo", str(job))
    assert asked.code == EXIT_FAILURES
    assert f"'bc-tui undo {job} --delete-created' deletes them" in asked.out
    assert sandbox.account(account_id) is not None

    deleted = cli("undo", str(job), "--delete-created", "--json")
    assert deleted.code == EXIT_OK, deleted.err
    assert deleted.json["counters"]["deleted"] == 1
    assert sandbox.account(account_id) is None
    assert cli("status", "--json").json["couplings"]["CUSTOMER"] == 0


def test_bad_input_is_one_sentence_and_exit_2(cli, sandbox) -> None:
    _couple_adatum(cli)
    job = cli("sync", "10000", "--direction", "to-dataverse", "--json").json["job_id"]

    unknown = cli("undo", "999")
    assert (unknown.code, unknown.out) == (EXIT_USAGE, "")
    assert "There is no synchronization job 999; 'bc-tui log' lists the jobs." in unknown.err
    assert "Traceback" not in unknown.err

    nothing = cli("undo", str(job))  # the record was unchanged: the job wrote nothing
    assert nothing.code == EXIT_USAGE and f"job {job} wrote nothing" in nothing.err

    not_a_number = cli("undo", "seven")
    assert not_a_number.code == EXIT_USAGE and "'seven' is not a whole number" in not_a_number.err

    no_such_record = cli("undo", str(job), "NOPE-1")
    assert (
        no_such_record.code == EXIT_USAGE and "No coupled customer of CUSTOMER is numbered NOPE-1" in no_such_record.err
    )

    no_history = cli("history", "NOPE-1")
    assert no_history.code == EXIT_USAGE and "no customer numbered NOPE-1" in no_history.err

    never = cli("history", "20000")
    assert (never.code, never.out.strip()) == (EXIT_OK, "No synchronization job has written 20000 yet.")
