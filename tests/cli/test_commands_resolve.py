"""``bc-tui resolve``: broken couplings restored, uncoupled or settled by deleting the survivor."""

from __future__ import annotations

from typing import Any

from bc_tui.commands.output import EXIT_OK, EXIT_USAGE
from bc_tui.sandbox.store import EntityStore


def _delete_account(sandbox: Any, account_id: str) -> None:
    store = EntityStore(sandbox.path)
    try:
        store.delete("dv/accounts", account_id)
    finally:
        store.close()


def _broken(cli: Any, sandbox: Any, number: str, name: str) -> str:
    coupled = cli("couple", number, "--to", name, "--json")
    assert coupled.code == EXIT_OK, coupled.err
    _delete_account(sandbox, coupled.json["dataverse_id"])
    return coupled.json["dataverse_id"]


def test_restore_recreates_the_deleted_account_and_couples_it(cli, sandbox) -> None:
    old_id = _broken(cli, sandbox, "10000", "Adatum Corporation")
    restored = cli("resolve", "10000", "--restore", "--find", "--json")
    assert restored.code == EXIT_OK, restored.err
    again = [a for a in sandbox.rows("dv/accounts") if a["name"] == "Adatum Corporation"]
    assert len(again) == 1 and again[0]["accountid"] != old_id
    assert cli("errors", "--json").json["total"] == 0


def test_delete_coupling_leaves_the_survivor(cli, sandbox) -> None:
    _broken(cli, sandbox, "10000", "Adatum Corporation")
    result = cli("resolve", "--all", "--delete-coupling", "--find")
    assert result.code == EXIT_OK and "Deleted 1 broken coupling" in result.out
    assert sandbox.customer("10000")["displayName"] == "Adatum Corporation"
    assert cli("errors", "--json").json["total"] == 0


def test_delete_record_removes_the_surviving_customer(cli, sandbox) -> None:
    _broken(cli, sandbox, "10000", "Adatum Corporation")
    result = cli("resolve", "10000", "--delete-record", "--find", "--json")
    assert result.code == EXIT_OK, result.err
    assert not [c for c in sandbox.rows("bc/customers") if c["number"] == "10000"]


def test_unknown_or_missing_choice_is_a_usage_error(cli, sandbox) -> None:
    assert cli("resolve", "10000", "--restore").code == EXIT_USAGE  # not broken
    assert cli("resolve", "--restore").code == EXIT_USAGE  # neither numbers nor --all
