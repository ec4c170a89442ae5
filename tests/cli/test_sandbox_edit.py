"""``bc-tui sandbox edit`` aimed at one record (``--number`` / ``--id`` / ``--name`` with ``--set``):
the path README gives to make a conflict on purpose, and its bad input (one sentence, exit 2,
nothing changed)."""

from __future__ import annotations

from typing import Any

import pytest

from bc_tui.commands.output import EXIT_FAILURES, EXIT_OK

EXIT_USAGE = 2


def edit(cli: Any, sandbox: Any, *args: str) -> Any:
    """Run ``bc-tui sandbox edit`` on the embedded sandbox's data folder."""
    return cli("sandbox", "edit", "--data", str(sandbox.path.parent), *args)


def test_a_conflict_made_on_purpose_with_set_on_both_sides(cli, sandbox) -> None:
    coupled = cli("couple", "10000", "--to", "Adatum Corporation", "--sync", "to-dataverse", "--json")
    assert coupled.code == EXIT_OK, coupled.err
    account_id = coupled.json["dataverse_id"]

    bc = edit(cli, sandbox, "--side", "bc", "--number", "10000", "--set", "city=Oslo", "--set", "phoneNumber=+47 1")
    assert bc.code == EXIT_OK, bc.err
    assert bc.out.startswith("Changed BC customer 10000 'Adatum Corporation': city ") and "-> 'Oslo'" in bc.out
    dv = edit(cli, sandbox, "--side", "dataverse", "--name", "Adatum Corporation", "--set", "address1_city=Bergen")
    assert dv.code == EXIT_OK, dv.err
    customer = sandbox.customer("10000")
    assert (customer["city"], customer["phoneNumber"]) == ("Oslo", "+47 1")
    assert sandbox.account(account_id)["address1_city"] == "Bergen"

    found = cli("sync", "--modified", "--mapping", "CUSTOMER", "--json")
    assert found.code == EXIT_FAILURES
    (job,) = found.json["jobs"]
    assert [(r["number"], r["outcome"]) for r in job["results"]] == [("10000", "conflict")]
    assert "City" in cli("errors", "--json").json["couplings"][0]["error"]


def test_id_targets_one_record_and_values_are_typed_as_the_service_types_them(cli, sandbox) -> None:
    account = next(a for a in sandbox.rows("dv/accounts") if a["name"] == "Trey Research")
    done = edit(
        cli,
        sandbox,
        "--side", "dataverse", "--id", account["accountid"].upper(),
        "--set", "creditlimit=2500.5", "--set", "accountnumber=TR-1", "--set", "address1_line2=",
    )  # fmt: skip
    assert done.code == EXIT_OK, done.err
    changed = sandbox.account(account["accountid"])
    assert (changed["creditlimit"], changed["accountnumber"], changed["address1_line2"]) == (2500.5, "TR-1", None)
    others = {a["accountid"]: a for a in sandbox.rows("dv/accounts") if a["accountid"] != account["accountid"]}
    assert all(a.get("accountnumber") != "TR-1" for a in others.values())
    # BC: a Code field is kept upper-case, a Boolean is true or false.
    done = edit(
        cli, sandbox, "--side", "bc", "--number", "20000", "--set", "postalCode=ab 12", "--set", "taxLiable=true"
    )
    assert done.code == EXIT_OK, done.err
    assert (sandbox.customer("20000")["postalCode"], sandbox.customer("20000")["taxLiable"]) == ("AB 12", True)


def test_a_named_record_without_set_gets_a_colleagues_change(cli, sandbox) -> None:
    before = {c["number"]: c for c in sandbox.rows("bc/customers")}
    done = edit(cli, sandbox, "--side", "bc", "--number", "30000", "--seed", "4")
    assert done.code == EXIT_OK and done.out.startswith("Changed BC customer 30000 ")
    after = {c["number"]: c for c in sandbox.rows("bc/customers")}
    assert [n for n in after if after[n]["_version"] != before[n]["_version"]] == ["30000"]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--side", "bc", "--number", "99999", "--set", "city=Oslo"), ("no BC customer with the number 99999",)),
        (("--side", "dataverse", "--id", "not-a-guid", "--set", "name=X"), ("no Dataverse account with the id",)),
        (("--side", "bc", "--number", "10000", "--set", "cty=Oslo"), ("no field 'cty'", "did you mean city?")),
        (("--side", "dataverse", "--name", "Trey Research", "--set", "city=Oslo"), ("did you mean address1_city?",)),
        (("--side", "bc", "--number", "10000", "--set", "city"), ("--set takes FIELD=VALUE",)),
        (("--side", "bc", "--number", "10000", "--set", "creditLimit=lots"), ("takes a number, not 'lots'",)),
        (("--side", "bc", "--number", "10000", "--set", "id=x"), ("cannot be set here",)),
        (("--side", "bc", "--number", "10000", "--set", "city=" + "O" * 31), ("at most 30 characters",)),
        (("--side", "bc", "--number", "10000", "--set", "blocked=Nope"), ("is one of",)),
        (("--side", "bc", "--set", "city=Oslo"), ("--set needs the record to change",)),
        (("--side", "bc", "--number", "10000", "--count", "2"), ("--count changes records at random",)),
        (("--side", "bc", "--number", "10000", "--id", "x"), ("not allowed with argument",)),
    ],
)
def test_bad_input_is_one_sentence_and_changes_nothing(
    cli, sandbox, args: tuple[str, ...], words: tuple[str, ...]
) -> None:
    before = sandbox.rows("bc/customers") + sandbox.rows("dv/accounts")
    result = edit(cli, sandbox, *args)
    assert result.code == EXIT_USAGE and result.out == ""
    [sentence] = result.err.splitlines()
    assert sentence.startswith("bc-tui: ") and "Traceback" not in result.err
    for word in words:
        assert word in sentence, sentence
    assert sandbox.rows("bc/customers") + sandbox.rows("dv/accounts") == before


def test_two_records_of_one_name_are_told_apart_by_id(cli, sandbox) -> None:
    account = next(a for a in sandbox.rows("dv/accounts") if a["name"] == "Trey Research")
    twin = next(a for a in sandbox.rows("dv/accounts") if a["name"] == "Relecloud")
    sandbox.edit("dv/accounts", twin["accountid"], {"name": "Trey Research"})
    result = edit(cli, sandbox, "--side", "dataverse", "--name", "Trey Research", "--set", "address1_city=Oslo")
    assert result.code == EXIT_USAGE
    assert "2 Dataverse accounts have the name 'Trey Research'; choose one with --id" in result.err
    assert account["accountid"] in result.err and twin["accountid"] in result.err
