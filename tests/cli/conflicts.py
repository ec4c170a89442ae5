"""A real conflict made through the CLI and the sandbox, for the CLI tests that read it back."""

from __future__ import annotations

from typing import Any

from bc_tui.commands.output import EXIT_OK


def make_conflict(cli: Any, sandbox: Any, dataverse_phone: str = "+1 222 222 2222") -> str:
    """Couple 10000 in sync, then change its phone number differently on both sides (Dataverse's
    to ``dataverse_phone``); returns the coupled account's id."""
    coupled = cli("couple", "10000", "--to", "Adatum Corporation", "--sync", "to-dataverse", "--json")
    assert coupled.code == EXIT_OK, coupled.err
    sandbox.edit("bc/customers", sandbox.customer("10000")["id"], {"phoneNumber": "+1 111 111 1111"})
    sandbox.edit("dv/accounts", coupled.json["dataverse_id"], {"telephone1": dataverse_phone})
    return str(coupled.json["dataverse_id"])
