"""status, couple, sync, create, uncouple and match against the embedded sandbox."""

from __future__ import annotations

from pathlib import Path

from bc_tui.commands.common import SANDBOX_NOTE
from bc_tui.commands.output import EXIT_FAILURES, EXIT_OK, EXIT_USAGE


def _key(name: str) -> str:
    """Names as the duplicate check compares them: case and spacing ignored."""
    return " ".join(name.split()).casefold()


def test_status_reports_the_sandbox_and_an_empty_database(cli, data_dir: Path) -> None:
    result = cli("status")
    assert result.code == EXIT_OK
    assert SANDBOX_NOTE in result.err
    assert "sandbox (demo data)" in result.out and "CRONUS" in result.out
    assert str(data_dir / "coupling.sqlite") in result.out

    document = cli("status", "--json").json
    assert document["sandbox"] is True
    assert document["business_central"]["ok"] and document["dataverse"]["ok"]
    assert document["couplings"] == {"CUSTOMER": 0, "CONTACT": 0}
    assert (document["skipped"], document["failed"], document["broken"]) == (0, 0, 0)
    assert document["last_job"] is None


def test_database_option_chooses_the_coupling_database(cli, tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.sqlite"
    document = cli("status", "--json", "--database", f"sqlite:///{target}").json
    assert document["database"] == str(target) and target.exists()


def test_couple_by_name_then_sync_both_directions(cli, sandbox) -> None:
    coupled = cli("couple", "10000", "--to", "Adatum Corporation", "--json")
    assert coupled.code == EXIT_OK, coupled.err
    document = coupled.json
    assert document["number"] == "10000" and document["dataverse_id"] and document["sync"] is None
    account_id = document["dataverse_id"]

    sandbox.edit("bc/customers", sandbox.customer("10000")["id"], {"phoneNumber": "+1 425 555 0101"})
    sent = cli("sync", "10000", "--direction", "to-dataverse", "--json")
    assert sent.code == EXIT_OK, sent.err
    assert sent.json["counters"]["modified"] == 1
    assert sent.json["results"][0]["number"] == "10000" and sent.json["results"][0]["outcome"] == "modified"
    assert sandbox.account(account_id)["telephone1"] == "+1 425 555 0101"

    # Only Dataverse changed now: without --direction the recommendation is to get, and it says why.
    sandbox.edit("dv/accounts", account_id, {"address1_city": "Tacoma"})
    got = cli("sync", "10000")
    assert got.code == EXIT_OK, got.err
    assert "Recommended for 10000: from-dataverse" in got.out and "City changed in Dataverse" in got.out
    assert sandbox.customer("10000")["city"] == "Tacoma"


def test_create_in_dataverse_and_uncouple(cli, sandbox) -> None:
    names = {_key(a["name"]) for a in sandbox.rows("dv/accounts")}
    lonely = next(
        c for c in sandbox.rows("bc/customers") if _key(c["displayName"]) not in names and not c["blocked"].strip()
    )

    created = cli("create", lonely["number"], "--json")
    assert created.code == EXIT_OK, created.err
    result = created.json["results"][0]
    assert created.json["counters"]["inserted"] == 1 and result["outcome"] == "inserted"
    assert sandbox.account(result["dataverse_id"])["name"] == lonely["displayName"]
    assert cli("status", "--json").json["couplings"]["CUSTOMER"] == 1

    # Creating it again must not duplicate it: the record is already coupled.
    again = cli("create", lonely["number"], "--json")
    assert again.json["counters"]["inserted"] == 0 and again.json["results"][0]["outcome"] == "skipped"

    removed = cli("uncouple", lonely["number"])
    assert removed.code == EXIT_OK and "uncoupled" in removed.out
    assert cli("status", "--json").json["couplings"]["CUSTOMER"] == 0
    assert sandbox.account(result["dataverse_id"])["name"] == lonely["displayName"]  # uncoupling deletes nothing


def test_create_in_business_central_from_dataverse(cli, sandbox) -> None:
    customers = {_key(c["displayName"]) for c in sandbox.rows("bc/customers")}
    only_dv = next(a for a in sandbox.rows("dv/accounts") if _key(a["name"]) not in customers)
    created = cli("create", "--from-dataverse", only_dv["accountid"], "--json")
    assert created.code == EXIT_OK, created.err
    assert created.json["counters"]["inserted"] == 1
    assert any(c["displayName"] == only_dv["name"] for c in sandbox.rows("bc/customers"))


def test_match_couples_by_name_and_reports_the_unmatched(cli) -> None:
    result = cli("match", "--field", "Name", "--json")
    document = result.json
    assert document["counters"]["coupled"] > 10
    unmatched = [r for r in document["results"] if r["outcome"] == "unmatched"]
    assert unmatched and all("no unique uncoupled matching" in r["message"] for r in unmatched)
    # Unmatched has a key of its own; the keys of before are all still there, failed among them.
    assert document["counters"]["unmatched"] == len(unmatched) and document["counters"]["failed"] == 0
    assert result.code == EXIT_FAILURES  # some records found no match: as before
    assert f"{len(unmatched)} unmatched" in cli("match", "--field", "Name").out.splitlines()[0]
    assert cli("status", "--json").json["couplings"]["CUSTOMER"] == document["counters"]["coupled"]

    unknown = cli("match", "--field", "Shoe Size")
    assert unknown.code == EXIT_USAGE and "no field 'Shoe Size'" in unknown.err and unknown.out == ""


def test_several_records_need_a_direction(cli) -> None:
    result = cli("sync", "10000", "20000")
    assert result.code == EXIT_USAGE
    assert "--direction" in result.err and "Traceback" not in result.err


def test_several_records_are_sent_and_uncoupled_ones_skipped(cli, sandbox) -> None:
    coupled = cli("couple", "10000", "--to", "Adatum Corporation", "--sync", "to-dataverse", "--json")
    assert coupled.code == EXIT_OK, coupled.err
    assert coupled.json["sync"]["status"] == "finished" and coupled.json["sync"]["counters"]["failed"] == 0
    sandbox.edit("bc/customers", sandbox.customer("10000")["id"], {"email": "orders@adatum.example"})

    result = cli("sync", "10000", "20000", "--direction", "to-dataverse", "--json")
    assert result.code == EXIT_OK, result.err
    outcomes = {r["number"]: r for r in result.json["results"]}
    assert outcomes["20000"]["outcome"] == "skipped" and "not coupled" in outcomes["20000"]["message"]
    assert outcomes["10000"]["outcome"] == "modified"
    assert sandbox.account(coupled.json["dataverse_id"])["emailaddress1"] == "orders@adatum.example"


def test_couple_by_dataverse_id_and_with_create_new(cli, sandbox) -> None:
    trey = next(a for a in sandbox.rows("dv/accounts") if a["name"] == "Trey Research")
    by_id = cli("couple", "20000", "--dataverse-id", trey["accountid"], "--json")
    assert by_id.code == EXIT_OK and by_id.json["dataverse_id"] == trey["accountid"]
    # Coupling is one-to-one: another customer cannot take the same account.
    taken = cli("couple", "10000", "--dataverse-id", trey["accountid"])
    assert taken.code == EXIT_USAGE and "Traceback" not in taken.err and taken.out == ""

    names = {_key(a["name"]) for a in sandbox.rows("dv/accounts")}
    lonely = next(
        c for c in sandbox.rows("bc/customers") if _key(c["displayName"]) not in names and not c["blocked"].strip()
    )
    created = cli("couple", lonely["number"], "--create-new", "--json")
    assert created.code == EXIT_OK, created.err
    assert (
        created.json["created"] is True
        and sandbox.account(created.json["dataverse_id"])["name"] == lonely["displayName"]
    )
    assert cli("couple", lonely["number"], "--create-new", "--sync", "to-dataverse").code == EXIT_USAGE
