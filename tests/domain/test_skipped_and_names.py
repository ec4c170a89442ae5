"""The repeated-failure rule and how records are named in messages."""

from __future__ import annotations

from bc_tui.domain.mappings import SyncDirection, TableMapping
from bc_tui.domain.names import describe, describe_bc, describe_dataverse, join_labels, sentence, side_name
from bc_tui.domain.outcomes import Outcome
from bc_tui.domain.skipped import REPEATED_FAILURE, FailureVerdict, should_skip


def test_first_failure_is_not_skipped() -> None:
    assert not should_skip("Phone No. is too long.", None, transient=False)
    assert FailureVerdict("Phone No. is too long.", skip=False).full_message == "Phone No. is too long."


def test_same_failure_twice_marks_the_record_skipped() -> None:
    assert should_skip("Phone No. is too long.", "Phone No. is too long.", transient=False)
    assert FailureVerdict("Phone No. is too long.", skip=True).full_message == (
        "Phone No. is too long. The record will be skipped for further synchronization due to a repeatable failure."
    )
    assert REPEATED_FAILURE.startswith("The record will be skipped")


def test_different_failure_is_not_skipped() -> None:
    assert not should_skip("Phone No. is too long.", "Name is blank.", transient=False)


def test_whitespace_around_a_failure_does_not_make_it_a_new_one() -> None:
    # The store and the domain once disagreed here: the store compared to the letter.
    assert should_skip("Phone No. is too long.\n", " Phone No. is too long.", transient=False)
    assert not should_skip("Phone No. is  too long.", "Phone No. is too long.", transient=False)


def test_a_failure_without_a_message_repeats_nothing() -> None:
    assert not should_skip(None, None, transient=False)
    assert not should_skip(None, "Name is blank.", transient=False)
    assert not should_skip("Name is blank.", None, transient=False)


def test_transient_failures_never_mark_skipped() -> None:
    assert not should_skip("Dataverse is throttling requests.", "Dataverse is throttling requests.", transient=True)


def test_describe_records(customers: TableMapping, contacts: TableMapping, bc_customer: dict, dv_contact: dict) -> None:
    assert describe_bc(customers, bc_customer) == "customer 10000 Adatum Corporation"
    assert describe_dataverse(customers, {"accountid": "d1", "name": "Adatum"}) == "account Adatum"
    assert describe_dataverse(customers, {"accountid": "d1"}) == "account d1"
    no_fullname = {k: v for k, v in dv_contact.items() if k != "fullname"}
    assert describe_dataverse(contacts, no_fullname) == "contact Mary Ann Smith"
    assert describe(customers, None, {"name": "Adatum"}) == "account Adatum"
    assert sentence("customer 10000") == "Customer 10000"


def test_labels_and_sides() -> None:
    assert join_labels(["Phone No."]) == "Phone No."
    assert join_labels(["Name", "Phone No.", "City"]) == "Name, Phone No. and City"
    assert side_name(SyncDirection.TO_DATAVERSE) == "Dataverse"
    assert side_name(SyncDirection.TO_DATAVERSE, destination=False) == "Business Central"
    assert {o.value for o in Outcome} == {
        "inserted",
        "modified",
        "unchanged",
        "skipped",
        "failed",
        "conflict",
        "coupled",
        "uncoupled",
        "deleted",
        "unmatched",
    }


def test_company_not_coupled_names_the_company(contacts: TableMapping, bc_contact: dict) -> None:
    from bc_tui.domain.messages import company_not_coupled, not_coupled_question

    assert company_not_coupled(contacts, bc_contact) == (
        "Cannot create contact CT000012 Mary Ann Smith in Dataverse: its company CT000010 Adatum Corporation is not "
        "coupled to a Dataverse account. Couple the company's customer first, then synchronize the contact again."
    )
    assert not_coupled_question("customer 10000 Adatum") == (
        "Customer 10000 Adatum is not coupled to Dataverse. Do you want to create a coupling?"
    )
