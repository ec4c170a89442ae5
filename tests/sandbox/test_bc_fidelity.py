"""The BC API behaves as Microsoft documents it (docs/sandbox-fidelity.md, "Business Central API v2.0"):
headers, refusals, fields and URL forms, over HTTP like a client."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.sandbox.test_bc_api import HttpClient, _op, contacts, customers


@pytest.fixture
async def bc(sandbox_http: httpx.AsyncClient, sandbox_info: dict[str, Any]) -> HttpClient:
    """The BC API of the in-process sandbox, reached through httpx with a real token."""
    client = HttpClient(sandbox_http, sandbox_info)
    await client.authenticate()
    return client


@pytest.fixture
def company(sandbox_info: dict[str, Any]) -> str:
    return str(sandbox_info["company_id"])


# --------------------------------------------------------------------------- protocol headers


async def test_every_answer_names_odata_version_4(bc: HttpClient, company: str) -> None:
    listing = await bc.request("GET", customers(company), params={"$top": "1"})
    one = listing.body["value"][0]
    single = await bc.request("GET", f"{customers(company)}({one['id']})")
    missing = await bc.request("GET", f"{customers(company)}(00000000-0000-0000-0000-000000000001)")
    created = await bc.request("POST", customers(company), json_body={"displayName": "Version Four"})
    deleted = await bc.request("DELETE", f"{customers(company)}({created.body['id']})", headers={"If-Match": "*"})
    for answer, status in ((listing, 200), (single, 200), (missing, 404), (created, 201), (deleted, 204)):
        assert answer.status == status
        assert answer.headers["odata-version"] == "4.0"
    assert listing.headers["content-type"].startswith("application/json; odata.metadata=minimal")


async def test_batch_parts_with_content_name_odata_version_and_empty_ones_have_no_headers(
        bc: HttpClient, company: str) -> None:
    created = await bc.request("POST", customers(company), json_body={"displayName": "Batch Version"})
    resp = await bc.request("POST", "$batch", json_body={"requests": [
        _op("1", "GET", f"{customers(company)}({created.body['id']})"),
        _op("2", "DELETE", f"{customers(company)}({created.body['id']})", None, {"If-Match": "*"}),
        _op("3", "GET", f"{contacts(company)}(00000000-0000-0000-0000-000000000001)"),
    ]})
    assert resp.status == 200 and resp.headers["odata-version"] == "4.0"
    read, delete, missing = resp.body["responses"]
    assert read["status"] == 200 and read["headers"]["odata-version"] == "4.0"
    assert delete["status"] == 204 and delete["headers"] == {}
    assert missing["status"] == 404 and missing["headers"]["odata-version"] == "4.0"
