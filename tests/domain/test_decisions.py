"""Field-level decisions (docs/coupling-and-sync.md "Conflicts, field by field")."""

from __future__ import annotations

from typing import Any

import pytest

from bc_tui.domain.decisions import DecisionError, check_decision, decide_fields, field_label, overwrites
from bc_tui.domain.diff import LastSync, diff_records, take_snapshot
from bc_tui.domain.mappings import SyncDirection, TableMapping
from bc_tui.domain.outcomes import Outcome
from bc_tui.domain.recommend import recommend
from bc_tui.domain.sync_plan import plan_sync

SEND, GET, MERGE = SyncDirection.TO_DATAVERSE, SyncDirection.FROM_DATAVERSE, SyncDirection.MERGE


def _adatum(mapping: TableMapping, bc: dict[str, Any], dv: dict[str, Any]) -> LastSync:
    """City and E-Mail changed in BC, City and Phone No. changed in Dataverse (the issue's case)."""
    last = LastSync(snapshot=take_snapshot(mapping, bc, dv))
    bc.update(city="Lyon", email="new@adatum.example")
    dv.update(address1_city="Paris", telephone1="555-0199")
    return last


@pytest.mark.parametrize("direction", [SEND, GET])
def test_choosing_a_side_wins_only_the_conflicting_field(
    customers: TableMapping, bc_customer: dict, dv_account: dict, direction: SyncDirection
) -> None:
    last = _adatum(customers, bc_customer, dv_account)
    plan = plan_sync(
        customers,
        direction,
        bc_record=bc_customer,
        dataverse_record=dv_account,
        coupled=True,
        last=last,
        force=True,
        choices={"*": direction},
    )
    assert plan.outcome is Outcome.MODIFIED
    city = "Lyon" if direction is SEND else "Paris"
    # E-Mail (BC only) reaches Dataverse and Phone No. (Dataverse only) reaches BC, whoever wins City.
    to_dv = {"emailaddress1": "new@adatum.example"} | ({"address1_city": city} if direction is SEND else {})
    to_bc = {"phoneNumber": "555-0199"} | ({"city": city} if direction is GET else {})
    assert plan.to_dataverse.payload() == to_dv
    assert plan.to_bc.payload() == to_bc
    [lost] = overwrites(plan.decisions)
    assert lost.label == "City"
    assert lost.overwritten == (("Dataverse",) if direction is SEND else ("Business Central",))


def test_per_field_choices_edits_and_the_rest_flows(
    customers: TableMapping, bc_customer: dict, dv_account: dict
) -> None:
    last = _adatum(customers, bc_customer, dv_account)
    bc_customer["phoneNumber"] = "555-0150"  # Phone No. now conflicts too
    plan = plan_sync(
        customers,
        MERGE,
        bc_record=bc_customer,
        dataverse_record=dv_account,
        coupled=True,
        last=last,
        choices={"Phone No.": GET},
        edits={"City": "Lyon-Paris"},
    )
    assert plan.outcome is Outcome.MODIFIED
    assert plan.to_dataverse.payload() == {"address1_city": "Lyon-Paris", "emailaddress1": "new@adatum.example"}
    assert plan.to_bc.payload() == {"city": "Lyon-Paris", "phoneNumber": "555-0199"}


def test_a_merge_without_a_winner_is_a_conflict_naming_the_fields(
    customers: TableMapping, bc_customer: dict, dv_account: dict
) -> None:
    last = _adatum(customers, bc_customer, dv_account)
    plan = plan_sync(customers, MERGE, bc_record=bc_customer, dataverse_record=dv_account, coupled=True, last=last)
    assert plan.outcome is Outcome.CONFLICT and plan.conflicts == ("City",)
    assert not plan.to_bc and not plan.to_dataverse
    [city] = [d for d in plan.decisions if d.unresolved]
    assert city.sentence() == "City: Business Central has 'Lyon', Dataverse has 'Paris'; choose which side wins."


def test_the_whole_record_overwrites_every_differing_field_and_says_so(
    customers: TableMapping, bc_customer: dict, dv_account: dict
) -> None:
    last = _adatum(customers, bc_customer, dv_account)
    diff = diff_records(customers, bc_customer, dv_account, last)
    whole = decide_fields(customers, diff, run=SEND, whole_record=True)
    assert [d.label for d in overwrites(whole)] == ["City", "Phone No."]
    sentences = [d.sentence() for d in whole if d.writes_dataverse]
    assert sentences == [
        "City: Business Central 'Lyon' overwrites Dataverse 'Paris'.",
        "E-Mail: Business Central 'new@adatum.example' goes to Dataverse (was 'info@adatum.example').",
        "Phone No.: Business Central '555-0100' overwrites Dataverse '555-0199'.",
    ]
    assert not any(d.writes_bc for d in whole)


def test_the_recommendation_says_what_each_option_overwrites(
    customers: TableMapping, bc_customer: dict, dv_account: dict
) -> None:
    last = _adatum(customers, bc_customer, dv_account)
    advice = recommend(customers, diff_records(customers, bc_customer, dv_account, last), "the customer")
    assert advice.offered == (SEND, GET) and advice.conflicts == ("City",)
    assert [d.label for d in advice.overwritten(SEND)] == ["City"]
    assert [d.label for d in advice.overwritten(GET)] == ["City"]
    assert [d.label for d in advice.overwritten(GET, whole_record=True)] == ["City", "E-Mail"]
    assert advice.explain(GET) == (
        "City: Dataverse 'Paris' overwrites Business Central 'Lyon'.",
        "E-Mail: Business Central 'new@adatum.example' goes to Dataverse (was 'info@adatum.example').",
        "Phone No.: Dataverse '555-0199' goes to Business Central (was '555-0100').",
    )


def test_field_names_and_bad_decisions(customers: TableMapping) -> None:
    assert [field_label(customers, n) for n in ("City", "city", "ADDRESS1_CITY", "*")] == ["City", "City", "City", "*"]
    with pytest.raises(DecisionError, match="no enabled field mapping called 'Town'"):
        field_label(customers, "Town")
    with pytest.raises(DecisionError, match="has no enabled field mapping 'Town'"):
        check_decision(customers, {"Town": SEND}, {})
    with pytest.raises(DecisionError, match="only text fields that flow both ways"):
        check_decision(customers, {}, {"Credit Limit (LCY)": "5"})
    with pytest.raises(DecisionError, match="must be text"):
        check_decision(customers, {}, {"City": 5})
