"""The BC API behaves as Microsoft documents it (docs/sandbox-fidelity.md, "Business Central API v2.0"):
headers, refusals, fields and URL forms, over HTTP like a client."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bc_tui.sandbox.app import create_app
from bc_tui.sandbox.app import sandbox_info as make_sandbox_info
from bc_tui.sandbox.bc_filter_rules import or_across_fields
from bc_tui.sandbox.inprocess import ORIGIN, asgi_transport
from bc_tui.sandbox.settings import SandboxSettings
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
    bc: HttpClient, company: str
) -> None:
    created = await bc.request("POST", customers(company), json_body={"displayName": "Batch Version"})
    resp = await bc.request(
        "POST",
        "$batch",
        json_body={
            "requests": [
                _op("1", "GET", f"{customers(company)}({created.body['id']})"),
                _op("2", "DELETE", f"{customers(company)}({created.body['id']})", None, {"If-Match": "*"}),
                _op("3", "GET", f"{contacts(company)}(00000000-0000-0000-0000-000000000001)"),
            ]
        },
    )
    assert resp.status == 200 and resp.headers["odata-version"] == "4.0"
    read, delete, missing = resp.body["responses"]
    assert read["status"] == 200 and read["headers"]["odata-version"] == "4.0"
    assert delete["status"] == 204 and delete["headers"] == {}
    assert missing["status"] == 404 and missing["headers"]["odata-version"] == "4.0"


# --------------------------------------------------------------------------- $expand and query options


async def test_expand_is_refused_on_one_record_and_on_lists(bc: HttpClient, company: str) -> None:
    one = (await bc.request("GET", customers(company), params={"$top": "1"})).body["value"][0]
    record = f"{customers(company)}({one['id']})"
    navigation = await bc.request("GET", record, params={"$expand": "paymentTerm"})
    assert navigation.status == 400 and navigation.body["error"]["code"] == "BadRequest"
    assert navigation.body["error"]["message"] == (
        "Could not find a property named 'paymentTerm' on type 'Microsoft.NAV.customer'."
    )
    plain = await bc.request("GET", record, params={"$expand": "displayName"})
    assert plain.status == 400
    assert "is not a navigation property" in plain.body["error"]["message"]
    nested = await bc.request("GET", customers(company), params={"$expand": "picture($select=id),currency"})
    assert nested.status == 400 and "'picture'" in nested.body["error"]["message"]
    on_contacts = await bc.request("GET", contacts(company), params={"$expand": "contactInformation"})
    assert on_contacts.status == 400 and "Microsoft.NAV.contact" in on_contacts.body["error"]["message"]


async def test_one_record_refuses_collection_options_and_unknown_ones(bc: HttpClient, company: str) -> None:
    one = (await bc.request("GET", customers(company), params={"$top": "1"})).body["value"][0]
    record = f"{customers(company)}({one['id']})"
    for option, value in (("$filter", "city eq 'x'"), ("$top", "1"), ("$orderby", "number")):
        answer = await bc.request("GET", record, params={option: value})
        assert answer.status == 400, option
        assert "can be applied only on collections" in answer.body["error"]["message"]
    unknown = await bc.request("GET", record, params={"$frobnicate": "1"})
    assert unknown.status == 400 and "$frobnicate" in unknown.body["error"]["message"]
    on_list = await bc.request("GET", customers(company), params={"$frobnicate": "1"})
    assert on_list.status == 400 and "$frobnicate" in on_list.body["error"]["message"]
    # A custom (non-$) option is the client's business, as on the service.
    custom = await bc.request("GET", record, params={"tenant": "x", "$select": "number"})
    assert custom.status == 200 and custom.body["number"] == one["number"]


async def test_a_write_with_a_bad_query_option_writes_nothing(bc: HttpClient, company: str) -> None:
    refused = await bc.request(
        "POST", customers(company), params={"$expand": "currency"}, json_body={"displayName": "Never Written"}
    )
    assert refused.status == 400
    found = await bc.request("GET", customers(company), params={"$filter": "displayName eq 'Never Written'"})
    assert found.body["value"] == []


# --------------------------------------------------------------------------- documented fields


_BLANK_GUID = "00000000-0000-0000-0000-000000000000"


async def test_contacts_have_the_documented_fields_and_no_job_title(bc: HttpClient, company: str) -> None:
    person = (await bc.request("GET", contacts(company), params={"$filter": "type eq 'Person'", "$top": "1"})).body[
        "value"
    ][0]
    assert "jobTitle" not in person
    assert person["searchName"] == person["displayName"].upper()
    assert person["taxRegistrationNumber"] == "" and person["lastInteractionDate"] == "0001-01-01"
    selected = await bc.request("GET", contacts(company), params={"$select": "jobTitle"})
    assert selected.status == 400
    assert (
        selected.body["error"]["message"]
        == "Could not find a property named 'jobTitle' on type 'Microsoft.NAV.contact'."
    )
    written = await bc.request("POST", contacts(company), json_body={"displayName": "No Title", "jobTitle": "Boss"})
    assert written.status == 400 and "'jobTitle' does not exist" in written.body["error"]["message"]
    read_only = await bc.request(
        "POST", contacts(company), json_body={"displayName": "Met", "lastInteractionDate": "2026-01-01"}
    )
    assert read_only.status == 400 and "read-only" in read_only.body["error"]["message"]


async def test_a_contacts_search_name_follows_its_name_until_set_apart(bc: HttpClient, company: str) -> None:
    created = await bc.request("POST", contacts(company), json_body={"displayName": "Grace Hopper", "type": "Person"})
    assert created.status == 201 and created.body["searchName"] == "GRACE HOPPER"
    path = f"{contacts(company)}({created.body['id']})"
    renamed = await bc.request("PATCH", path, headers={"If-Match": "*"}, json_body={"displayName": "Grace B. Hopper"})
    assert renamed.body["searchName"] == "GRACE B. HOPPER"
    own = await bc.request("PATCH", path, headers={"If-Match": "*"}, json_body={"searchName": "amazing grace"})
    assert own.body["searchName"] == "AMAZING GRACE"  # a Code field: upper-cased
    again = await bc.request("PATCH", path, headers={"If-Match": "*"}, json_body={"displayName": "Grace Murray Hopper"})
    assert again.body["searchName"] == "AMAZING GRACE"


async def test_customers_have_the_documented_tax_and_setup_fields(bc: HttpClient, company: str) -> None:
    customer = (await bc.request("GET", customers(company), params={"$top": "1"})).body["value"][0]
    assert customer["taxLiable"] is False
    assert customer["taxRegistrationNumber"] == "" and customer["taxAreaDisplayName"] == ""
    for name in ("taxAreaId", "currencyId", "paymentTermsId", "shipmentMethodId", "paymentMethodId"):
        assert customer[name] == _BLANK_GUID, name
    created = await bc.request(
        "POST",
        customers(company),
        json_body={
            "displayName": "Taxed Ltd",
            "taxLiable": True,
            "taxRegistrationNumber": "GB123456789",
            "currencyId": _BLANK_GUID,
        },
    )
    assert created.status == 201
    assert (created.body["taxLiable"], created.body["taxRegistrationNumber"]) == (True, "GB123456789")
    filtered = await bc.request(
        "GET", customers(company), params={"$filter": "taxLiable eq true", "$select": "displayName"}
    )
    assert [c["displayName"] for c in filtered.body["value"]] == ["Taxed Ltd"]


async def test_ids_of_setup_records_the_sandbox_lacks_are_refused_as_bc_does(bc: HttpClient, company: str) -> None:
    unknown = await bc.request(
        "POST",
        customers(company),
        json_body={"displayName": "Pays in Zorkmids", "currencyId": "11111111-2222-3333-4444-555555555555"},
    )
    assert unknown.status == 400
    assert unknown.body["error"] == {
        "code": "Application_DialogException",
        "message": 'The "currencyId" does not match to a Currency.',
    }
    not_a_guid = await bc.request("POST", customers(company), json_body={"displayName": "X", "paymentTermsId": "NET30"})
    assert not_a_guid.status == 400 and "'Edm.Guid'" in not_a_guid.body["error"]["message"]
    too_long = await bc.request(
        "POST", customers(company), json_body={"displayName": "X", "taxRegistrationNumber": "9" * 21}
    )
    assert too_long.status == 400 and "less than or equal to 20 characters" in too_long.body["error"]["message"]
    read_only = await bc.request(
        "POST", customers(company), json_body={"displayName": "X", "taxAreaDisplayName": "VAT"}
    )
    assert read_only.status == 400 and "read-only" in read_only.body["error"]["message"]


async def test_metadata_declares_the_new_fields_with_their_types(bc: HttpClient) -> None:
    document = await bc.request("GET", "$metadata")
    text = document.body
    assert '<Property Name="lastInteractionDate" Type="Edm.Date"' in text
    assert '<Property Name="currencyId" Type="Edm.Guid"' in text
    assert '<Property Name="taxLiable" Type="Edm.Boolean"' in text
    assert 'Name="jobTitle"' not in text


# --------------------------------------------------------------------------- URL forms


async def test_the_url_without_a_tenant_serves_the_tokens_tenant(
    bc: HttpClient, company: str, sandbox_info: dict[str, Any]
) -> None:
    short = sandbox_info["bc_api"].replace(f"/{sandbox_info['tenant']}/", "/", 1)
    assert short.endswith(f"/v2.0/{sandbox_info['environment']}/api/v2.0/")
    page = await bc.request("GET", short + customers(company), headers={"Prefer": "odata.maxpagesize=2"})
    assert page.status == 200 and len(page.body["value"]) == 2
    assert page.body["@odata.context"].startswith(short)
    assert page.body["@odata.nextLink"].startswith(short)
    following = await bc.request("GET", page.body["@odata.nextLink"], headers={"Prefer": "odata.maxpagesize=2"})
    assert following.status == 200 and following.body["value"][0]["id"] != page.body["value"][0]["id"]
    created = await bc.request("POST", short + customers(company), json_body={"displayName": "Short URL"})
    assert created.status == 201 and created.headers["location"].startswith(short)
    wrong = await bc.request("GET", short.replace(f"/{sandbox_info['environment']}/", "/staging/") + "companies")
    assert wrong.status == 404 and "'staging'" in wrong.body["error"]["message"]
    anonymous = await bc.http.get(short + "companies")
    assert anonymous.status_code == 401


# --------------------------------------------------------------------------- knobs: stricter BC setups


@pytest.fixture
async def strict_bc() -> AsyncIterator[HttpClient]:
    """A sandbox whose BC refuses manual numbers and ``or`` across fields (both knobs on)."""
    settings = SandboxSettings(customers=10, bc_refuse_manual_numbers=True, bc_refuse_or_across_fields=True)
    app = create_app(settings)
    async with httpx.AsyncClient(transport=asgi_transport(app), base_url=ORIGIN) as http:
        client = HttpClient(http, make_sandbox_info(settings, ORIGIN))
        await client.authenticate()
        yield client


async def test_a_series_without_manual_numbers_refuses_a_number_typed_in(strict_bc: HttpClient) -> None:
    company = strict_bc.info["company_id"]
    typed = await strict_bc.request("POST", customers(company), json_body={"displayName": "Typed", "number": "X-1"})
    assert typed.status == 400
    assert typed.body["error"] == {
        "code": "Application_DialogException",
        "message": "You may not enter numbers manually. If you want to enter numbers manually, "
        "please activate Manual Nos. in No. Series CUST.",
    }
    found = await strict_bc.request("GET", customers(company), params={"$filter": "displayName eq 'Typed'"})
    assert found.body["value"] == []
    taken = await strict_bc.request("POST", customers(company), json_body={"displayName": "From the series"})
    assert taken.status == 201 and taken.body["number"] == "C00010"
    renamed = await strict_bc.request(
        "PATCH", f"{customers(company)}({taken.body['id']})", headers={"If-Match": "*"}, json_body={"number": "X-2"}
    )
    assert renamed.status == 400 and "No. Series CUST" in renamed.body["error"]["message"]
    contact = await strict_bc.request("POST", contacts(company), json_body={"displayName": "C", "number": "CT-X"})
    assert contact.status == 400 and "No. Series CONT" in contact.body["error"]["message"]


async def test_by_default_a_number_typed_in_is_refused(bc: HttpClient, company: str) -> None:
    typed = await bc.request("POST", customers(company), json_body={"displayName": "Typed", "number": "X-1"})
    assert typed.status == 400 and "Manual Nos. in No. Series CUST" in typed.body["error"]["message"]
    numbered = await bc.request("POST", customers(company), json_body={"displayName": "Numbered"})
    assert numbered.status == 201 and numbered.body["number"].startswith("C")
    # Whole seconds by default, as Dataverse shows modifiedon.
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", numbered.body["lastModifiedDateTime"])


def test_serve_flags_allow_manual_numbers_and_sub_second_times(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "bc_tui.cli", "sandbox", "serve", "--port", "0", "--data", str(tmp_path)]
        + ["--customers", "5", "--allow-manual-numbers", "--sub-second-times"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        info = json.loads(process.stdout.readline())
        with httpx.Client(timeout=10) as http:
            token = http.post(
                info["token_url"],
                data={
                    "grant_type": "client_credentials",
                    "client_id": info["client_id"],
                    "client_secret": info["client_secret"],
                    "scope": info["bc_scope"],
                },
            ).json()["access_token"]
            typed = http.post(
                info["bc_api"] + customers(info["company_id"]),
                json={"displayName": "Typed", "number": "X-1"},
                headers={"Authorization": f"Bearer {token}"},
            )
        assert typed.status_code == 201 and typed.json()["number"] == "X-1"
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", typed.json()["lastModifiedDateTime"])
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.mark.parametrize(
    ("text", "crossing"),
    [
        ("city eq 'A'", False),
        ("city eq 'A' or city eq 'B'", False),
        ("city eq 'A' or City eq 'B'", True),  # property names are case-sensitive: two fields
        ("(city eq 'A' or city eq 'B') and number gt '1'", False),
        ("city eq 'A' or number eq '1'", True),
        ("contains(displayName,'x') or startswith(displayName,'y')", False),
        ("contains(displayName,'x') or contains(email,'x')", True),
        ("not (city eq 'A' or email eq 'b')", True),
        ("type eq 'Person' and (city eq 'A' or (city eq 'B' and number eq '2'))", True),
        ("id eq 00000000-0000-0000-0000-000000000001 or id eq guid'00000000-0000-0000-0000-000000000002'", False),
        ("blocked eq true or blocked eq false", False),
    ],
)
def test_or_across_fields_tells_one_field_from_two(text: str, crossing: bool) -> None:
    assert or_across_fields(text) is crossing


async def test_with_the_knob_on_an_or_across_fields_gets_bcs_error(strict_bc: HttpClient) -> None:
    company = strict_bc.info["company_id"]
    refused = await strict_bc.request("GET", customers(company), params={"$filter": "city eq 'A' or number eq '1'"})
    assert refused.status == 400
    assert (
        refused.body["error"]["message"] == "The 'OR' operator is not supported on distinct fields on an OData filter."
    )
    allowed = await strict_bc.request(
        "GET", customers(company), params={"$filter": "number eq '10000' or number eq '20000'"}
    )
    assert allowed.status == 200 and len(allowed.body["value"]) == 2


async def test_by_default_an_or_across_fields_gets_bcs_error(bc: HttpClient, company: str) -> None:
    refused = await bc.request("GET", customers(company), params={"$filter": "number eq '10000' or city eq 'Nowhere'"})
    assert refused.status == 400
    assert (
        refused.body["error"]["message"] == "The 'OR' operator is not supported on distinct fields on an OData filter."
    )


async def test_with_the_knob_off_an_or_across_fields_is_answered() -> None:
    settings = SandboxSettings(customers=10, bc_refuse_or_across_fields=False)
    async with httpx.AsyncClient(transport=asgi_transport(create_app(settings)), base_url=ORIGIN) as http:
        lenient = HttpClient(http, make_sandbox_info(settings, ORIGIN))
        await lenient.authenticate()
        company = lenient.info["company_id"]
        answered = await lenient.request(
            "GET", customers(company), params={"$filter": "number eq '10000' or city eq 'Nowhere'"}
        )
    assert answered.status == 200 and [c["number"] for c in answered.body["value"]] == ["10000"]


# --------------------------------------------------------------------------- text comparison (case)


@pytest.fixture
async def lenient_case_bc() -> AsyncIterator[HttpClient]:
    """A sandbox whose BC tenant's collation ignores case (``bc_text_ignores_case``)."""
    settings = SandboxSettings(customers=10, bc_text_ignores_case=True)
    async with httpx.AsyncClient(transport=asgi_transport(create_app(settings)), base_url=ORIGIN) as http:
        client = HttpClient(http, make_sandbox_info(settings, ORIGIN))
        await client.authenticate()
        yield client


async def _ids(client: HttpClient, company: str, text: str) -> list[str]:
    answer = await client.request("GET", customers(company), params={"$filter": text})
    assert answer.status == 200, answer.body
    return [r["id"] for r in answer.body["value"]]


async def test_by_default_bc_compares_text_exactly_and_tolower_ignores_case(bc: HttpClient, company: str) -> None:
    created = await bc.request(
        "POST", customers(company), json_body={"displayName": "Case Study Ltd", "email": "Info@Case.example"}
    )
    me = [created.body["id"]]
    assert await _ids(bc, company, "displayName eq 'Case Study Ltd'") == me
    assert await _ids(bc, company, "displayName eq 'case study ltd'") == []
    assert await _ids(bc, company, "startswith(displayName,'case')") == []
    assert await _ids(bc, company, "contains(email,'info@case')") == []
    assert await _ids(bc, company, f"displayName ne 'case study ltd' and number eq '{created.body['number']}'") == me
    assert await _ids(bc, company, "tolower(displayName) eq 'case study ltd'") == me
    assert await _ids(bc, company, "startswith(tolower(displayName),'case')") == me
    assert await _ids(bc, company, "contains(tolower(email),'info@case')") == me
    assert await _ids(bc, company, "toupper(displayName) eq 'CASE STUDY LTD'") == me
    # A GUID is no text: an id matches whatever case it is written in.
    assert await _ids(bc, company, f"id eq {created.body['id'].upper()}") == me


async def test_with_the_knob_on_bc_text_ignores_case(lenient_case_bc: HttpClient) -> None:
    company = lenient_case_bc.info["company_id"]
    created = await lenient_case_bc.request("POST", customers(company), json_body={"displayName": "Case Study Ltd"})
    me = [created.body["id"]]
    assert await _ids(lenient_case_bc, company, "displayName eq 'case study ltd'") == me
    assert await _ids(lenient_case_bc, company, "startswith(displayName,'CASE')") == me
    assert await _ids(lenient_case_bc, company, "tolower(displayName) eq 'case study ltd'") == me
