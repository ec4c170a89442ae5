"""Table definitions and ``$metadata`` of both services describe exactly what the sandbox serves."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import httpx
import pytest

from bc_tui.sandbox.bc_entities import COMPANIES, COMPANY_ENTITIES
from bc_tui.sandbox.dataverse_tables import TABLES

EDM = "{http://docs.oasis-open.org/odata/ns/edm}"
CRM = "Microsoft.Dynamics.CRM"


async def _token(http: httpx.AsyncClient, info: dict[str, Any], scope: str) -> dict[str, str]:
    response = await http.post(
        info["token_url"],
        data={
            "grant_type": "client_credentials",
            "client_id": info["client_id"],
            "client_secret": info["client_secret"],
            "scope": info[scope],
        },
    )
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture
async def dv(sandbox_http: httpx.AsyncClient, sandbox_info: dict[str, Any]):
    """GET a path under the Dataverse Web API with a valid token."""
    headers = await _token(sandbox_http, sandbox_info, "dataverse_scope")

    async def get(path: str, **params: str) -> httpx.Response:
        return await sandbox_http.get(sandbox_info["dataverse_api"] + path, params=params, headers=headers)

    return get


@pytest.fixture
async def bc(sandbox_http: httpx.AsyncClient, sandbox_info: dict[str, Any]):
    headers = await _token(sandbox_http, sandbox_info, "bc_scope")

    async def get(path: str, **params: str) -> httpx.Response:
        return await sandbox_http.get(sandbox_info["bc_api"] + path, params=params, headers=headers)

    return get


def served_attributes(entity_set: str) -> set[str]:
    """What the table's rows carry, with lookups named as columns (``_x_value`` -> ``x``)."""
    table = TABLES[entity_set]
    value_fields = {lookup.value_field: lookup.name for lookup in table.lookups}
    return {value_fields.get(name, name) for name in table.properties}


async def test_entity_definitions_answer_the_sdk_query_for_every_served_table(dv) -> None:
    for entity_set, table in TABLES.items():
        response = await dv(
            "EntityDefinitions",
            **{
                "$select": "MetadataId,LogicalName,SchemaName,EntitySetName,PrimaryNameAttribute,PrimaryIdAttribute",
                "$filter": f"LogicalName eq '{table.logical_name}'",
            },
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["@odata.context"].endswith(
            "$metadata#EntityDefinitions(MetadataId,LogicalName,SchemaName,EntitySetName,PrimaryNameAttribute,PrimaryIdAttribute)"
        )
        [row] = body["value"]
        assert set(row) == {
            "MetadataId",
            "LogicalName",
            "SchemaName",
            "EntitySetName",
            "PrimaryNameAttribute",
            "PrimaryIdAttribute",
        }
        assert (row["LogicalName"], row["EntitySetName"], row["PrimaryIdAttribute"]) == (
            table.logical_name,
            entity_set,
            table.primary_key,
        )
        assert row["PrimaryNameAttribute"] in served_attributes(entity_set)

        # The same definition by logical name and by MetadataId; MetadataId always comes along.
        by_name = (
            await dv(f"EntityDefinitions(LogicalName='{table.logical_name}')", **{"$select": "ObjectTypeCode"})
        ).json()
        by_id = (
            await dv(f"EntityDefinitions({row['MetadataId']})", **{"$select": "LogicalName,ObjectTypeCode"})
        ).json()
        assert by_name["MetadataId"] == by_id["MetadataId"] == row["MetadataId"]
        assert by_id["LogicalName"] == table.logical_name and by_name["ObjectTypeCode"] == by_id["ObjectTypeCode"] > 0

    # The SDK's list query: a filter combining a base condition with the caller's.
    listed = await dv(
        "EntityDefinitions",
        **{
            "$filter": "IsPrivate eq false and (LogicalName eq 'contact' or EntitySetName eq 'accounts')",
            "$select": "LogicalName",
        },
    )
    assert sorted(r["LogicalName"] for r in listed.json()["value"]) == ["account", "contact"]
    every = await dv("EntityDefinitions", **{"$select": "EntitySetName"})
    assert sorted(r["EntitySetName"] for r in every.json()["value"]) == sorted(TABLES)


async def test_attributes_list_every_served_column_with_the_documented_shape(dv) -> None:
    for entity_set, table in TABLES.items():
        response = await dv(f"EntityDefinitions(LogicalName='{table.logical_name}')/Attributes")
        assert response.status_code == 200, response.text
        rows = response.json()["value"]
        assert {r["LogicalName"] for r in rows} == served_attributes(entity_set)
        for row in rows:
            assert row["@odata.type"].startswith(f"#{CRM}.") and row["@odata.type"].endswith("AttributeMetadata")
            assert row["AttributeTypeName"]["Value"] == row["AttributeType"] + "Type"
            assert row["EntityLogicalName"] == table.logical_name and row["IsValidForRead"] is True
            assert row["RequiredLevel"]["Value"] in ("None", "ApplicationRequired", "SystemRequired", "Recommended")
            name = row["LogicalName"]
            if name in table.max_lengths:
                assert (row["AttributeType"], row["MaxLength"]) == ("String", table.max_lengths[name])
            # What a client may write is exactly what the sandbox accepts in a create.
            writable = table.writable and name in {**table.columns, table.primary_key: 1} | {
                lookup.name: 1 for lookup in table.lookups
            }
            assert row["IsValidForCreate"] is bool(writable), name
        by_name = {r["LogicalName"]: r for r in rows}
        assert (
            by_name[table.primary_key]["IsPrimaryId"] is True
            and by_name[table.primary_key]["AttributeType"] == "Uniqueidentifier"
        )
        assert by_name[table.primary_name]["IsPrimaryName"] is True
        assert (
            by_name["modifiedon"]["IsValidForUpdate"] is False and by_name["modifiedon"]["AttributeType"] == "DateTime"
        )
        for lookup in table.lookups:
            assert by_name[lookup.name]["Targets"]

    accounts = {
        r["LogicalName"]: r for r in (await dv("EntityDefinitions(LogicalName='account')/Attributes")).json()["value"]
    }
    assert accounts["creditlimit"]["AttributeType"] == "Money"
    assert accounts["customertypecode"]["AttributeType"] == "Picklist"
    assert (accounts["statecode"]["AttributeType"], accounts["statuscode"]["AttributeType"]) == ("State", "Status")
    assert accounts["ownerid"]["AttributeType"] == "Owner"
    contacts = {
        r["LogicalName"]: r for r in (await dv("EntityDefinitions(LogicalName='contact')/Attributes")).json()["value"]
    }
    assert contacts["parentcustomerid"]["AttributeType"] == "Customer"
    assert contacts["parentcustomerid"]["Targets"] == ["account", "contact"]
    assert contacts["fullname"]["IsValidForCreate"] is False


async def test_attribute_select_filter_single_and_typed_casts(dv) -> None:
    base = "EntityDefinitions(LogicalName='account')/Attributes"
    strings = await dv(
        base + f"/{CRM}.StringAttributeMetadata",
        **{"$select": "LogicalName,MaxLength", "$filter": "RequiredLevel/Value eq 'ApplicationRequired'"},
    )
    assert strings.status_code == 200, strings.text
    assert [(r["LogicalName"], r["MaxLength"]) for r in strings.json()["value"]] == [
        ("name", TABLES["accounts"].max_lengths["name"])
    ]
    assert strings.json()["value"][0]["@odata.type"] == f"#{CRM}.StringAttributeMetadata"

    enum_filter = await dv(
        base, **{"$select": "LogicalName", "$filter": f"AttributeType eq {CRM}.AttributeTypeCode'Picklist'"}
    )
    plain_filter = await dv(base, **{"$select": "LogicalName", "$filter": "AttributeType eq 'Picklist'"})
    assert enum_filter.json()["value"] == plain_filter.json()["value"]
    assert {r["LogicalName"] for r in enum_filter.json()["value"]} == {
        name for name, choice in TABLES["accounts"].choices.items() if choice.kind == "Picklist"
    }

    by_id = await dv(
        base, **{"$select": "LogicalName", "$filter": f"MetadataId eq {strings.json()['value'][0]['MetadataId']}"}
    )
    assert [r["LogicalName"] for r in by_id.json()["value"]] == ["name"]

    one = await dv(base + "(LogicalName='telephone1')", **{"$select": "LogicalName,AttributeType"})
    assert one.status_code == 200 and one.json()["AttributeType"] == "String"
    again = await dv(base + f"({one.json()['MetadataId']})")
    assert again.json()["LogicalName"] == "telephone1" and again.json()["Format"] == "Phone"


async def test_option_sets_of_choice_state_and_status_columns(dv) -> None:
    # Exactly the request Microsoft's Dataverse SDK sends to learn a table's choice labels.
    picklists = await dv(
        f"EntityDefinitions(LogicalName='account')/Attributes/{CRM}.PicklistAttributeMetadata",
        **{"$select": "LogicalName", "$expand": "OptionSet($select=Options)"},
    )
    assert picklists.status_code == 200, picklists.text
    found = {r["LogicalName"]: r["OptionSet"]["Options"] for r in picklists.json()["value"]}
    table = TABLES["accounts"]
    for name, choice in table.choices.items():
        if choice.kind != "Picklist":
            continue
        assert [(o["Value"], o["Label"]["UserLocalizedLabel"]["Label"]) for o in found[name]] == list(choice.options)
    status = await dv(
        f"EntityDefinitions(LogicalName='contact')/Attributes(LogicalName='statuscode')/{CRM}.StatusAttributeMetadata",
        **{"$expand": "OptionSet"},
    )
    options = status.json()["OptionSet"]["Options"]
    assert [(o["Value"], o["State"]) for o in options] == [(1, 0), (2, 1)]
    assert status.json()["OptionSet"]["OptionSetType"] == "Status"


@pytest.mark.parametrize(
    ("path", "params", "status", "words"),
    [
        ("EntityDefinitions", {"$top": "1"}, 400, "$top"),
        ("EntityDefinitions", {"$orderby": "LogicalName"}, 400, "$orderby"),
        ("EntityDefinitions", {"$filter": "contains(LogicalName,'acc')"}, 400, "contains"),
        ("EntityDefinitions", {"$select": "NoSuchProperty"}, 400, "NoSuchProperty"),
        ("EntityDefinitions", {"$filter": "NoSuchProperty eq 1"}, 400, "NoSuchProperty"),
        ("EntityDefinitions(LogicalName='invoice')", {}, 404, "invoice"),
        ("EntityDefinitions(LogicalName='account')/Attributes", {"$select": "MaxLength"}, 400, "AttributeMetadata"),
        ("EntityDefinitions(LogicalName='account')/Attributes(LogicalName='jobtitle')", {}, 404, "jobtitle"),
        (f"EntityDefinitions(LogicalName='account')/Attributes/{CRM}.NoSuchAttributeMetadata", {}, 404, "NoSuch"),
        ("EntityDefinitions(LogicalName='account')/ManyToOneRelationships", {}, 501, "ManyToOneRelationships"),
    ],
)
async def test_unsupported_metadata_queries_fail_loudly(
    dv, path: str, params: dict[str, str], status: int, words: str
) -> None:
    response = await dv(path, **params)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"].startswith("0x") and words in error["message"]


async def test_dataverse_metadata_document_names_every_served_property(dv) -> None:
    response = await dv("$metadata")
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/xml")
    root = ET.fromstring(response.content)
    schema = root.find(f".//{EDM}Schema")
    assert schema is not None and schema.get("Namespace") == CRM and schema.get("Alias") == "mscrm"
    types = {t.get("Name"): t for t in schema.findall(f"{EDM}EntityType")}
    sets = {s.get("Name"): s.get("EntityType") for s in schema.findall(f"{EDM}EntityContainer/{EDM}EntitySet")}
    for entity_set, table in TABLES.items():
        assert sets[entity_set] == f"{CRM}.{table.logical_name}"
        element = types[table.logical_name]
        properties = {p.get("Name"): p.get("Type") for p in element.findall(f"{EDM}Property")}
        assert properties == dict(table.properties)
        assert element.find(f"{EDM}Key/{EDM}PropertyRef").get("Name") == table.primary_key
    navigation = {n.get("Name") for n in types["contact"].findall(f"{EDM}NavigationProperty")}
    assert {"parentcustomerid_account", "parentcustomerid_contact"} <= navigation


async def test_business_central_metadata_document_names_every_served_property(bc, sandbox_info: dict[str, Any]) -> None:
    for path in ("$metadata", f"companies({sandbox_info['company_id']})/$metadata"):
        response = await bc(path)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("application/xml")
        root = ET.fromstring(response.content)
        schema = root.find(f".//{EDM}Schema")
        assert schema is not None and schema.get("Namespace") == "Microsoft.NAV"
        types = {t.get("Name"): t for t in schema.findall(f"{EDM}EntityType")}
        for entity in (COMPANIES, *COMPANY_ENTITIES.values()):
            properties = {p.get("Name"): p for p in types[entity.type_name].findall(f"{EDM}Property")}
            assert list(properties) == list(entity.fields)
            for name, field in entity.fields.items():
                if field.length is not None:
                    assert properties[name].get("MaxLength") == str(field.length)
        contained = {n.get("Name") for n in types[COMPANIES.type_name].findall(f"{EDM}NavigationProperty")}
        assert contained == set(COMPANY_ENTITIES)
        enums = {
            e.get("Name"): [m.get("Name") for m in e.findall(f"{EDM}Member")] for e in schema.findall(f"{EDM}EnumType")
        }
        assert enums["customerBlocked"] == ["_x0020_", "Ship", "Invoice", "All"]
    missing = await bc("companies(00000000-0000-0000-0000-000000000001)/$metadata")
    assert missing.status_code == 404 and "error" in missing.json()
