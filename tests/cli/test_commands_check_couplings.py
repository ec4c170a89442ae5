"""``bc-tui check-couplings``: broken couplings found without a synchronization (exit code 1 when
some are), then listed by ``bc-tui errors`` and fixed by ``bc-tui resolve``."""

from __future__ import annotations

from typing import Any

from bc_tui.commands.output import EXIT_FAILURES, EXIT_OK, EXIT_USAGE
from tests.cli.test_commands_resolve import _broken


def test_check_couplings_finds_a_broken_coupling_without_a_sync(cli: Any, sandbox: Any) -> None:
    assert cli("couple", "20000", "--to", "Trey Research").code == EXIT_OK
    _broken(cli, sandbox, "10000", "Adatum Corporation")
    assert cli("errors", "--json").json["total"] == 0  # nothing has looked at the records yet

    checked = cli("check-couplings", "--mapping", "customer")
    assert checked.code == EXIT_FAILURES, checked.err
    assert "CUSTOMER: Checked 2 couplings: 1 broken." in checked.out
    assert "its Dataverse record was deleted" in checked.out
    assert "bc-tui resolve" in checked.out

    errors = cli("errors", "--json").json
    assert errors["broken"] == 1 and errors["couplings"][0]["number"] == "10000"
    assert cli("resolve", "10000", "--delete-coupling").code == EXIT_OK
    again = cli("check-couplings", "--json")
    assert again.code == EXIT_OK and again.json["broken"] == 0
    assert again.json["mappings"]["CUSTOMER"]["checked"] == 1


def test_an_unknown_mapping_is_a_usage_error(cli: Any, sandbox: Any) -> None:
    result = cli("check-couplings", "--mapping", "vendors")
    assert result.code == EXIT_USAGE and result.err.count("\n") == 1
