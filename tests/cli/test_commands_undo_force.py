"""``bc-tui undo JOB NO --force FIELD`` against the embedded sandbox (docs/undo-and-history.md
"Forcing a record changed since")."""

from __future__ import annotations

from bc_tui.commands.output import EXIT_OK, EXIT_USAGE


def _sent_then_changed(cli, sandbox) -> tuple[str, int, dict[str, str]]:
    """Customer 10000 coupled, its City and Phone No. sent to Dataverse by a job, then both
    changed in Dataverse: (account id, the job's number, the account's values before the job)."""
    coupled = cli("couple", "10000", "--to", "Adatum Corporation", "--sync", "to-dataverse", "--json")
    assert coupled.code == EXIT_OK, coupled.err
    account_id = str(coupled.json["dataverse_id"])
    account = sandbox.account(account_id)
    old = {name: account[name] for name in ("address1_city", "telephone1")}
    sandbox.edit("bc/customers", sandbox.customer("10000")["id"], {"city": "Redmond", "phoneNumber": "+1 425 555 0101"})
    sent = cli("sync", "10000", "--direction", "to-dataverse", "--json")
    assert sent.code == EXIT_OK, sent.err
    sandbox.edit("dv/accounts", account_id, {"address1_city": "Kirkland", "telephone1": "+1 425 555 0199"})
    return account_id, sent.json["job_id"], old


def test_force_one_field_by_its_label(cli, sandbox) -> None:
    account_id, job, old = _sent_then_changed(cli, sandbox)

    undone = cli("undo", str(job), "10000", "--force", "City", "--json")

    assert undone.code == EXIT_OK, undone.err
    [result] = undone.json["results"]
    assert (result["number"], result["outcome"]) == ("10000", "modified")
    assert result["message"].endswith("City put back as forced, Phone No. kept as changed since.")
    account = sandbox.account(account_id)
    assert (account["address1_city"], account["telephone1"]) == (old["address1_city"], "+1 425 555 0199")


def test_force_every_field_the_job_wrote(cli, sandbox) -> None:
    account_id, job, old = _sent_then_changed(cli, sandbox)

    undone = cli("undo", str(job), "10000", "--force", "*")

    assert undone.code == EXIT_OK, undone.err
    assert f"Undo of job {job}: 1 record put back, 0 not touched" in undone.out
    account = sandbox.account(account_id)
    assert (account["address1_city"], account["telephone1"]) == (old["address1_city"], old["telephone1"])


def test_bad_force_is_one_sentence_and_exit_2(cli, sandbox) -> None:
    account_id, job, _ = _sent_then_changed(cli, sandbox)

    unknown = cli("undo", str(job), "10000", "--force", "Colour")
    assert (unknown.code, unknown.out) == (EXIT_USAGE, "")
    assert (
        "The table mapping CUSTOMER has no field 'Colour' to force; name a field by its label, its BC or "
        "Dataverse name, or * for every field the job wrote." in unknown.err
    )
    assert "Traceback" not in unknown.err

    no_record = cli("undo", str(job), "--force", "City")
    assert no_record.code == EXIT_USAGE
    assert f"Name the BC numbers of the records whose fields to force: bc-tui undo {job} NO --force FIELD." in (
        no_record.err
    )

    empty = cli("undo", str(job), "10000", "--force", " ")
    assert empty.code == EXIT_USAGE and "Name the field to force after --force" in empty.err

    # Nothing was written by the refused commands.
    account = sandbox.account(account_id)
    assert (account["address1_city"], account["telephone1"]) == ("Kirkland", "+1 425 555 0199")
