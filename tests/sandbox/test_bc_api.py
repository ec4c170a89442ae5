"""The emulated Business Central API v2.0, exercised over HTTP like a client would."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from bc_tui.sandbox.bc_api import BusinessCentralApi
from bc_tui.sandbox.demo_data import seed
from bc_tui.sandbox.http import ApiRequest
from bc_tui.sandbox.server import RunningSandbox
from bc_tui.sandbox.settings import SandboxSettings
from bc_tui.sandbox.store import EntityStore
from tests.sandbox_setups import manual_numbers

BASE = "http://127.0.0.1:9/v2.0/sandbox-tenant/production/api/v2.0/"


@dataclass
class Resp:
    status: int
    body: Any
    headers: dict[str, str]


class HttpClient:
    """A client of the sandbox's BC API over HTTP, with a bearer token from the token endpoint."""

    def __init__(self, http: httpx.AsyncClient, info: dict[str, Any]) -> None:
        self.http = http
        self.info = info
        self.token: str | None = None

    async def authenticate(self) -> None:
        resp = await self.http.post(
            self.info["token_url"],
            data={
                "grant_type": "client_credentials",
                "client_id": self.info["client_id"],
                "client_secret": self.info["client_secret"],
                "scope": self.info["bc_scope"],
            },
        )
        assert resp.status_code == 200, resp.text
        self.token = resp.json()["access_token"]

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        json_body: Any = None,
    ) -> Resp:
        url = path if path.startswith("http") else self.info["bc_api"] + path
        resp = await self.http.request(
            method,
            url,
            params=params,
            json=json_body,
            headers={"Authorization": f"Bearer {self.token}", **(headers or {})},
        )
        body: Any = resp.text
        if "json" in resp.headers.get("content-type", "") and resp.content:
            body = resp.json()
        return Resp(resp.status_code, body, dict(resp.headers))


@pytest.fixture
def store(sandbox_settings: SandboxSettings) -> EntityStore:
    store = EntityStore()
    seed(store, sandbox_settings)
    return store


@pytest.fixture
async def bc(sandbox_http: httpx.AsyncClient, sandbox_info: dict[str, Any]) -> HttpClient:
    """The BC API of the in-process sandbox, reached through httpx with a real token."""
    client = HttpClient(sandbox_http, sandbox_info)
    await client.authenticate()
    return client


@pytest.fixture
def company(sandbox_settings: SandboxSettings) -> str:
    return sandbox_settings.company_id


def customers(company: str) -> str:
    return f"companies({company})/customers"


def contacts(company: str) -> str:
    return f"companies({company})/contacts"


async def read_all(bc: Any, path: str, params: dict[str, str], page_size: int) -> tuple[list[dict[str, Any]], int]:
    """Follow @odata.nextLink unchanged until it disappears; return the rows and the page count."""
    rows: list[dict[str, Any]] = []
    pages = 0
    url: str | None = None
    while True:
        if url is None:
            resp = await bc.request("GET", path, params=params, headers={"Prefer": f"odata.maxpagesize={page_size}"})
        else:
            resp = await bc.request("GET", url, headers={"Prefer": f"odata.maxpagesize={page_size}"})
        assert resp.status == 200, resp.body
        assert resp.headers.get("preference-applied") == f"odata.maxpagesize={page_size}"
        assert len(resp.body["value"]) <= page_size
        rows.extend(resp.body["value"])
        pages += 1
        url = resp.body.get("@odata.nextLink")
        if url is None:
            return rows, pages


# --------------------------------------------------------------------------- companies


async def test_companies_list_and_get(bc: Any, company: str) -> None:
    resp = await bc.request("GET", "companies")
    assert resp.status == 200
    assert resp.body["@odata.context"].endswith("$metadata#companies")
    [only] = resp.body["value"]
    assert only["id"] == company and only["name"] == "CRONUS International Ltd."
    assert not any(k.startswith("_") for k in only)

    one = await bc.request("GET", f"companies({company})")
    assert one.status == 200 and one.body["displayName"] == "CRONUS International Ltd."

    missing = await bc.request("GET", "companies(00000000-0000-0000-0000-000000000001)/customers")
    assert missing.status == 404
    assert missing.body["error"]["code"] == "BadRequest_NotFound"


# --------------------------------------------------------------------------- CRUD


async def test_list_and_get_customer_shape(bc: Any, company: str, sandbox_settings: SandboxSettings) -> None:
    resp = await bc.request("GET", customers(company), params={"$count": "true"})
    assert resp.status == 200
    assert resp.body["@odata.count"] == sandbox_settings.customers == len(resp.body["value"])
    numbers = [row["number"] for row in resp.body["value"]]
    assert numbers == sorted(numbers)  # default order: number
    first = resp.body["value"][0]
    assert first["@odata.etag"].startswith('W/"')
    assert first["lastModifiedDateTime"].endswith("Z")
    assert not any(k.startswith("_") for k in first)

    one = await bc.request("GET", f"{customers(company)}({first['id']})")
    assert one.status == 200
    assert one.body["number"] == first["number"]
    assert one.body["@odata.etag"] == first["@odata.etag"] == one.headers["etag"]
    assert one.body["@odata.context"].endswith("/customers/$entity")

    missing = await bc.request("GET", f"{customers(company)}(00000000-0000-0000-0000-000000000002)")
    assert missing.status == 404 and missing.body["error"]["code"] == "BadRequest_NotFound"
    unknown_set = await bc.request("GET", f"companies({company})/vendors")
    assert unknown_set.status == 404


async def test_create_update_delete_customer(bc: Any, company: str) -> None:
    created = await bc.request(
        "POST",
        customers(company),
        json_body={
            "displayName": "Zeta Tools",
            "city": "Lyon",
            "country": "fr",
            "creditLimit": 1500,
            "blocked": " ",
        },
    )
    assert created.status == 201, created.body
    row = created.body
    assert row["number"].startswith("C") and row["country"] == "FR"  # Code fields are upper-case
    assert row["balanceDue"] == 0 and row["type"] == "Company"
    assert created.headers["location"].endswith(f"/customers({row['id']})")

    patched = await bc.request(
        "PATCH",
        f"{customers(company)}({row['id']})",
        headers={"If-Match": row["@odata.etag"]},
        json_body={"city": "Paris"},
    )
    assert patched.status == 200
    assert patched.body["city"] == "Paris"
    assert patched.body["@odata.etag"] != row["@odata.etag"]
    # Milliseconds, as in BC: an update in the same millisecond keeps the time; the ETag moves.
    assert patched.body["lastModifiedDateTime"] >= row["lastModifiedDateTime"]

    again = await bc.request("GET", f"{customers(company)}({row['id']})")
    assert again.body["city"] == "Paris"

    deleted = await bc.request(
        "DELETE", f"{customers(company)}({row['id']})", headers={"If-Match": patched.body["@odata.etag"]}
    )
    assert deleted.status == 204
    gone = await bc.request("GET", f"{customers(company)}({row['id']})")
    assert gone.status == 404


async def test_create_rejects_bad_bodies(bc: Any, company: str) -> None:
    cases = [
        ({"displayName": "X", "favouriteColour": "blue"}, "does not exist on type 'Microsoft.NAV.customer'"),
        ({"displayName": "X", "id": "00000000-0000-0000-0000-000000000003"}, "read-only"),
        ({"displayName": "X", "balanceDue": 10}, "read-only"),
        ({"displayName": "X", "blocked": "Sometimes"}, "is not an option"),
        ({"displayName": "X", "city": None}, "does not allow null values"),
        ({"displayName": "X", "creditLimit": "lots"}, "Edm.Decimal"),
        ({"displayName": "X" * 101}, "less than or equal to 100 characters"),
    ]
    for body, fragment in cases:
        resp = await bc.request("POST", customers(company), json_body=body)
        assert resp.status == 400, body
        assert fragment in resp.body["error"]["message"], resp.body


@manual_numbers  # the series with Manual Nos., as on CRONUS: a number typed in is taken
async def test_number_series_and_duplicate_number(bc: Any, company: str) -> None:
    first = await bc.request("POST", customers(company), json_body={"displayName": "One"})
    second = await bc.request("POST", customers(company), json_body={"displayName": "Two"})
    assert (first.body["number"], second.body["number"]) == ("C00010", "C00020")

    duplicate = await bc.request("POST", customers(company), json_body={"displayName": "Dup", "number": "10000"})
    assert duplicate.status == 400
    assert duplicate.body["error"] == {
        "code": "Internal_EntityWithSameKeyExists",
        "message": "The record already exists. Identification fields and values: No.='10000'",
    }
    # A client-chosen number is taken as given, and the series skips it.
    chosen = await bc.request("POST", customers(company), json_body={"displayName": "Mine", "number": "C00030"})
    assert chosen.status == 201
    third = await bc.request("POST", customers(company), json_body={"displayName": "Three"})
    assert third.body["number"] == "C00040"
    # Renaming onto a taken number is refused the same way.
    renamed = await bc.request(
        "PATCH", f"{customers(company)}({third.body['id']})", headers={"If-Match": "*"}, json_body={"number": "C00010"}
    )
    assert renamed.status == 400 and renamed.body["error"]["code"] == "Internal_EntityWithSameKeyExists"

    contact = await bc.request("POST", contacts(company), json_body={"displayName": "Pat Doe", "type": "Person"})
    assert contact.status == 201
    assert contact.body["number"].startswith("CT") and len(contact.body["number"]) == 8
    assert contact.body["contactBusinessRelation"] == "None"


async def test_contact_company_number_is_checked(bc: Any, company: str) -> None:
    listing = await bc.request("GET", contacts(company), params={"$filter": "type eq 'Company'", "$top": "1"})
    company_contact = listing.body["value"][0]
    person = await bc.request(
        "POST",
        contacts(company),
        json_body={
            "displayName": "Kim Lee",
            "type": "Person",
            "companyNumber": company_contact["number"],
        },
    )
    assert person.status == 201
    assert person.body["companyName"] == company_contact["displayName"]
    bad = await bc.request(
        "POST",
        contacts(company),
        json_body={
            "displayName": "Kim Lee",
            "type": "Person",
            "companyNumber": "NOPE",
        },
    )
    assert bad.status == 400 and "cannot be found in the related table" in bad.body["error"]["message"]


async def test_if_match_required_stale_and_star(bc: Any, company: str) -> None:
    created = await bc.request("POST", customers(company), json_body={"displayName": "Etag Co"})
    url = f"{customers(company)}({created.body['id']})"
    old_etag = created.body["@odata.etag"]

    missing = await bc.request("PATCH", url, json_body={"city": "A"})
    assert missing.status == 400
    assert missing.body["error"]["code"] == "BadRequest_InvalidToken"
    no_delete = await bc.request("DELETE", url)
    assert no_delete.status == 400

    ok = await bc.request("PATCH", url, headers={"If-Match": old_etag}, json_body={"city": "A"})
    assert ok.status == 200

    stale = await bc.request("PATCH", url, headers={"If-Match": old_etag}, json_body={"city": "B"})
    assert stale.status == 412
    assert stale.body["error"] == {
        "code": "Request_EntityChanged",
        "message": "Another user has already changed the record.",
    }
    stale_delete = await bc.request("DELETE", url, headers={"If-Match": old_etag})
    assert stale_delete.status == 412
    assert (await bc.request("GET", url)).body["city"] == "A"  # the stale write changed nothing

    forced = await bc.request("PATCH", url, headers={"If-Match": "*"}, json_body={"city": "C"})
    assert forced.status == 200 and forced.body["city"] == "C"
    assert (await bc.request("DELETE", url, headers={"If-Match": "*"})).status == 204


async def test_unsupported_method_is_405(bc: Any, company: str) -> None:
    put = await bc.request("PUT", customers(company), json_body={})
    assert put.status == 405
    assert "error" in put.body
    post_companies = await bc.request("POST", "companies", json_body={})
    assert post_companies.status == 405


# --------------------------------------------------------------------------- queries


async def test_filter_with_quote_literal_and_functions(bc: Any, company: str) -> None:
    created = await bc.request("POST", customers(company), json_body={"displayName": "O'Hara's Travel"})
    assert created.status == 201
    resp = await bc.request("GET", customers(company), params={"$filter": "displayName eq 'O''Hara''s Travel'"})
    assert resp.status == 200
    assert [r["id"] for r in resp.body["value"]] == [created.body["id"]]

    starts = await bc.request("GET", customers(company), params={"$filter": "startswith(displayName,'O''Hara''s')"})
    assert [r["id"] for r in starts.body["value"]] == [created.body["id"]]
    # BC compares text exactly; tolower is how a client ignores case.
    other_case = await bc.request("GET", customers(company), params={"$filter": "startswith(displayName,'o''hara''s')"})
    assert other_case.status == 200 and other_case.body["value"] == []
    folded = await bc.request(
        "GET", customers(company), params={"$filter": "startswith(tolower(displayName),'o''hara''s')"}
    )
    assert [r["id"] for r in folded.body["value"]] == [created.body["id"]]

    since = await bc.request(
        "GET",
        customers(company),
        params={
            "$filter": f"lastModifiedDateTime ge {created.body['lastModifiedDateTime'][:-1]}Z and number eq '{created.body['number']}'",
        },
    )
    assert [r["id"] for r in since.body["value"]] == [created.body["id"]]

    bad = await bc.request("GET", customers(company), params={"$filter": "displayName eq 'unterminated"})
    assert bad.status == 400 and bad.body["error"]["code"] == "BadRequest"
    unknown = await bc.request("GET", customers(company), params={"$filter": "shoeSize eq 42"})
    assert unknown.status == 400 and "shoeSize" in unknown.body["error"]["message"]


async def test_select_orderby_top_skip_count(bc: Any, company: str, sandbox_settings: SandboxSettings) -> None:
    everything = await bc.request("GET", customers(company), params={"$orderby": "displayName desc"})
    names = [r["displayName"] for r in everything.body["value"]]
    assert names == sorted(names, key=str.casefold, reverse=True)

    resp = await bc.request(
        "GET",
        customers(company),
        params={
            "$select": "number,displayName",
            "$orderby": "displayName desc",
            "$top": "5",
            "$skip": "3",
            "$count": "true",
        },
    )
    assert resp.status == 200
    assert resp.body["@odata.count"] == sandbox_settings.customers
    assert [r["displayName"] for r in resp.body["value"]] == names[3:8]
    assert all(set(r) == {"@odata.etag", "number", "displayName"} for r in resp.body["value"])
    assert "@odata.nextLink" not in resp.body

    bad_select = await bc.request("GET", customers(company), params={"$select": "number,nope"})
    assert bad_select.status == 400
    bad_top = await bc.request("GET", customers(company), params={"$top": "-1"})
    assert bad_top.status == 400

    count = await bc.request("GET", f"{customers(company)}/$count", params={"$filter": "blocked eq 'All'"})
    assert count.status == 200 and int(count.body) == sum(1 for r in everything.body["value"] if r["blocked"] == "All")


async def test_paging_visits_every_row_once(bc: Any, company: str) -> None:
    rows, pages = await read_all(bc, contacts(company), {"$select": "id,number"}, page_size=7)
    total = (await bc.request("GET", contacts(company), params={"$count": "true", "$top": "0"})).body["@odata.count"]
    assert len(rows) == total > 7 * 3
    assert pages == -(-total // 7)
    ids = [r["id"] for r in rows]
    assert len(set(ids)) == len(ids)
    assert [r["number"] for r in rows] == sorted(r["number"] for r in rows)


async def test_paging_with_filter_orderby_and_top(bc: Any, company: str) -> None:
    query = {"$filter": "type eq 'Person'", "$orderby": "city asc,displayName desc"}
    everything = (await bc.request("GET", contacts(company), params=query)).body["value"]
    assert all(r["type"] == "Person" for r in everything)
    rows, pages = await read_all(bc, contacts(company), {**query, "$skip": "2", "$top": "17"}, page_size=5)
    assert [r["id"] for r in rows] == [r["id"] for r in everything[2:19]]
    assert len(rows) == 17 and pages == 4


@manual_numbers  # a number typed in that sorts before the cursor
async def test_paging_survives_a_write_between_pages(bc: Any, company: str, sandbox_settings: SandboxSettings) -> None:
    first = await bc.request("GET", customers(company), headers={"Prefer": "odata.maxpagesize=10"})
    seen = [r["number"] for r in first.body["value"]]
    # A new customer sorting before the cursor must not shift the rest of the pages.
    added = await bc.request("POST", customers(company), json_body={"displayName": "Early", "number": "00001"})
    assert added.status == 201
    url = first.body["@odata.nextLink"]
    while url:
        page = await bc.request("GET", url, headers={"Prefer": "odata.maxpagesize=10"})
        seen.extend(r["number"] for r in page.body["value"])
        url = page.body.get("@odata.nextLink")
    assert len(seen) == len(set(seen)) == sandbox_settings.customers


async def test_bad_skiptoken_is_400(bc: Any, company: str) -> None:
    resp = await bc.request("GET", customers(company), params={"$skiptoken": "not-a-token"})
    assert resp.status == 400


# --------------------------------------------------------------------------- $batch


def _op(op_id: str, method: str, url: str, body: Any = None, headers: dict[str, str] | None = None) -> dict[str, Any]:
    op: dict[str, Any] = {
        "id": op_id,
        "method": method,
        "url": url,
        "headers": {"Content-Type": "application/json", **(headers or {})},
    }
    if body is not None:
        op["body"] = body
    return op


@manual_numbers  # one part fails on a number that is taken
async def test_batch_parts_fail_independently(bc: Any, company: str) -> None:
    before = (await bc.request("GET", customers(company), params={"$count": "true", "$top": "0"})).body["@odata.count"]
    resp = await bc.request(
        "POST",
        "$batch",
        json_body={
            "requests": [
                _op("1", "POST", customers(company), {"displayName": "Batch One"}),
                _op("2", "POST", customers(company), {"displayName": "Dup", "number": "20000"}),
                _op(
                    "3",
                    "GET",
                    f"{bc.info['bc_api']}{customers(company)}?$filter=displayName eq 'Batch One'&$select=number",
                ),
                _op(
                    "4",
                    "PATCH",
                    f"{customers(company)}(00000000-0000-0000-0000-000000000004)",
                    {"city": "x"},
                    {"If-Match": "*"},
                ),
            ]
        },
    )
    assert resp.status == 200
    parts = {p["id"]: p for p in resp.body["responses"]}
    assert [p["status"] for p in resp.body["responses"]] == [201, 400, 200, 404]
    assert parts["2"]["body"]["error"]["code"] == "Internal_EntityWithSameKeyExists"
    assert parts["3"]["body"]["value"] == [
        {"@odata.etag": parts["1"]["body"]["@odata.etag"], "number": parts["1"]["body"]["number"]}
    ]
    after = (await bc.request("GET", customers(company), params={"$count": "true", "$top": "0"})).body["@odata.count"]
    assert after == before + 1


async def test_batch_snapshot_is_all_or_nothing(bc: Any, company: str) -> None:
    listing = await bc.request("GET", customers(company), params={"$top": "1"})
    victim = listing.body["value"][0]
    before = (await bc.request("GET", customers(company), params={"$count": "true", "$top": "0"})).body["@odata.count"]
    resp = await bc.request(
        "POST",
        "$batch",
        headers={"Isolation": "snapshot"},
        json_body={
            "requests": [
                _op("a", "POST", customers(company), {"displayName": "Snap One"}),
                _op(
                    "b",
                    "PATCH",
                    f"{customers(company)}({victim['id']})",
                    {"city": "Nowhere"},
                    {"If-Match": victim["@odata.etag"]},
                ),
                _op("c", "POST", customers(company), {"displayName": "Snap Bad", "nonsense": 1}),
                _op("d", "DELETE", f"{customers(company)}({victim['id']})", None, {"If-Match": "*"}),
            ]
        },
    )
    assert resp.status == 200
    statuses = [p["status"] for p in resp.body["responses"]]
    # Each answers what it answered when it ran, as in BC's documented example; all was undone.
    assert statuses == [201, 200, 400, 204]
    assert "does not exist on type" in resp.body["responses"][2]["body"]["error"]["message"]
    # Nothing was written: same count, the victim unchanged (same ETag), no "Snap One".
    after = (await bc.request("GET", customers(company), params={"$count": "true", "$top": "0"})).body["@odata.count"]
    assert after == before
    again = await bc.request("GET", f"{customers(company)}({victim['id']})")
    assert again.body["@odata.etag"] == victim["@odata.etag"] and again.body["city"] == victim["city"]
    snap = await bc.request("GET", customers(company), params={"$filter": "displayName eq 'Snap One'"})
    assert snap.body["value"] == []
    # The rolled-back create gave its number back, as BC's No. Series is part of the transaction.
    created = await bc.request("POST", customers(company), json_body={"displayName": "After"})
    assert created.status == 201 and created.body["number"] == "C00010"


async def test_batch_snapshot_success_commits(bc: Any, company: str) -> None:
    resp = await bc.request(
        "POST",
        "$batch",
        headers={"Isolation": "snapshot"},
        json_body={
            "requests": [
                _op("a", "POST", customers(company), {"displayName": "Snap A"}),
                _op("b", "POST", contacts(company), {"displayName": "Snap B", "type": "Person"}),
            ]
        },
    )
    assert [p["status"] for p in resp.body["responses"]] == [201, 201]
    found = await bc.request("GET", customers(company), params={"$filter": "displayName eq 'Snap A'"})
    assert len(found.body["value"]) == 1


async def test_batch_depends_on_and_limits(bc: Any, company: str) -> None:
    resp = await bc.request(
        "POST",
        "$batch",
        json_body={
            "requests": [
                _op("1", "POST", customers(company), {"displayName": "X", "number": "10000"}),
                {**_op("2", "GET", customers(company)), "dependsOn": ["1"]},
            ]
        },
    )
    assert [p["status"] for p in resp.body["responses"]] == [400, 424]

    too_many = await bc.request(
        "POST",
        "$batch",
        json_body={
            "requests": [_op(str(i), "GET", "companies") for i in range(101)],
        },
    )
    assert too_many.status == 400
    assert "at most 100" in too_many.body["error"]["message"]
    hundred = await bc.request(
        "POST",
        "$batch",
        json_body={
            "requests": [_op(str(i), "GET", "companies") for i in range(100)],
        },
    )
    assert hundred.status == 200 and len(hundred.body["responses"]) == 100

    not_json = await bc.request("POST", "$batch", json_body={"operations": []})
    assert not_json.status == 400


def test_dispatch_never_raises_on_garbage(store: EntityStore, sandbox_settings: SandboxSettings) -> None:
    api = BusinessCentralApi(store, sandbox_settings)
    for method, path, body in [
        ("GET", "", b""),
        ("GET", "companies(not-a-guid)", b""),
        ("POST", "$batch", b"{not json"),
        ("POST", f"companies({sandbox_settings.company_id})/customers", b"[1,2]"),
        ("GET", f"companies({sandbox_settings.company_id})/customers(", b""),
        ("PATCH", f"companies({sandbox_settings.company_id})/customers({sandbox_settings.company_id})", b"{}"),
    ]:
        response = api.dispatch(ApiRequest(method, path, {}, {}, body, BASE))
        assert 400 <= response.status < 500
        assert "error" in json.loads(response.body)


async def test_over_loopback_paging_and_batch(loopback_sandbox: RunningSandbox) -> None:
    """The same API over a real socket: paging links and a batch survive real URL encoding."""
    sandbox = loopback_sandbox
    async with httpx.AsyncClient() as http:
        bc = HttpClient(http, sandbox.info)
        await bc.authenticate()
        company = sandbox.info["company_id"]
        params = {"$filter": "type eq 'Company' and contains(displayName,' ')", "$select": "id,displayName"}
        rows, pages = await read_all(bc, contacts(company), params, page_size=4)
        assert pages >= 3
        assert len({r["id"] for r in rows}) == len(rows)
        assert all(" " in r["displayName"] for r in rows)

        resp = await bc.request(
            "POST",
            "$batch",
            headers={"Isolation": "snapshot"},
            json_body={
                "requests": [
                    _op("1", "POST", customers(company), {"displayName": "Loop & Co"}),
                    _op("2", "GET", f"{customers(company)}?$filter=displayName eq 'Loop %26 Co'"),
                ]
            },
        )
        assert resp.status == 200
        first, second = resp.body["responses"]
        assert first["status"] == 201
        assert [r["id"] for r in second["body"]["value"]] == [first["body"]["id"]]

        unauthorised = await http.get(sandbox.info["bc_api"] + "companies")
        assert unauthorised.status_code == 401


def test_snapshot_rollback_leaves_nothing_on_disk(tmp_path: Any, sandbox_settings: SandboxSettings) -> None:
    """With a SQLite file, a failed snapshot batch leaves the file as it was (and a good one persists)."""
    path = tmp_path / "sandbox.sqlite"
    store = EntityStore(path)
    seed(store, sandbox_settings)
    api = BusinessCentralApi(store, sandbox_settings)
    url = f"companies({sandbox_settings.company_id})/customers"

    def batch(*bodies: dict[str, Any]) -> list[int]:
        payload = {"requests": [_op(str(i), "POST", url, body) for i, body in enumerate(bodies)]}
        response = api.dispatch(
            ApiRequest("POST", "$batch", {}, {"isolation": "snapshot"}, json.dumps(payload).encode(), BASE)
        )
        assert response.status == 200
        return [part["status"] for part in json.loads(response.body)["responses"]]

    assert batch({"displayName": "Disk One"}, {"displayName": "Disk Bad", "number": "10000"}) == [201, 400]
    assert batch({"displayName": "Disk Two"}) == [201]
    store.close()

    reopened = EntityStore(path)
    names = {row["displayName"] for row in reopened.rows("bc/customers")}
    reopened.close()
    assert "Disk Two" in names and "Disk One" not in names
    assert len(names) == sandbox_settings.customers + 1
