"""Microsoft's Dataverse SDK for Python (``powerplatform-dataverse-client``), unmodified, against
``sandbox serve --tls``: azure-identity signs in at the sandbox, the SDK reads and writes over https.

What the SDK does that the sandbox refuses (an upsert by a column that is no key with the service's
error, BulkDelete and creating tables with 501) is asserted as refused, so a change shows up here.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
from PowerPlatform.Dataverse.core.errors import HttpError
from PowerPlatform.Dataverse.models import filters
from PowerPlatform.Dataverse.models.upsert import UpsertItem


@pytest.fixture
def client(tmp_path: Path, dataverse_sdk: Callable[..., AbstractContextManager[Any]]) -> Iterator[Any]:
    """A DataverseClient signed in at a fresh https sandbox with a client secret."""
    with dataverse_sdk(tmp_path) as dataverse:
        yield dataverse


def test_sdk_creates_reads_updates_and_deletes_records(client: Any) -> None:
    one = client.records.create("account", {"name": "SDK One", "creditlimit": 100})
    pair = client.records.create("account", [{"name": "SDK Pair A"}, {"name": "SDK Pair B"}])  # CreateMultiple
    assert len(pair) == 2
    assert client.records.retrieve("account", one, select=["name"])["name"] == "SDK One"

    client.records.update("account", one, {"name": "SDK Uno"})
    client.records.update("account", pair, {"telephone1": "555-0100"})  # UpdateMultiple, one change for all
    found = client.records.list("account", filter="startswith(name,'SDK ')", select=["name", "telephone1"])
    assert sorted((r["name"], r["telephone1"]) for r in found) == [
        ("SDK Pair A", "555-0100"),
        ("SDK Pair B", "555-0100"),
        ("SDK Uno", None),
    ]

    pages = list(client.records.list_pages("account", select=["name"], page_size=2))
    assert len(pages) >= 3 and all(len(page) <= 2 for page in pages)
    assert one in {r["accountid"] for page in pages for r in page}

    built = (
        client.query.builder("account")
        .select("name")
        .where(filters.col("name").in_(["SDK Uno", "SDK Pair A"]))
        .execute()
    )
    assert sorted(r["name"] for r in built) == ["SDK Pair A", "SDK Uno"]
    between = (
        client.query.builder("account").select("name").where(filters.col("creditlimit").between(50, 150)).execute()
    )
    assert [r["name"] for r in between] == ["SDK Uno"]

    parent = client.records.create("account", {"name": "SDK Parent"})
    client.records.create(
        "contact", {"lastname": "SDK Child", "parentcustomerid_account@odata.bind": f"/accounts({parent})"}
    )
    children = client.records.list(
        "contact", select=["lastname"], expand=["parentcustomerid_account"], filter="lastname eq 'SDK Child'"
    )
    assert [child["parentcustomerid_account"]["name"] for child in children] == ["SDK Parent"]

    client.records.delete("account", one)
    client.records.delete("account", pair, use_bulk_delete=False)
    assert client.records.retrieve("account", one) is None
    assert [r["name"] for r in client.records.list("account", filter="startswith(name,'SDK ')")] == ["SDK Parent"]


@pytest.mark.filterwarnings("error:Dataverse did not return a paging cookie")
def test_sdk_batch_and_queries_in_fetch_xml_and_sql(client: Any) -> None:
    batch = client.batch.new()
    batch.records.create("account", {"name": "SQL Batch One", "creditlimit": 5})
    batch.records.create("account", {"name": "SQL Batch Two", "creditlimit": 7})
    result = batch.execute()
    assert [item.status_code for item in result.responses] == [204, 204]

    rows = client.query.sql(
        "SELECT TOP 5 name, creditlimit FROM account WHERE name LIKE 'SQL Batch%' ORDER BY creditlimit DESC"
    )
    assert [(r["name"], r["creditlimit"]) for r in rows] == [("SQL Batch Two", 7), ("SQL Batch One", 5)]
    fetched = client.query.fetchxml(
        "<fetch count='1'><entity name='account'><attribute name='name'/><order attribute='name'/>"
        "<filter><condition attribute='name' operator='begins-with' value='SQL Batch'/></filter></entity></fetch>"
    ).execute()
    # Two pages of one row; the SDK follows the paging cookie, so it does not fall back to simple paging.
    assert [r["name"] for r in fetched] == ["SQL Batch One", "SQL Batch Two"]


def test_sdk_reads_table_definitions(client: Any) -> None:
    account = client.tables.get("account")
    assert account["entity_set_name"] == "accounts" and account["logical_name"] == "account"
    assert {"account", "contact", "systemuser"} <= {table["LogicalName"] for table in client.tables.list()}
    assert len(client.tables.list_columns("account")) > 10
    [key] = client.tables.get_alternate_keys("account")
    assert (key.schema_name, key.key_attributes, key.status) == ("new_AccountNumberKey", ["accountnumber"], "Active")
    assert [k.key_attributes for k in client.tables.get_alternate_keys("contact")] == [["new_externalid"]]


def test_sdk_upserts_accounts_and_contacts_by_alternate_key(client: Any) -> None:
    client.records.upsert("account", [{"alternate_key": {"accountnumber": "A-1"}, "record": {"name": "Keyed"}}])
    [created] = client.records.list("account", filter="accountnumber eq 'A-1'", select=["name"])
    client.records.upsert("account", [{"alternate_key": {"accountnumber": "A-1"}, "record": {"name": "Keyed Again"}}])
    assert [(r["accountid"], r["name"]) for r in client.records.list("account", filter="accountnumber eq 'A-1'")] == [
        (created["accountid"], "Keyed Again")
    ]
    # More than one item goes through UpsertMultiple, each target named by @odata.id.
    client.records.upsert(
        "contact",
        [
            UpsertItem(alternate_key={"new_externalid": "C-1"}, record={"lastname": "Keyed One"}),
            UpsertItem(alternate_key={"new_externalid": "C-2"}, record={"lastname": "Keyed Two"}),
        ],
    )
    client.records.upsert(
        "contact",
        [
            UpsertItem(alternate_key={"new_externalid": "C-1"}, record={"firstname": "Ann"}),
            UpsertItem(alternate_key={"new_externalid": "C-3"}, record={"lastname": "Keyed Three"}),
        ],
    )
    contacts = client.records.list("contact", filter="startswith(new_externalid,'C-')", select=["fullname"])
    assert sorted(r["fullname"] for r in contacts) == ["Ann Keyed One", "Keyed Three", "Keyed Two"]


def test_sdk_operations_the_sandbox_refuses_fail_with_the_service_error(client: Any) -> None:
    with pytest.raises(
        HttpError, match="The key in the request URI is not valid for resource 'Microsoft.Dynamics.CRM.account'"
    ):  # telephone1 is no key of the table
        client.records.upsert("account", [{"alternate_key": {"telephone1": "555"}, "record": {"name": "Keyed"}}])
    with pytest.raises(HttpError, match="The sandbox does not emulate the BulkDelete message."):
        client.records.delete("account", [client.records.create("account", {"name": "Bulk Gone"})])
    with (
        warnings.catch_warnings(action="ignore"),
        pytest.raises(HttpError, match="The sandbox does not emulate the CreateEntities message."),
    ):
        client.tables.create("new_Thing", {"new_name": "string"})
