"""Bulk operation messages and alternate-key upserts over HTTP (docs/sandbox-fidelity.md,
"Bulk operations and upsert")."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from dataverse_helpers import Dataverse, dv, error_of  # noqa: F401 - dv is a fixture

ACCOUNT = "Microsoft.Dynamics.CRM.account"


async def _names(dv: Dataverse, ids: list[str]) -> list[str | None]:
    names = []
    for account_id in ids:
        response = await dv.get(f"accounts({account_id})?$select=name")
        names.append(response.json()["name"] if response.status_code == 200 else None)
    return names


async def test_create_multiple_answers_the_ids_and_update_multiple_changes_them(dv: Dataverse) -> None:
    chosen = str(uuid.uuid4())
    created = await dv.post(
        "accounts/Microsoft.Dynamics.CRM.CreateMultiple",
        json={
            "Targets": [
                {"@odata.type": ACCOUNT, "name": "Bulk One"},
                {"@odata.type": ACCOUNT, "name": "Bulk Two", "accountid": chosen},
            ]
        },
    )
    assert created.status_code == 200, created.text
    body = created.json()
    assert body["@odata.context"].endswith("$metadata#Microsoft.Dynamics.CRM.CreateMultipleResponse")
    ids = body["Ids"]
    assert len(ids) == 2 and ids[1] == chosen and uuid.UUID(ids[0])
    assert await _names(dv, ids) == ["Bulk One", "Bulk Two"]

    updated = await dv.post(
        "accounts/Microsoft.Dynamics.CRM.UpdateMultiple",
        json={
            "Targets": [
                {"@odata.type": ACCOUNT, "accountid": ids[0], "name": "Bulk One Updated"},
                {"@odata.type": ACCOUNT, "accountid": ids[1], "name": "Bulk Two Updated"},
            ]
        },
    )
    assert updated.status_code == 204 and updated.content == b""
    assert await _names(dv, ids) == ["Bulk One Updated", "Bulk Two Updated"]


async def test_upsert_multiple_creates_or_updates_by_id_and_refuses_undefined_keys(dv: Dataverse) -> None:
    existing, new = str(uuid.uuid4()), str(uuid.uuid4())
    assert (await dv.post("accounts", json={"accountid": existing, "name": "Before"})).status_code == 204
    upserted = await dv.post(
        "accounts/Microsoft.Dynamics.CRM.UpsertMultiple",
        json={
            "Targets": [
                {"@odata.type": ACCOUNT, "accountid": existing, "name": "After"},
                {"@odata.type": ACCOUNT, "accountid": new, "name": "Born"},
            ]
        },
    )
    assert upserted.status_code == 204, upserted.text
    assert await _names(dv, [existing, new]) == ["After", "Born"]

    keyed = await dv.post(
        "accounts/Microsoft.Dynamics.CRM.UpsertMultiple",
        json={"Targets": [{"@odata.type": ACCOUNT, "@odata.id": "accounts(telephone1='555')", "name": "Keyed"}]},
    )
    assert keyed.status_code == 400
    assert error_of(keyed)["message"].startswith(
        f"The key in the request URI is not valid for resource '{ACCOUNT}'. Ensure that the names and number of key properties"
    )


async def test_any_failing_target_rolls_the_whole_message_back(dv: Dataverse) -> None:
    taken = str(uuid.uuid4())
    assert (await dv.post("accounts", json={"accountid": taken, "name": "Taken"})).status_code == 204
    fresh = str(uuid.uuid4())
    duplicate = await dv.post(
        "accounts/Microsoft.Dynamics.CRM.CreateMultiple",
        json={
            "Targets": [
                {"@odata.type": ACCOUNT, "accountid": fresh, "name": "Would Be"},
                {"@odata.type": ACCOUNT, "accountid": taken, "name": "Clash"},
            ]
        },
    )
    assert duplicate.status_code == 412
    assert error_of(duplicate) == {"code": "0x80040237", "message": "Cannot insert duplicate key."}
    assert (await dv.get(f"accounts({fresh})")).status_code == 404

    missing = str(uuid.uuid4())
    update = await dv.post(
        "accounts/Microsoft.Dynamics.CRM.UpdateMultiple",
        json={
            "Targets": [
                {"@odata.type": ACCOUNT, "accountid": taken, "name": "Renamed"},
                {"@odata.type": ACCOUNT, "accountid": missing, "name": "Ghost"},
            ]
        },
    )
    assert update.status_code == 404
    assert error_of(update) == {"code": "0x80040217", "message": f"account With Ids = {missing} Do Not Exist"}
    assert await _names(dv, [taken]) == ["Taken"]


@pytest.mark.parametrize(
    ("action", "body", "status", "words"),
    [
        ("CreateMultiple", {"Targets": [{"name": "No Type"}]}, 400, "no @odata.type annotation"),
        (
            "CreateMultiple",
            {"Targets": [{"@odata.type": "Microsoft.Dynamics.CRM.contact", "lastname": "x"}]},
            400,
            "not 'Microsoft.Dynamics.CRM.account'",
        ),
        ("CreateMultiple", {"Targets": []}, 400, "non-empty array"),
        ("CreateMultiple", {"Targets": [{"@odata.type": ACCOUNT, "nickname": "x"}]}, 400, "'nickname' does not exist"),
        ("UpdateMultiple", {"Targets": [{"@odata.type": ACCOUNT, "name": "No Id"}]}, 400, "must hold its accountid"),
        (
            "DeleteMultiple",
            {"Targets": [{"@odata.type": ACCOUNT, "accountid": str(uuid.uuid4())}]},
            400,
            "DeleteMultiple has not yet been implemented.",
        ),
    ],
    ids=["no-type", "other-type", "empty", "unknown-column", "update-without-id", "delete-multiple"],
)
async def test_bulk_messages_refuse_what_the_service_refuses(
    dv: Dataverse, action: str, body: dict[str, Any], status: int, words: str
) -> None:
    response = await dv.post(f"accounts/Microsoft.Dynamics.CRM.{action}", json=body)
    assert response.status_code == status, response.text
    assert words in error_of(response)["message"]
    read_only = await dv.post(f"systemusers/Microsoft.Dynamics.CRM.{action}", json=body)
    assert read_only.status_code == 405


async def test_a_key_on_a_column_that_is_no_key_gets_the_documented_error_and_by_id_is_an_upsert(
    dv: Dataverse,
) -> None:
    for method in ("PATCH", "GET", "DELETE"):
        response = await dv.request(method, "accounts(name='A-1')", json={"name": "x"} if method == "PATCH" else None)
        assert response.status_code == 400, (method, response.text)
        assert error_of(response) == {
            "code": "0x80060888",
            "message": (
                f"The key in the request URI is not valid for resource '{ACCOUNT}'. Ensure that the names and number of key "
                f"properties match the declared or alternate key properties for the resource '{ACCOUNT}'."
            ),
        }
    account_id = str(uuid.uuid4())
    created = await dv.patch(
        f"accounts(accountid={account_id})", json={"name": "Upserted"}, headers={"prefer": "return=representation"}
    )
    assert created.status_code == 201 and created.json()["name"] == "Upserted"
    updated = await dv.patch(f"accounts({account_id})", json={"name": "Upserted Again"}, headers={"if-match": "*"})
    assert updated.status_code == 204
    refused = await dv.patch(f"accounts({account_id})", json={"name": "x"}, headers={"if-none-match": "*"})
    assert refused.status_code == 412 and error_of(refused)["code"] == "0x80040237"


async def test_upsert_by_alternate_key_creates_updates_and_honours_if_match_and_if_none_match(dv: Dataverse) -> None:
    absent = await dv.patch("accounts(accountnumber='K-1')", json={"name": "Nobody"}, headers={"if-match": "*"})
    assert absent.status_code == 404 and error_of(absent) == {
        "code": "0x80040217",
        "message": "A record with the specified key values does not exist in account entity",
    }
    created = await dv.patch(
        "accounts(accountnumber='K-1')", json={"name": "Keyed"}, headers={"prefer": "return=representation"}
    )
    assert created.status_code == 201, created.text
    assert (created.json()["name"], created.json()["accountnumber"]) == ("Keyed", "K-1")
    account_id = created.json()["accountid"]
    updated = await dv.patch("accounts(accountnumber='K-1')", json={"name": "Keyed Again"}, headers={"if-match": "*"})
    assert updated.status_code == 204 and updated.headers["odata-entityid"].endswith(f"accounts({account_id})")
    refused = await dv.patch("accounts(accountnumber='K-1')", json={"name": "x"}, headers={"if-none-match": "*"})
    assert refused.status_code == 412 and error_of(refused)["code"] == "0x80040237"
    read = await dv.get("accounts(accountnumber='K-1')?$select=name")
    assert (read.status_code, read.json()["name"]) == (200, "Keyed Again")
    assert (await dv.get("accounts(accountnumber='K-2')")).status_code == 404

    # The key's values are unique: a second record may not take them, by create or by update.
    taken = await dv.post("accounts", json={"name": "Twin", "accountnumber": "K-1"})
    assert taken.status_code == 412 and error_of(taken)["code"] == "0x80060892", taken.text
    other = await dv.post("accounts", json={"name": "Other"}, headers={"prefer": "return=representation"})
    moved = await dv.patch(f"accounts({other.json()['accountid']})", json={"accountnumber": "K-1"})
    assert moved.status_code == 412 and error_of(moved)["code"] == "0x80060892"
    # A bind may name its target by the alternate key too.
    child = await dv.post(
        "contacts",
        json={"lastname": "Keyed Child", "parentcustomerid_account@odata.bind": "/accounts(accountnumber='K-1')"},
        headers={"prefer": "return=representation"},
    )
    assert child.json()["_parentcustomerid_value"] == account_id
    deleted = await dv.delete("accounts(accountnumber='K-1')")
    assert deleted.status_code == 204
    assert (await dv.get(f"accounts({account_id})")).status_code == 404


async def test_upsert_multiple_names_targets_by_alternate_key(dv: Dataverse) -> None:
    first = await dv.post(
        "contacts/Microsoft.Dynamics.CRM.UpsertMultiple",
        json={
            "Targets": [
                {
                    "@odata.type": "Microsoft.Dynamics.CRM.contact",
                    "@odata.id": "contacts(new_externalid='X-1')",
                    "lastname": "One",
                },
                {
                    "@odata.type": "Microsoft.Dynamics.CRM.contact",
                    "@odata.id": "contacts(new_externalid='X-2')",
                    "lastname": "Two",
                },
            ]
        },
    )
    assert first.status_code == 204, first.text
    again = await dv.post(
        "contacts/Microsoft.Dynamics.CRM.UpsertMultiple",
        json={
            "Targets": [
                {
                    "@odata.type": "Microsoft.Dynamics.CRM.contact",
                    "@odata.id": "contacts(new_externalid='X-1')",
                    "lastname": "Uno",
                }
            ]
        },
    )
    assert again.status_code == 204, again.text
    rows = (await dv.get("contacts?$select=lastname,new_externalid&$filter=startswith(new_externalid,'X-')")).json()
    assert sorted((r["new_externalid"], r["lastname"]) for r in rows["value"]) == [("X-1", "Uno"), ("X-2", "Two")]


async def test_table_definitions_and_metadata_announce_the_alternate_key(dv: Dataverse) -> None:
    keys = await dv.get("EntityDefinitions(LogicalName='account')/Keys")
    assert keys.status_code == 200
    [key] = keys.json()["value"]
    assert (key["SchemaName"], key["KeyAttributes"], key["EntityKeyIndexStatus"]) == (
        "new_AccountNumberKey",
        ["accountnumber"],
        "Active",
    )
    expanded = await dv.get("EntityDefinitions(LogicalName='contact')?$select=LogicalName&$expand=Keys")
    assert [k["KeyAttributes"] for k in expanded.json()["Keys"]] == [["new_externalid"]]
    csdl = (await dv.get("$metadata")).text
    account_type = csdl[csdl.index('<EntityType Name="account"') :]
    account_type = account_type[: account_type.index("</EntityType>")]
    assert '<Annotation Term="OData.Community.Keys.V1.AlternateKeys">' in account_type
    assert '<PropertyValue Property="Name" PropertyPath="accountnumber" />' in account_type
