"""Microsoft's Dataverse SDK, unmodified, against ``sandbox serve --tls``: queries (order, top, count,
formatted values, paging past 5,000 rows), ``$batch`` change sets with ``$n`` references, and the
documented error cases as the SDK reports them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
from PowerPlatform.Dataverse.core.errors import HttpError

FORMATTED = "OData.Community.Display.V1.FormattedValue"


@pytest.fixture
def client(tmp_path: Path, dataverse_sdk: Callable[..., AbstractContextManager[Any]]) -> Iterator[Any]:
    """A DataverseClient signed in at a fresh https sandbox with a client secret."""
    with dataverse_sdk(tmp_path) as dataverse:
        yield dataverse


def test_sdk_lists_with_order_top_and_count(client: Any) -> None:
    client.records.create("account", [{"name": f"Ordered {c}", "creditlimit": n} for n, c in enumerate("CABED")])
    ordered = client.records.list(
        "account", filter="startswith(name,'Ordered ')", select=["name"], orderby=["name desc"], top=3
    )
    assert [r["name"] for r in ordered] == ["Ordered E", "Ordered D", "Ordered C"]
    by_limit = client.records.list(
        "account", filter="startswith(name,'Ordered ')", select=["name"], orderby=["creditlimit asc"], count=True
    )
    assert [r["name"] for r in by_limit] == [f"Ordered {c}" for c in "CABED"]

    # records.list keeps only the rows; the batch API hands back the body with its @odata.count.
    batch = client.batch.new()
    batch.records.list("account", filter="startswith(name,'Ordered ')", select=["name"], top=2, count=True)
    [listed] = batch.execute().responses
    assert listed.data is not None and listed.data["@odata.count"] == 5 and len(listed.data["value"]) == 2


def test_sdk_reads_formatted_values(client: Any) -> None:
    key = client.records.create("account", {"name": "Formatted", "creditlimit": 1234.5})
    row = client.records.retrieve(
        "account", key, select=["creditlimit", "statuscode", "modifiedon"], include_annotations=FORMATTED
    )
    assert row[f"creditlimit@{FORMATTED}"] == "$1,234.50"
    assert row[f"statuscode@{FORMATTED}"] == "Active"
    assert row[f"modifiedon@{FORMATTED}"].endswith(("AM", "PM"))
    listed = client.records.list(
        "account", filter="name eq 'Formatted'", select=["statecode"], include_annotations=FORMATTED
    )
    assert [r[f"statecode@{FORMATTED}"] for r in listed] == ["Active"]
    plain = client.records.retrieve("account", key, select=["statuscode"])
    assert f"statuscode@{FORMATTED}" not in plain


def test_sdk_batch_change_set_binds_and_updates_through_content_id_references(client: Any) -> None:
    batch = client.batch.new()
    with batch.changeset() as change_set:
        parent = change_set.records.create("account", {"name": "Set Parent"})
        change_set.records.create("contact", {"lastname": "Set Child", "parentcustomerid_account@odata.bind": parent})
        change_set.records.update("account", parent, {"telephone1": "555-0199"})
    result = batch.execute()
    assert parent == "$1"
    assert [item.status_code for item in result.responses] == [204, 204, 204]
    children = client.records.list(
        "contact", filter="lastname eq 'Set Child'", select=["lastname"], expand=["parentcustomerid_account"]
    )
    assert [(c["parentcustomerid_account"]["name"], c["parentcustomerid_account"]["telephone1"]) for c in children] == [
        ("Set Parent", "555-0199")
    ]

    # A change set is atomic: its failing second request rolls back the first.
    failing = client.batch.new()
    with failing.changeset() as change_set:
        change_set.records.create("account", {"name": "Rolled Back"})
        change_set.records.update("account", str(uuid.uuid4()), {"name": "Nobody"})
    outcome = failing.execute()
    assert outcome.has_errors and outcome.responses[-1].status_code == 404
    assert list(client.records.list("account", filter="name eq 'Rolled Back'")) == []


def test_sdk_documented_error_cases(client: Any) -> None:
    missing = str(uuid.uuid4())
    assert client.records.retrieve("account", missing) is None  # the SDK turns the 404 into None
    with pytest.raises(HttpError, match="The property 'new_nosuchcolumn' does not exist on type") as unknown:
        client.records.create("account", {"name": "Bad", "new_nosuchcolumn": "x"})
    assert unknown.value.status_code == 400
    with pytest.raises(HttpError, match=f"account With Id = {missing} Does Not Exist") as absent:
        client.records.update("account", missing, {"name": "Ghost"})  # If-Match: * never creates
    assert absent.value.status_code == 404
    assert list(client.records.list("account", filter="name eq 'Ghost'")) == []
    with pytest.raises(HttpError) as bad_filter:
        client.records.list("account", filter="name eqq 'x'")
    assert bad_filter.value.status_code == 400
    with pytest.raises(HttpError) as deleted:
        client.records.delete("account", missing)
    assert deleted.value.status_code == 404


def test_sdk_pages_past_five_thousand_rows(client: Any) -> None:
    names = [f"Page {i:05d}" for i in range(5_100)]
    for start in range(0, len(names), 1_000):  # CreateMultiple, 1,000 targets a message
        client.records.create("account", [{"name": name} for name in names[start : start + 1_000]])
    rows = client.records.list("account", filter="startswith(name,'Page ')", select=["name"])
    ids = [r["accountid"] for r in rows]
    assert len(ids) == 5_100 and len(set(ids)) == 5_100
    assert sorted(r["name"] for r in rows) == names
    pages = list(client.records.list_pages("account", filter="startswith(name,'Page ')", select=["name"]))
    assert [len(page) for page in pages] == [5_000, 100]  # the service's default page is 5,000 rows
