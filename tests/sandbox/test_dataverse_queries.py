"""Dataverse queries that are not OData system options, over HTTP: FetchXML, SQL, saved and
user queries, and unknown query parameters (docs/sandbox-fidelity.md, "FetchXML, SQL and saved queries")."""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ElementTree
from urllib.parse import unquote

import pytest
from dataverse_helpers import Dataverse, dv, error_of, new_accounts  # noqa: F401 - dv is a fixture


async def test_fetch_xml_filters_orders_selects_and_leaves_out_nulls(dv: Dataverse) -> None:
    first, second, third = await new_accounts(
        dv,
        {"name": "Fetch Alpha", "address1_city": "Oslo"},
        {"name": "Fetch Beta", "address1_city": "Bergen"},
        {"name": "Fetch Gamma"},
    )
    xml = (
        "<fetch><entity name='account'><attribute name='name'/><attribute name='address1_city'/>"
        "<order attribute='name' descending='true'/>"
        "<filter type='and'><condition attribute='name' operator='like' value='fetch %'/>"
        "<filter type='or'><condition attribute='address1_city' operator='eq' value='OSLO'/>"
        "<condition attribute='address1_city' operator='null'/></filter></filter></entity></fetch>"
    )
    response = await dv.get("accounts", params={"fetchXml": xml})
    assert response.status_code == 200, response.text
    body = response.json()
    assert [row["accountid"] for row in body["value"]] == [third, first]
    # Unlike an OData query, FetchXML leaves null columns out.
    assert body["value"][0].keys() == {"@odata.etag", "accountid", "name"}
    assert body["value"][1]["address1_city"] == "Oslo"
    assert body["@odata.context"].endswith("$metadata#accounts(name,address1_city,accountid)")

    inside = await dv.get(
        "accounts",
        params={
            "fetchXml": (
                "<fetch><entity name='account'><attribute name='name'/><filter><condition attribute='accountid' operator='in'>"
                f"<value>{second}</value><value>{third.upper()}</value></condition></filter></entity></fetch>"
            )
        },
    )
    assert sorted(row["accountid"] for row in inside.json()["value"]) == sorted([second, third])


async def test_fetch_xml_pages_by_number_with_more_records_and_total_count(dv: Dataverse) -> None:
    await new_accounts(dv, *({"name": f"Paged {n}"} for n in range(5)))
    prefer = {"prefer": 'odata.include-annotations="Microsoft.Dynamics.CRM.*"'}
    names: list[str] = []
    for page in (1, 2, 3):
        xml = (
            f"<fetch count='2' page='{page}' returntotalrecordcount='true'><entity name='account'>"
            "<attribute name='name'/><order attribute='name'/>"
            "<filter><condition attribute='name' operator='begins-with' value='Paged'/></filter></entity></fetch>"
        )
        body = (await dv.get("accounts", params={"fetchXml": xml}, headers=prefer)).json()
        names += [row["name"] for row in body["value"]]
        assert body["@Microsoft.Dynamics.CRM.morerecords"] is (page < 3)
        assert body["@Microsoft.Dynamics.CRM.totalrecordcount"] == 5
        assert body["@Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded"] is False
        if page < 3:  # the cookie names the next page and, URL-encoded twice, this page's last id
            cookie = ElementTree.fromstring(body["@Microsoft.Dynamics.CRM.fetchxmlpagingcookie"])
            assert cookie.get("pagenumber") == str(page + 1)
            inner = ElementTree.fromstring(unquote(unquote(cookie.get("pagingcookie", ""))))
            assert inner.get("page") == str(page) and inner[0].get("last") == "{" + body["value"][-1]["accountid"] + "}"
        else:
            assert "@Microsoft.Dynamics.CRM.fetchxmlpagingcookie" not in body
    assert names == [f"Paged {n}" for n in range(5)]
    top = await dv.get(
        "accounts",
        params={"fetchXml": "<fetch top='2'><entity name='account'><attribute name='name'/></entity></fetch>"},
    )
    assert len(top.json()["value"]) == 2


@pytest.mark.parametrize(
    ("xml", "status", "code", "words"),
    [
        (
            "<fetch><entity name='account'><attribute name='nickname'/></entity></fetch>",
            400,
            "0x80041103",
            "'account' entity doesn't contain attribute with Name = 'nickname' and NameMapping = 'Logical'.",
        ),
        ("<fetch top='2' count='2'><entity name='account'/></fetch>", 400, "0x80040203", "can't be used together"),
        ("<fetch><entity name='contact'/></fetch>", 400, "0x80040203", "does not match the entity set 'accounts'"),
        ("<fetch><entity name='account'", 400, "0x80040203", "not well-formed"),
        ("<fetch top='5001'><entity name='account'/></fetch>", 400, "0x80040203", "from 1 to 5000"),
        (
            "<fetch><entity name='account'><link-entity name='contact' from='parentcustomerid' to='accountid'/></entity></fetch>",
            501,
            "0x80060888",
            "link-entity",
        ),
        ("<fetch aggregate='true'><entity name='account'/></fetch>", 501, "0x80060888", "aggregate"),
        (
            "<fetch><entity name='account'><filter><condition attribute='createdon' operator='last-x-days' value='3'/></filter></entity></fetch>",
            400,
            "0x80041103",
            "createdon",
        ),
        (
            "<fetch><entity name='account'><filter><condition attribute='modifiedon' operator='last-x-days' value='3'/></filter></entity></fetch>",
            501,
            "0x80060888",
            "last-x-days",
        ),
        (
            "<fetch><entity name='account'><attribute name='name' aggregate='count' alias='n'/></entity></fetch>",
            501,
            "0x80060888",
            "aggregate attributes",
        ),
    ],
    ids=[
        "unknown-attribute",
        "top-with-paging",
        "other-table",
        "malformed",
        "too-many",
        "join",
        "aggregate",
        "unknown-column",
        "date-operator",
        "aggregate-attribute",
    ],
)
async def test_fetch_xml_the_sandbox_cannot_run_is_refused(
    dv: Dataverse, xml: str, status: int, code: str, words: str
) -> None:
    response = await dv.get("accounts", params={"fetchXml": xml})
    assert response.status_code == status, response.text
    assert error_of(response)["code"] == code and words in error_of(response)["message"]


async def test_sql_select_runs_as_the_fetch_xml_it_means(dv: Dataverse) -> None:
    first, second, _third = await new_accounts(
        dv, {"name": "Sql O'Neil", "creditlimit": 100}, {"name": "Sql Two", "creditlimit": 300}, {"name": "Sql Three"}
    )
    response = await dv.get(
        "accounts",
        params={
            "sql": "SELECT TOP 5 name, creditlimit FROM account WHERE name LIKE 'sql %' AND creditlimit >= 100 ORDER BY creditlimit DESC"
        },
    )
    assert response.status_code == 200, response.text
    assert [(row["accountid"], row["creditlimit"]) for row in response.json()["value"]] == [(second, 300), (first, 100)]
    quoted = await dv.get(
        "accounts", params={"sql": "SELECT name FROM account WHERE name = 'Sql O''Neil' OR name IN ('x', 'y')"}
    )
    assert [row["accountid"] for row in quoted.json()["value"]] == [first]

    # Table and column aliases, parentheses, BETWEEN, NOT IN, and [%] for a literal percent sign.
    aliased = await dv.get(
        "accounts",
        headers={"prefer": 'odata.include-annotations="*"'},
        params={
            "sql": (
                "SELECT a.name AS account_name, a.creditlimit FROM account AS a "
                "WHERE (a.name LIKE 'sql%' OR a.name = 'nobody') AND a.creditlimit BETWEEN 50 AND 150 "
                "AND a.name NOT IN ('Sql Two') ORDER BY a.name"
            )
        },
    )
    assert aliased.status_code == 200, aliased.text
    (row,) = aliased.json()["value"]
    assert (row["accountid"], row["account_name"], row["creditlimit"]) == (first, "Sql O'Neil", 100)
    assert row["account_name@OData.Community.Display.V1.AttributeName"] == "name" and "name" not in row
    assert aliased.json()["@Microsoft.Dynamics.CRM.totalrecordcount"] == -1
    percent = await dv.get("accounts", params={"sql": "SELECT name FROM account WHERE name LIKE 'Sql [%]%'"})
    assert percent.json()["value"] == []
    nothing = await dv.get("accounts", params={"sql": "SELECT name FROM account WHERE name = NULL"})
    assert nothing.json()["value"] == []  # "= NULL" is no test for null


async def test_sql_pages_by_max_page_size_and_next_link(dv: Dataverse) -> None:
    await new_accounts(dv, *({"name": f"Sql Page {n}"} for n in range(5)))
    url: str | None = "accounts"
    params: dict[str, str] | None = {"sql": "SELECT name FROM account WHERE name LIKE 'Sql Page%' ORDER BY name"}
    names: list[str] = []
    while url:
        response = await dv.get(url, params=params, headers={"prefer": "odata.maxpagesize=2"})
        assert response.status_code == 200, response.text
        assert response.headers["preference-applied"] == "odata.maxpagesize=2"
        body = response.json()
        assert len(body["value"]) <= 2
        names += [row["name"] for row in body["value"]]
        url, params = body.get("@odata.nextLink"), None
        assert url is None or "$skiptoken=" in url
    assert names == [f"Sql Page {n}" for n in range(5)]


@pytest.mark.parametrize(
    ("sql", "status", "words"),
    [
        ("SELECT * FROM account", 400, "SELECT *"),
        ("SELECT name FROM contact", 400, "not the entity set's table 'account'"),
        ("DELETE FROM account", 400, "single SELECT statement"),
        ("SELECT name FROM account; SELECT fullname FROM contact", 400, "more than one statement"),
        ("SELECT name FROM account WHERE accountid IN (SELECT accountid FROM account)", 400, "Subqueries"),
        ("SELECT name FROM account WHERE EXISTS (SELECT name FROM account)", 400, "EXISTS"),
        ("SELECT name FROM account WHERE 1 = 1", 400, "Literal-to-literal"),
        ("SELECT name FROM account ORDER BY name OFFSET 5 ROWS FETCH NEXT 5 ROWS ONLY", 400, "OFFSET"),
        ("SELECT a.name FROM account a JOIN contact c ON c.parentcustomerid = a.accountid", 501, "JOIN in SQL"),
        ("SELECT COUNT(*) AS n FROM account", 501, "COUNT"),
        ("SELECT DISTINCT address1_city FROM account", 501, "DISTINCT"),
        ("SELECT address1_city FROM account GROUP BY address1_city", 501, "GROUP BY"),
        ("SELECT c.fullname FROM account a", 501, "another table ('c')"),
    ],
    ids=[
        "star",
        "other-table",
        "write",
        "two-statements",
        "subquery",
        "exists",
        "literals",
        "offset",
        "join",
        "aggregate",
        "distinct",
        "group-by",
        "other-qualifier",
    ],
)
async def test_sql_outside_the_subset_is_refused(dv: Dataverse, sql: str, status: int, words: str) -> None:
    response = await dv.get("accounts", params={"sql": sql})
    assert response.status_code == status, response.text
    assert words in error_of(response)["message"]


async def test_saved_and_user_queries_and_unknown_parameters_are_refused(dv: Dataverse) -> None:
    view = str(uuid.uuid4())
    saved = await dv.get("accounts", params={"savedQuery": view})
    assert saved.status_code == 404
    assert error_of(saved) == {"code": "0x80040217", "message": f"savedquery With Id = {view} Does Not Exist"}
    user = await dv.get("accounts", params={"userQuery": view})
    assert user.status_code == 404 and error_of(user)["message"] == f"userquery With Id = {view} Does Not Exist"
    unknown = await dv.get("accounts", params={"search": "x"})
    assert unknown.status_code == 400
    assert error_of(unknown) == {"code": "0x80060888", "message": "The query parameter search is not supported"}
    alias = await dv.get("accounts", params={"$filter": "name eq @p1", "@p1": "'x'"})
    assert alias.status_code == 501 and "parameter aliases ('@p1')" in error_of(alias)["message"]
    mixed = await dv.get("accounts", params={"fetchXml": "<fetch><entity name='account'/></fetch>", "$top": "1"})
    assert mixed.status_code == 400 and "can't be combined with $top" in error_of(mixed)["message"]
