"""The field lists of an entity set, read from both services' metadata over HTTP."""

from __future__ import annotations

import pytest

from bc_tui.connectors import BusinessCentralClient, DataverseClient, MalformedResponse
from bc_tui.connectors.schema import parse_bc_fields


async def test_business_central_fields_and_read_only_ones(bc: BusinessCentralClient) -> None:
    customers = await bc.fields("customers")
    assert {"number", "displayName", "taxRegistrationNumber", "balanceDue"} <= set(customers)
    assert customers["displayName"].writable and customers["taxRegistrationNumber"].writable
    # What BC computes carries Org.OData.Core.V1.Computed: never written by a mapping.
    assert not customers["balanceDue"].writable and not customers["lastModifiedDateTime"].writable
    assert "jobTitle" not in await bc.fields("contacts")


async def test_dataverse_columns_say_what_may_be_written(dv: DataverseClient) -> None:
    contacts = await dv.fields("contacts")
    assert contacts["firstname"].writable and not contacts["fullname"].writable
    assert contacts["fullname"].readable
    # A lookup is listed under the name the Web API reads it by as well.
    assert contacts["_ownerid_value"].writable and "ownerid" in contacts
    accounts = await dv.fields("accounts")
    assert accounts["new_vatregistrationnumber"].writable and "new_customerrating" not in accounts


async def test_unknown_entity_set_is_one_plain_sentence(bc: BusinessCentralClient, dv: DataverseClient) -> None:
    with pytest.raises(MalformedResponse, match="does not describe vendorsx"):
        await bc.fields("vendorsx")
    with pytest.raises(MalformedResponse, match="no table whose entity set is vendorsx"):
        await dv.fields("vendorsx")


def test_permissions_read_marks_a_property_read_only() -> None:
    document = b"""<?xml version="1.0"?>
<edmx:Edmx xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx" Version="4.0"><edmx:DataServices>
<Schema xmlns="http://docs.oasis-open.org/odata/ns/edm" Namespace="NS">
<EntityType Name="thing"><Property Name="a" Type="Edm.String"/>
<Property Name="b" Type="Edm.String"><Annotation Term="Org.OData.Core.V1.Permissions">
<EnumMember>Org.OData.Core.V1.PermissionType/Read</EnumMember></Annotation></Property></EntityType>
<EntityContainer Name="C"><EntitySet Name="things" EntityType="NS.thing"/></EntityContainer>
</Schema></edmx:DataServices></edmx:Edmx>"""
    fields = parse_bc_fields(document, "things")
    assert fields["a"].writable and not fields["b"].writable
    with pytest.raises(MalformedResponse, match="not XML"):
        parse_bc_fields(b"<html", "things")


async def test_fields_say_what_kind_of_value_they_hold(bc: BusinessCentralClient, dv: DataverseClient) -> None:
    customers = await bc.fields("customers")
    kinds = {name: customers[name].kind for name in ("displayName", "creditLimit", "taxLiable", "blocked", "id")}
    assert kinds == {
        "displayName": "text",
        "creditLimit": "number",
        "taxLiable": "yes/no",
        "blocked": "text",
        "id": "id",
    }
    accounts = await dv.fields("accounts")
    assert [accounts[n].kind for n in ("name", "creditlimit", "customertypecode", "_ownerid_value", "modifiedon")] == [
        "text",
        "number",
        "number",
        "id",
        "date",
    ]
