"""The services' clocks as the sandbox shows them: a Date header on every answer, Dataverse
``modifiedon`` in whole seconds and BC ``lastModifiedDateTime`` in milliseconds, as on a tenant."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from starlette.applications import Starlette

from bc_tui.sandbox.server import RunningSandbox
from tests.sandbox_setups import sub_second_times

WHOLE_SECONDS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
MILLISECONDS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


async def token(http: httpx.AsyncClient, info: dict[str, Any], scope_key: str) -> dict[str, str]:
    response = await http.post(
        info["token_url"],
        data={
            "grant_type": "client_credentials",
            "client_id": info["client_id"],
            "client_secret": info["client_secret"],
            "scope": info[scope_key],
        },
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def date_of(response: httpx.Response) -> datetime:
    [value] = response.headers.get_list("date")
    return parsedate_to_datetime(value)


async def test_every_answer_carries_the_server_time_in_a_date_header(
    sandbox_http: httpx.AsyncClient, sandbox_info: dict[str, Any]
) -> None:
    before = datetime.now(UTC).replace(microsecond=0)  # a Date is cut to the second
    token_answer = await sandbox_http.post(sandbox_info["token_url"], data={"grant_type": "client_credentials"})
    bc_auth = await token(sandbox_http, sandbox_info, "bc_scope")
    dv_auth = await token(sandbox_http, sandbox_info, "dataverse_scope")
    bc_list = await sandbox_http.get(sandbox_info["bc_api"] + "companies", headers=bc_auth)
    dv_list = await sandbox_http.get(sandbox_info["dataverse_api"] + "accounts?$top=1", headers=dv_auth)
    not_found = await sandbox_http.get(sandbox_info["dataverse_api"] + "nosuchtable", headers=dv_auth)
    unauthorized = await sandbox_http.get(sandbox_info["bc_api"] + "companies")
    after = datetime.now(UTC)

    assert token_answer.status_code >= 400 and bc_list.status_code == 200 and dv_list.status_code == 200
    assert not_found.status_code == 404 and unauthorized.status_code == 401
    for answer in (token_answer, bc_list, dv_list, not_found, unauthorized):
        assert before <= date_of(answer) <= after, answer.headers


def test_over_loopback_there_is_exactly_one_date_header(loopback_sandbox: RunningSandbox) -> None:
    info = loopback_sandbox.info
    with httpx.Client(timeout=10) as http:
        answer = http.get(info["bc_api"] + "companies")
    assert answer.status_code == 401
    assert len(answer.headers.get_list("date")) == 1  # uvicorn's own Date is off


async def test_dataverse_modifiedon_is_whole_seconds_in_output_filter_and_order(
    sandbox_http: httpx.AsyncClient, sandbox_info: dict[str, Any], sandbox_app: Starlette
) -> None:
    auth = await token(sandbox_http, sandbox_info, "dataverse_scope")
    base = sandbox_info["dataverse_api"] + "accounts"
    rows = (await sandbox_http.get(base, params={"$select": "name,modifiedon"}, headers=auth)).json()["value"]
    assert rows and all(WHOLE_SECONDS.match(r["modifiedon"]) for r in rows)
    # The store keeps microseconds; the API does not show them.
    stored = sandbox_app.state.store.get("dv/accounts", rows[0]["accountid"])["_modified"]
    assert stored != rows[0]["modifiedon"] and stored.startswith(rows[0]["modifiedon"][:-1])

    # Ties, as on a tenant: "gt" a row's own modifiedon leaves out every row of that second.
    moment = rows[0]["modifiedon"]
    same_second = {r["accountid"] for r in rows if r["modifiedon"] == moment}
    later = {r["accountid"] for r in rows if r["modifiedon"] > moment}
    greater = (
        await sandbox_http.get(base, params={"$filter": f"modifiedon gt {moment}", "$select": "name"}, headers=auth)
    ).json()["value"]
    at_least = (
        await sandbox_http.get(base, params={"$filter": f"modifiedon ge {moment}", "$select": "name"}, headers=auth)
    ).json()["value"]
    assert {r["accountid"] for r in greater} == later
    assert {r["accountid"] for r in at_least} == later | same_second

    # $orderby sorts by the value shown, and keyset paging over the ties serves every row once.
    served: list[dict[str, Any]] = []
    url: str | None = base + "?$select=modifiedon&$orderby=modifiedon desc"
    while url:
        page = (await sandbox_http.get(url, headers={**auth, "Prefer": "odata.maxpagesize=7"})).json()
        served.extend(page["value"])
        url = page.get("@odata.nextLink")
    assert sorted(r["accountid"] for r in served) == sorted(r["accountid"] for r in rows)
    assert [r["modifiedon"] for r in served] == sorted((r["modifiedon"] for r in served), reverse=True)


@sub_second_times  # a tenant that shows milliseconds, as CRONUS does (the default is whole seconds)
async def test_business_central_last_modified_is_milliseconds(
    sandbox_http: httpx.AsyncClient, sandbox_info: dict[str, Any]
) -> None:
    auth = await token(sandbox_http, sandbox_info, "bc_scope")
    customers = f"{sandbox_info['bc_api']}companies({sandbox_info['company_id']})/customers"
    rows = (await sandbox_http.get(customers, headers=auth)).json()["value"]
    assert rows and all(MILLISECONDS.match(r["lastModifiedDateTime"]) for r in rows)
    moment = rows[0]["lastModifiedDateTime"]
    later = {r["id"] for r in rows if r["lastModifiedDateTime"] > moment}
    greater = (
        await sandbox_http.get(customers, params={"$filter": f"lastModifiedDateTime gt {moment}"}, headers=auth)
    ).json()["value"]
    assert {r["id"] for r in greater} == later
