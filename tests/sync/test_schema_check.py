"""The schema check at connect: field mappings against the sandbox's metadata, over HTTP."""

from __future__ import annotations

from typing import Any

from bc_tui.config import profile_from_sandbox_info
from bc_tui.domain.mappings import Direction
from bc_tui.sandbox.inprocess import asgi_transport
from bc_tui.sync.schema_check import check_schema
from bc_tui.sync.session import SyncSession, open_session

OVERRIDES: dict[str, Any] = {
    "CUSTOMER": {
        "fields": {
            # A custom Dataverse column, mapped by name: it exists, so it runs as configured.
            "VAT Registration No.": {
                "bc_field": "taxRegistrationNumber",
                "dataverse_field": "new_vatregistrationnumber",
                "direction": "to-dataverse",
            },
            # BC's standard API pages have no custom fields: missing on both sides.
            "Customer Rating": {"bc_field": "customerRating", "dataverse_field": "new_customerrating"},
            # BC computes the balance: it can be sent, never written into BC.
            "Balance": {"bc_field": "balanceDue", "dataverse_field": "creditlimit"},
        }
    },
    # Dataverse computes a contact's full name from its parts.
    "CONTACT": {
        "fields": {"Full Name": {"bc_field": "companyName", "dataverse_field": "fullname", "direction": "to-dataverse"}}
    },
}


async def test_fields_of_different_kinds_are_left_out(sandbox_app, sandbox_info, database_url) -> None:
    profile = profile_from_sandbox_info(sandbox_info)
    overrides = {"CUSTOMER": {"fields": {"Tax Liable": {"bc_field": "taxLiable", "dataverse_field": "accountnumber"}}}}
    async with open_session(
        profile, database_url, transport=asgi_transport(sandbox_app), mapping_overrides=overrides
    ) as session:
        [finding] = await check_schema(session)
        assert (finding.label, finding.problem) == ("Tax Liable", "other-kind")
        assert "taxLiable (yes/no) with the Dataverse field accountnumber (text)" in finding.message
        assert not session.mapping("CUSTOMER").field_by_label("Tax Liable").enabled


async def test_default_mappings_have_no_findings(session: SyncSession) -> None:
    before = dict(session.mappings)
    assert await check_schema(session) == []
    assert session.mappings == before and session.schema_findings == []


async def test_findings_name_mapping_field_and_fix_and_the_session_runs_without(
    sandbox_app, sandbox_info, database_url
) -> None:
    profile = profile_from_sandbox_info(sandbox_info)
    async with open_session(
        profile, database_url, transport=asgi_transport(sandbox_app), mapping_overrides=OVERRIDES
    ) as session:
        assert session.mapping("CUSTOMER").field_by_label("Customer Rating").enabled  # as configured
        findings = await check_schema(session)
        by_field = {(f.mapping, f.label, f.field): f for f in findings}
        assert set(by_field) == {
            ("CUSTOMER", "Customer Rating", "customerRating"),
            ("CUSTOMER", "Customer Rating", "new_customerrating"),
            ("CUSTOMER", "Balance", "balanceDue"),
            ("CONTACT", "Full Name", "fullname"),
        }
        rating = by_field[("CUSTOMER", "Customer Rating", "customerRating")]
        assert rating.problem == "missing" and rating.service == "Business Central"
        assert rating.message == (
            "The field mapping Customer Rating of CUSTOMER names the Business Central field customerRating, which "
            "this tenant does not have, so it is left out; fix the field name or set enabled = false under "
            '[mappings.CUSTOMER.fields."Customer Rating"] in your config.'
        )
        balance = by_field[("CUSTOMER", "Balance", "balanceDue")]
        assert balance.problem == "read-only" and "only runs to-dataverse now" in balance.message
        assert 'direction = "to-dataverse"' in balance.message
        full_name = by_field[("CONTACT", "Full Name", "fullname")]
        assert full_name.service == "Dataverse" and "so it is left out" in full_name.message

        customer = session.mapping("CUSTOMER")
        assert not customer.field_by_label("Customer Rating").enabled
        assert customer.field_by_label("Balance").direction is Direction.TO_DATAVERSE
        vat = customer.field_by_label("VAT Registration No.")
        assert vat.enabled and vat.direction is Direction.TO_DATAVERSE
        assert not session.mapping("CONTACT").field_by_label("Full Name").enabled

        # A reload (after an edit of the mappings) runs the checked mappings again.
        await session.reload_mappings()
        assert not session.mapping("CUSTOMER").field_by_label("Customer Rating").enabled
        assert len(session.schema_findings) == len(findings)
