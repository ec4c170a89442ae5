"""``bc-tui sync NO --prefer FIELD=bc|dataverse`` and ``--whole-record``: decisions field by field
(docs/coupling-and-sync.md "Conflicts, field by field"), asserted on the sandbox's data."""

from __future__ import annotations

from typing import Any

import pytest

from bc_tui.commands.output import EXIT_FAILURES, EXIT_OK, EXIT_USAGE


def _adatum(cli: Any, sandbox: Any) -> tuple[str, str]:
    """Couple 10000 in sync; then City and E-Mail change in BC, City and Phone No. in Dataverse."""
    coupled = cli("couple", "10000", "--to", "Adatum Corporation", "--sync", "to-dataverse", "--json")
    assert coupled.code == EXIT_OK, coupled.err
    bc_id, account_id = sandbox.customer("10000")["id"], coupled.json["dataverse_id"]
    sandbox.edit("bc/customers", bc_id, {"city": "Lyon", "email": "new@adatum.example"})
    sandbox.edit("dv/accounts", account_id, {"address1_city": "Paris", "telephone1": "+1 222 222 2222"})
    return bc_id, account_id


def _values(sandbox: Any, account_id: str) -> tuple[tuple[str, str, str], tuple[str, str, str]]:
    bc, dv = sandbox.customer("10000"), sandbox.account(account_id)
    return (bc["city"], bc["email"], bc["phoneNumber"]), (dv["address1_city"], dv["emailaddress1"], dv["telephone1"])


@pytest.mark.parametrize(
    ("prefer", "city"),
    [("City=dataverse", "Paris"), ("city=bc", "Lyon"), ("address1_city=dataverse", "Paris"), ("*=bc", "Lyon")],
)
def test_prefer_picks_the_winner_of_the_conflicting_field_and_keeps_every_other_change(
    cli: Any, sandbox: Any, prefer: str, city: str
) -> None:
    _, account_id = _adatum(cli, sandbox)
    result = cli("sync", "10000", "--prefer", prefer, "--json")
    assert result.code == EXIT_OK, result.err
    assert result.json["direction"] == "merge" and result.json["conflicts"] == []
    expected = (city, "new@adatum.example", "+1 222 222 2222")
    assert _values(sandbox, account_id) == (expected, expected)
    fields = {f["field"]: f for f in result.json["fields"]}
    loser = "bc" if city == "Paris" else "dataverse"
    assert fields["City"]["overwrites_changes_in"] == [loser] and fields["City"]["conflict"]
    assert fields["Phone No."]["written_to"] == ["bc"] and fields["Phone No."]["overwrites_changes_in"] == []
    # A second synchronization writes nothing.
    again = cli("sync", "10000", "--json")
    assert again.code == EXIT_OK and again.json["counters"]["modified"] == 0


def test_the_text_output_says_what_each_field_gets(cli: Any, sandbox: Any) -> None:
    _adatum(cli, sandbox)
    result = cli("sync", "10000", "--prefer", "City=dataverse")
    assert result.code == EXIT_OK, result.err
    assert "City: Dataverse 'Paris' overwrites Business Central 'Lyon'." in result.out
    assert "Phone No.: Dataverse '+1 222 222 2222' goes to Business Central" in result.out


def test_a_direction_wins_only_the_conflicting_fields(cli: Any, sandbox: Any) -> None:
    _, account_id = _adatum(cli, sandbox)
    result = cli("sync", "10000", "--direction", "to-dataverse", "--json")
    assert result.code == EXIT_OK, result.err
    expected = ("Lyon", "new@adatum.example", "+1 222 222 2222")
    assert _values(sandbox, account_id) == (expected, expected)


def test_whole_record_overwrites_every_differing_field_and_lists_them(cli: Any, sandbox: Any) -> None:
    _, account_id = _adatum(cli, sandbox)
    phone = sandbox.customer("10000")["phoneNumber"]
    result = cli("sync", "10000", "--direction", "to-dataverse", "--whole-record")
    assert result.code == EXIT_OK, result.err
    assert "City: Business Central 'Lyon' overwrites Dataverse 'Paris'." in result.out
    assert f"Phone No.: Business Central '{phone}' overwrites Dataverse '+1 222 222 2222'." in result.out
    expected = ("Lyon", "new@adatum.example", phone)
    assert _values(sandbox, account_id) == (expected, expected)


def test_prefer_for_another_field_leaves_the_conflict(cli: Any, sandbox: Any) -> None:
    bc_id, account_id = _adatum(cli, sandbox)
    before = _values(sandbox, account_id)
    result = cli("sync", "10000", "--prefer", "Phone No.=bc", "--json")
    assert result.code == EXIT_FAILURES
    assert [(c["bc_id"], c["fields"]) for c in result.json["conflicts"]] == [(bc_id, ["City"])]
    assert _values(sandbox, account_id) == before


def test_several_records_skip_conflicts_unless_prefer_names_a_side(cli: Any, sandbox: Any) -> None:
    _, account_id = _adatum(cli, sandbox)
    assert cli("couple", "20000", "--to", "Trey Research").code == EXIT_OK
    before = _values(sandbox, account_id)
    skipped = cli("sync", "10000", "20000", "--direction", "from-dataverse", "--json")
    assert skipped.code == EXIT_FAILURES
    assert [c["description"].split()[1] for c in skipped.json["conflicts"]] == ["10000"]
    assert _values(sandbox, account_id) == before
    won = cli("sync", "10000", "20000", "--direction", "from-dataverse", "--prefer", "*=dataverse", "--json")
    assert won.code == EXIT_OK, won.err
    assert won.json["prefer"] == {"*": "dataverse"}
    expected = ("Paris", "new@adatum.example", "+1 222 222 2222")
    assert _values(sandbox, account_id) == (expected, expected)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--prefer", "Town=bc"), ("no enabled field mapping called 'Town'",)),
        (("--prefer", "City=sandbox"), ("FIELD=bc or FIELD=dataverse",)),
        (("--prefer", "City"), ("FIELD=bc or FIELD=dataverse",)),
        (("--whole-record",), ("--whole-record needs --direction",)),
        (("--direction", "to-dataverse", "--whole-record", "--prefer", "City=bc"), ("drop --prefer",)),
    ],
)
def test_bad_prefer_is_one_sentence_and_exit_2(
    cli: Any, sandbox: Any, args: tuple[str, ...], words: tuple[str, ...]
) -> None:
    _, account_id = _adatum(cli, sandbox)
    before = _values(sandbox, account_id)
    result = cli("sync", "10000", *args)
    assert result.code == EXIT_USAGE, (result.out, result.err)
    assert result.out == "" and "Traceback" not in result.err
    lines = [line for line in result.err.strip().splitlines() if line.startswith("bc-tui: ")]
    assert len(lines) == 1 and all(word in lines[0] for word in words), result.err
    assert _values(sandbox, account_id) == before
