"""``bc-tui status`` lists the schema check's findings; a sync carries a custom field and never fails with a 400."""

from __future__ import annotations

import os
from pathlib import Path

from bc_tui.commands.output import EXIT_OK

CONFIG = """
[mappings.CUSTOMER.fields."VAT Registration No."]
bc_field = "taxRegistrationNumber"
dataverse_field = "new_vatregistrationnumber"
direction = "to-dataverse"

[mappings.CUSTOMER.fields."Customer Rating"]
bc_field = "customerRating"
dataverse_field = "new_customerrating"

[mappings.CUSTOMER.fields."Balance"]
bc_field = "balanceDue"
dataverse_field = "accountnumber"
"""


def _write_config(text: str = CONFIG) -> None:
    Path(os.environ["BC_TUI_CONFIG"]).write_text(text, encoding="utf-8")


def test_status_lists_the_findings_in_text_and_json(cli, sandbox) -> None:
    assert "Field mappings:    OK" in cli("status").out
    _write_config()
    result = cli("status")
    assert result.code == EXIT_OK, result.err
    assert "Field mappings:    3 findings" in result.out
    assert (
        "  The field mapping Customer Rating of CUSTOMER names the Business Central field customerRating, "
        "which this tenant does not have"
    ) in result.out
    assert (
        "The field mapping Balance of CUSTOMER pairs the Business Central field balanceDue (number) with the "
        "Dataverse field accountnumber (text)"
    ) in result.out

    document = cli("status", "--json").json["field_mappings"]
    assert document["checked"] is True
    assert {(f["field_mapping"], f["service"], f["field"], f["problem"]) for f in document["findings"]} == {
        ("Customer Rating", "Business Central", "customerRating", "missing"),
        ("Customer Rating", "Dataverse", "new_customerrating", "missing"),
        ("Balance", "Dataverse", "accountnumber", "other-kind"),
    }


def test_sync_sends_a_custom_field_and_leaves_out_the_missing_one(cli, sandbox) -> None:
    _write_config()
    coupled = cli("couple", "10000", "--to", "Adatum Corporation", "--json")
    assert coupled.code == EXIT_OK, coupled.err
    assert "bc-tui: warning: The field mapping Customer Rating of CUSTOMER" in coupled.err
    account_id = coupled.json["dataverse_id"]
    number_before = sandbox.account(account_id).get("accountnumber")

    sandbox.edit("bc/customers", sandbox.customer("10000")["id"], {"taxRegistrationNumber": "GB123456789"})
    sent = cli("sync", "10000", "--direction", "to-dataverse", "--json")
    assert sent.code == EXIT_OK, sent.out + sent.err
    assert sent.json["counters"]["modified"] == 1
    account = sandbox.account(account_id)
    assert account is not None and account["new_vatregistrationnumber"] == "GB123456789"
    # The rating (missing) and the balance (a number into a text column) were left out: nothing failed.
    assert "new_customerrating" not in account and account.get("accountnumber") == number_before
