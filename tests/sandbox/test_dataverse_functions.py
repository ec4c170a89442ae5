"""Dataverse query functions in $filter and filters on related tables, over HTTP
(docs/sandbox-fidelity.md, "Query functions, formatted values, counts and aggregation")."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest
from dataverse_helpers import Dataverse, connect, dv, error_of, new_accounts  # noqa: F401 - dv is a fixture


async def _ids(dv: Dataverse, filter_text: str) -> set[str]:
    response = await dv.get("accounts", params={"$filter": filter_text, "$select": "name"})
    assert response.status_code == 200, response.text
    return {row["accountid"] for row in response.json()["value"]}


async def test_in_not_in_between_and_equal_user_id_filter_as_documented(dv: Dataverse) -> None:
    low, mid, high, none = await new_accounts(
        dv,
        {"name": "Fn Low", "creditlimit": 10},
        {"name": "Fn Mid's", "creditlimit": 50},
        {"name": "Fn High", "creditlimit": 90},
        {"name": "Fn None"},
    )
    mine = {low, mid, high, none}
    names = "Microsoft.Dynamics.CRM.In(PropertyName='name',PropertyValues=['fn low','Fn Mid''s'])"
    assert await _ids(dv, names) & mine == {low, mid}
    # Microsoft's Python SDK writes the values in double quotes.
    assert await _ids(dv, 'Microsoft.Dynamics.CRM.In(PropertyName="name",PropertyValues=["Fn High"])') & mine == {high}
    not_in = (
        "startswith(name,'Fn ') and Microsoft.Dynamics.CRM.NotIn(PropertyName='creditlimit',PropertyValues=['10','50'])"
    )
    assert await _ids(dv, not_in) & mine == {high}  # a null is in no list, and not in NotIn's answer either
    between = "Microsoft.Dynamics.CRM.Between(PropertyName='creditlimit',PropertyValues=['20','90'])"
    assert await _ids(dv, between) & mine == {mid, high}
    outside = "startswith(name,'Fn ') and Microsoft.Dynamics.CRM.NotBetween(PropertyName='creditlimit',PropertyValues=['20','90'])"
    assert await _ids(dv, outside) & mine == {low}
    who = (await dv.get("WhoAmI")).json()["UserId"]
    owned = await _ids(dv, "Microsoft.Dynamics.CRM.EqualUserId(PropertyName='ownerid')")
    assert mine <= owned
    everyone = (await dv.get("accounts", params={"$select": "_ownerid_value"})).json()["value"]
    assert owned == {row["accountid"] for row in everyone if row["_ownerid_value"] == who}
    # A literal that merely looks like a call is data, not a function.
    assert await _ids(dv, "name eq 'Microsoft.Dynamics.CRM.In(PropertyName=1)'") == set()


async def test_filters_on_a_related_tables_column_compare_through_the_lookup(dv: Dataverse) -> None:
    parent, other = await new_accounts(dv, {"name": "Related Parent"}, {"name": "Related Other"})
    contact_id = str(uuid.uuid4())
    created = await dv.post(
        "contacts",
        json={
            "contactid": contact_id,
            "lastname": "Child",
            "parentcustomerid_account@odata.bind": f"accounts({parent})",
        },
    )
    assert created.status_code == 204, created.text
    response = await dv.get(
        "contacts", params={"$filter": "parentcustomerid_account/name eq 'related parent'", "$select": "lastname"}
    )
    assert response.status_code == 200, response.text
    assert [row["contactid"] for row in response.json()["value"]] == [contact_id]
    assert (
        await dv.patch(f"accounts({other})", json={"primarycontactid@odata.bind": f"contacts({contact_id})"})
    ).status_code == 204
    linked = await dv.get(
        "accounts", params={"$filter": "primarycontactid/lastname eq 'Child' and startswith(name,'Related')"}
    )
    assert [row["accountid"] for row in linked.json()["value"]] == [other]
    none = await dv.get("accounts", params={"$filter": "primarycontactid/lastname eq 'Nobody'"})
    assert none.status_code == 200 and none.json()["value"] == []


async def test_expand_answers_the_related_record_of_a_lookup(dv: Dataverse) -> None:
    (parent,) = await new_accounts(dv, {"name": "Expanded Parent", "telephone1": "555"})
    contact_id = str(uuid.uuid4())
    assert (
        await dv.post(
            "contacts",
            json={
                "contactid": contact_id,
                "lastname": "Expanded",
                "parentcustomerid_account@odata.bind": f"accounts({parent})",
            },
        )
    ).status_code == 204
    expand = "parentcustomerid_account($select=name),parentcustomerid_contact"
    response = await dv.get(f"contacts({contact_id})", params={"$select": "lastname", "$expand": expand})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["@odata.context"].endswith(
        "$metadata#contacts(lastname,parentcustomerid_account(name),parentcustomerid_contact())/$entity"
    )
    related = body["parentcustomerid_account"]
    assert (related["accountid"], related["name"]) == (parent, "Expanded Parent") and "telephone1" not in related
    assert body["parentcustomerid_contact"] is None  # the polymorphic lookup points at an account
    listed = await dv.get(
        "contacts", params={"$filter": f"contactid eq {contact_id}", "$expand": "parentcustomerid_account"}
    )
    assert listed.json()["value"][0]["parentcustomerid_account"]["telephone1"] == "555"

    for expand, status, words in [
        ("nosuchnav", 400, "Could not find a property named 'nosuchnav' on type 'Microsoft.Dynamics.CRM.contact'."),
        (
            "parentcustomerid_account($select=nickname)",
            400,
            "Could not find a property named 'nickname' on type 'Microsoft.Dynamics.CRM.account'.",
        ),
        ("parentcustomerid_account($filter=name eq 'x')", 501, "only $select"),
        ("transactioncurrencyid", 501, "does not store 'transactioncurrencies'"),
    ]:
        refused = await dv.get("contacts", params={"$expand": expand})
        assert refused.status_code == status, (expand, refused.text)
        assert words in error_of(refused)["message"]


@pytest.mark.parametrize(
    ("filter_text", "status", "words"),
    [
        (
            "Microsoft.Dynamics.CRM.LastXDays(PropertyName='modifiedon',PropertyValue=3)",
            501,
            "does not emulate the query function 'Microsoft.Dynamics.CRM.LastXDays'",
        ),
        (
            "Microsoft.Dynamics.CRM.Sometimes(PropertyName='name')",
            400,
            "An unknown function with name 'Microsoft.Dynamics.CRM.Sometimes' was found.",
        ),
        (
            "Microsoft.Dynamics.CRM.In(PropertyName='nickname',PropertyValues=['x'])",
            400,
            "Could not find a property named 'nickname' on type 'Microsoft.Dynamics.CRM.account'.",
        ),
        ("Microsoft.Dynamics.CRM.Between(PropertyName='creditlimit',PropertyValues=['1'])", 400, "exactly two"),
        (
            "Microsoft.Dynamics.CRM.In(PropertyName='creditlimit',PropertyValues=['lots'])",
            400,
            "not valid for a column",
        ),
        ("Microsoft.Dynamics.CRM.In(PropertyName='name')", 400, "takes the parameters PropertyName, PropertyValues"),
        (
            "contains(primarycontactid/fullname,'x')",
            501,
            "related table's column ('primarycontactid/fullname') other than",
        ),
        (
            "nosuchnav/fullname eq 'x'",
            400,
            "Could not find a property named 'nosuchnav' on type 'Microsoft.Dynamics.CRM.account'.",
        ),
        (
            "primarycontactid/nickname eq 'x'",
            400,
            "Could not find a property named 'nickname' on type 'Microsoft.Dynamics.CRM.contact'.",
        ),
        ("transactioncurrencyid/currencyname eq 'x'", 501, "does not store 'transactioncurrencies'"),
    ],
    ids=[
        "date-function",
        "unknown-function",
        "unknown-column",
        "between-one",
        "typed-value",
        "missing-values",
        "related-function",
        "unknown-navigation",
        "unknown-related-column",
        "unstored-table",
    ],
)
async def test_query_functions_the_sandbox_cannot_answer_are_refused(
    dv: Dataverse, filter_text: str, status: int, words: str
) -> None:
    response = await dv.get("accounts", params={"$filter": filter_text})
    assert response.status_code == status, response.text
    assert words in error_of(response)["message"]


FORMATTED = "OData.Community.Display.V1.FormattedValue"


async def test_formatted_values_for_choices_money_dates_numbers_and_lookups(dv: Dataverse) -> None:
    (account_id,) = await new_accounts(dv, {"name": "Formatted", "creditlimit": 1234.5, "paymenttermscode": 3})
    prefer = {"prefer": f'odata.include-annotations="{FORMATTED}"'}
    response = await dv.get(f"accounts({account_id})", headers=prefer)
    assert response.status_code == 200
    assert response.headers["preference-applied"] == f'odata.include-annotations="{FORMATTED}"'
    row = response.json()
    assert row[f"statecode@{FORMATTED}"] == "Active" and row[f"statuscode@{FORMATTED}"] == "Active"
    assert row[f"paymenttermscode@{FORMATTED}"] == "Net 45"
    assert row[f"creditlimit@{FORMATTED}"] == "$1,234.50"
    assert re.fullmatch(r"\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d{2} [AP]M", row[f"modifiedon@{FORMATTED}"])
    owner = (await dv.get(f"systemusers({row['_ownerid_value']})")).json()
    assert row[f"_ownerid_value@{FORMATTED}"] == owner["fullname"]
    assert f"name@{FORMATTED}" not in row and f"customertypecode@{FORMATTED}" not in row  # text and nulls have none
    assert "_ownerid_value@Microsoft.Dynamics.CRM.lookuplogicalname" not in row

    everything = (await dv.get(f"accounts({account_id})", headers={"prefer": 'odata.include-annotations="*"'})).json()
    assert everything[f"creditlimit@{FORMATTED}"] == "$1,234.50"
    assert everything["_ownerid_value@Microsoft.Dynamics.CRM.lookuplogicalname"] == "systemuser"
    listed = await dv.get(
        "accounts", params={"$filter": f"accountid eq {account_id}", "$select": "statecode"}, headers=prefer
    )
    assert listed.json()["value"][0][f"statecode@{FORMATTED}"] == "Active"
    assert listed.headers["preference-applied"] == f'odata.include-annotations="{FORMATTED}"'
    written = await dv.patch(
        f"accounts({account_id})?$select=creditlimit",
        json={"creditlimit": -5},
        headers={"prefer": f'return=representation,odata.include-annotations="{FORMATTED}"'},
    )
    assert written.json()[f"creditlimit@{FORMATTED}"] == "-$5.00"
    assert written.headers["preference-applied"] == f'return=representation,odata.include-annotations="{FORMATTED}"'
    plain = (await dv.get(f"accounts({account_id})")).json()
    assert not [name for name in plain if "@" in name and not name.startswith("@odata.")]


async def test_count_annotations_stop_at_five_thousand_as_documented(dv: Dataverse) -> None:
    await new_accounts(dv, {"name": "Counted A"}, {"name": "Counted B"}, {"name": "Counted C"})
    prefer = {"prefer": 'odata.maxpagesize=2,odata.include-annotations="Microsoft.Dynamics.CRM.*"'}
    counted = await dv.get(
        "accounts", params={"$filter": "startswith(name,'Counted')", "$count": "true"}, headers=prefer
    )
    body = counted.json()
    assert (body["@odata.count"], len(body["value"])) == (3, 2)
    assert body["@Microsoft.Dynamics.CRM.totalrecordcount"] == 3
    assert body["@Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded"] is False
    uncounted = (await dv.get("accounts", params={"$filter": "startswith(name,'Counted')"}, headers=prefer)).json()
    assert uncounted["@Microsoft.Dynamics.CRM.totalrecordcount"] == -1 and "@odata.count" not in uncounted


async def test_count_over_five_thousand_says_the_limit_was_exceeded(
    sandbox_http: httpx.AsyncClient, sandbox_info: dict[str, Any]
) -> None:
    dv = await connect(sandbox_http, sandbox_info)
    targets = [{"@odata.type": "Microsoft.Dynamics.CRM.account", "name": f"Many {n}"} for n in range(5001)]
    assert (
        await dv.post("accounts/Microsoft.Dynamics.CRM.CreateMultiple", json={"Targets": targets})
    ).status_code == 200
    prefer = {
        "prefer": 'odata.maxpagesize=1,odata.include-annotations="Microsoft.Dynamics.CRM.totalrecordcount,'
        'Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded"'
    }
    body = (
        await dv.get("accounts", params={"$filter": "startswith(name,'Many ')", "$count": "true"}, headers=prefer)
    ).json()
    assert body["@odata.count"] == 5000 and body["@Microsoft.Dynamics.CRM.totalrecordcount"] == 5000
    assert body["@Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded"] is True


async def test_apply_groups_and_aggregates_as_documented(dv: Dataverse) -> None:
    await new_accounts(
        dv,
        {"name": "Agg A", "creditlimit": 100, "paymenttermscode": 1},
        {"name": "Agg B", "creditlimit": 300, "paymenttermscode": 1},
        {"name": "Agg C", "creditlimit": 50},
    )
    prefer = {"prefer": f'odata.include-annotations="{FORMATTED}"'}
    grouped = await dv.get(
        "accounts",
        headers=prefer,
        params={
            "$apply": "filter(startswith(name,'Agg '))/groupby((paymenttermscode),aggregate($count as count,creditlimit with sum as total))"
        },
    )
    assert grouped.status_code == 200, grouped.text
    body = grouped.json()
    assert body["@odata.context"].endswith("$metadata#accounts")
    assert body["value"] == [
        {"count@" + FORMATTED: "1", "count": 1, "total@" + FORMATTED: "$50.00", "total": 50},
        {
            "paymenttermscode@" + FORMATTED: "Net 30",
            "paymenttermscode": 1,
            "count@" + FORMATTED: "2",
            "count": 2,
            "total@" + FORMATTED: "$400.00",
            "total": 400,
        },
    ]
    totals = (
        await dv.get(
            "accounts",
            params={
                "$apply": "filter(Microsoft.Dynamics.CRM.In(PropertyName='name',PropertyValues=['Agg A','Agg B']))"
                "/aggregate(creditlimit with average as mean,creditlimit with max as most)"
            },
        )
    ).json()
    assert totals["value"] == [{"mean": 200, "most": 300}]


@pytest.mark.parametrize(
    ("apply", "extra", "status", "words"),
    [
        ("aggregate(creditlimit with countdistinct as n)", {}, 400, "countdistinct is not supported"),
        ("groupby((modifiedon))", {}, 400, "groupby with datetime values is not supported"),
        ("groupby((primarycontactid/fullname))", {}, 501, "related table's column"),
        (
            "groupby((statuscode),aggregate($count as count))",
            {"$orderby": "count"},
            400,
            "The query node SingleValueOpenPropertyAccess is not supported",
        ),
        ("groupby((nickname))", {}, 400, "Could not find a property named 'nickname'"),
        ("compute(1 as one)", {}, 400, "'compute' is not supported"),
    ],
    ids=[
        "countdistinct",
        "datetime-group",
        "related-group",
        "orderby-aggregate",
        "unknown-column",
        "unknown-transformation",
    ],
)
async def test_apply_the_service_or_the_sandbox_refuses(
    dv: Dataverse, apply: str, extra: dict[str, str], status: int, words: str
) -> None:
    response = await dv.get("accounts", params={"$apply": apply, **extra})
    assert response.status_code == status, response.text
    assert words in error_of(response)["message"]


async def test_retrieve_total_record_count_and_messages_the_sandbox_does_not_run(dv: Dataverse) -> None:
    await new_accounts(dv, {"name": "Total Count"})
    accounts = (await dv.get("accounts/$count")).text
    response = await dv.get("RetrieveTotalRecordCount(EntityNames=['account','contact'])")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["@odata.context"].endswith("$metadata#Microsoft.Dynamics.CRM.RetrieveTotalRecordCountResponse")
    collection = body["EntityRecordCountCollection"]
    assert (collection["Count"], collection["IsReadOnly"], collection["Keys"]) == (2, False, ["account", "contact"])
    assert collection["Values"][0] == int(accounts)
    aliased = await dv.get("RetrieveTotalRecordCount(EntityNames=@p1)", params={"@p1": '["account"]'})
    assert aliased.json()["EntityRecordCountCollection"]["Values"] == [int(accounts)]
    unknown = await dv.get("RetrieveTotalRecordCount(EntityNames=['nosuchtable'])")
    assert unknown.status_code == 400 and "nosuchtable" in error_of(unknown)["message"]
    bulk = await dv.post("BulkDelete", json={"QuerySet": [], "JobName": "x"})
    assert (
        bulk.status_code == 501 and error_of(bulk)["message"] == "The sandbox does not emulate the BulkDelete message."
    )
    missing = await dv.get("NoSuchMessage")
    assert (
        missing.status_code == 404
        and error_of(missing)["message"] == "Resource not found for the segment 'NoSuchMessage'."
    )
