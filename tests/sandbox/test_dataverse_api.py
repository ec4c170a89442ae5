"""The emulated Dataverse Web API v9.2, exercised over HTTP as a client sees it.

Covers: WhoAmI, create with a client-supplied id and the duplicate error, upsert semantics
(If-Match */If-None-Match */stale ETag), 304 on If-None-Match, lookup binds and the error for
a missing target, query options ($skip refused, quoted filters, $select), keyset paging that
returns every row exactly once, change tracking, and multipart $batch (change sets with
Content-ID references, rollback, continue-on-error, limits); plus the multipart codec and the
paging cookie on their own.
"""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from dataverse_helpers import Dataverse, connect, dv, error_of, post_part  # noqa: F401 - dv is a fixture

from bc_tui.sandbox.dataverse_api import DataverseApi
from bc_tui.sandbox.dataverse_batch import (
    BatchFormatError,
    BatchRequestPart,
    BatchResponsePart,
    ChangeSet,
    ChangeSetResponse,
    parse_batch_request,
    parse_batch_response,
    render_batch_response,
)
from bc_tui.sandbox.dataverse_paging import decode_skiptoken, encode_skiptoken
from bc_tui.sandbox.http import ApiRequest
from bc_tui.sandbox.settings import SandboxSettings
from bc_tui.sandbox.store import EntityStore

# ------------------------------------------------------------------ fixtures


async def _new_account(dv: Dataverse, **fields: Any) -> str:
    account_id = str(uuid.uuid4())
    response = await dv.post("accounts", json={"accountid": account_id, "name": "New Account", **fields})
    assert response.status_code == 204, response.text
    return account_id


# ------------------------------------------------------------------ identity and create


async def test_who_am_i_names_the_application_user(dv: Dataverse) -> None:
    response = await dv.get("WhoAmI")
    assert response.status_code == 200
    body = response.json()
    assert body["@odata.context"].endswith("$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse")
    user = await dv.get(f"systemusers({body['UserId']})")
    assert user.status_code == 200
    assert user.json()["domainname"].startswith("bc-tui-sandbox@")
    assert uuid.UUID(body["OrganizationId"]) and uuid.UUID(body["BusinessUnitId"])


async def test_create_with_client_supplied_id_then_duplicate_is_refused(dv: Dataverse) -> None:
    account_id = str(uuid.uuid4())
    created = await dv.post("accounts", json={"accountid": account_id, "name": "Fabrikam", "creditlimit": 2500})
    assert created.status_code == 204
    assert created.headers["OData-EntityId"] == f"{dv.base_url}accounts({account_id})"

    row = (await dv.get(f"accounts({account_id})")).json()
    assert row["accountid"] == account_id and row["name"] == "Fabrikam" and row["creditlimit"] == 2500
    assert row["@odata.etag"] == f'W/"{row["versionnumber"]}"'
    assert row["modifiedon"].endswith("Z") and row["statecode"] == 0
    assert not any(name in row for name in ("_version", "_modified"))

    again = await dv.post("accounts", json={"accountid": account_id, "name": "Fabrikam again"})
    assert again.status_code == 412
    assert error_of(again) == {"code": "0x80040237", "message": "A record with matching key values already exists."}
    assert (await dv.get(f"accounts({account_id})")).json()["name"] == "Fabrikam"


async def test_create_returns_the_representation_and_computes_fullname(dv: Dataverse) -> None:
    response = await dv.post(
        "contacts?$select=fullname,firstname",
        json={"firstname": "Ada", "middlename": "B.", "lastname": "Lovelace"},
        headers={"prefer": "return=representation"},
    )
    assert response.status_code == 201
    body = response.json()
    assert body["fullname"] == "Ada Lovelace" and uuid.UUID(body["contactid"])
    assert response.headers["Preference-Applied"] == "return=representation"

    await dv.patch(f"contacts({body['contactid']})", json={"lastname": "King"})
    assert (await dv.get(f"contacts({body['contactid']})")).json()["fullname"] == "Ada King"

    # Writing a demo contact keeps the full name the demo data gave it (same name format).
    demo = (await dv.get("contacts", params={"$filter": "middlename ne null", "$top": "1"})).json()["value"][0]
    await dv.patch(f"contacts({demo['contactid']})", json={"jobtitle": "Buyer"})
    assert (await dv.get(f"contacts({demo['contactid']})")).json()["fullname"] == demo["fullname"]


async def test_unknown_attribute_and_direct_lookup_write_are_refused(dv: Dataverse) -> None:
    unknown = await dv.post("accounts", json={"name": "X", "nickname": "y"})
    assert unknown.status_code == 400
    assert error_of(unknown)["code"] == "0x80060888"
    assert "'nickname' does not exist on type 'Microsoft.Dynamics.CRM.account'" in error_of(unknown)["message"]

    direct = await dv.post("contacts", json={"lastname": "X", "_parentcustomerid_value": str(uuid.uuid4())})
    assert direct.status_code == 400
    assert "Use Navigation properties" in error_of(direct)["message"]

    too_long = await dv.post("accounts", json={"name": "N" * 161})
    assert too_long.status_code == 400 and error_of(too_long)["code"] == "0x80044331"

    wrong_type = await dv.post("accounts", json={"name": "X", "creditlimit": "lots"})
    assert wrong_type.status_code == 400 and "Edm.Decimal" in error_of(wrong_type)["message"]


# ------------------------------------------------------------------ upsert, delete, ETags


async def test_patch_is_an_upsert_with_if_match_and_if_none_match(dv: Dataverse) -> None:
    account_id = str(uuid.uuid4())
    # If-Match: * forbids the create.
    missing = await dv.patch(f"accounts({account_id})", json={"name": "Ghost"}, headers={"if-match": "*"})
    assert missing.status_code == 404 and error_of(missing)["code"] == "0x80040217"
    assert (await dv.get(f"accounts({account_id})")).status_code == 404

    # Without conditions PATCH creates...
    created = await dv.patch(f"accounts({account_id})", json={"name": "Upserted"})
    assert created.status_code == 204
    assert created.headers["OData-EntityId"].endswith(f"accounts({account_id})")
    # ...and If-None-Match: * forbids the update.
    refused = await dv.patch(f"accounts({account_id})", json={"name": "Again"}, headers={"if-none-match": "*"})
    assert refused.status_code == 412 and error_of(refused)["code"] == "0x80040237"

    etag = (await dv.get(f"accounts({account_id})")).json()["@odata.etag"]
    updated = await dv.patch(
        f"accounts({account_id})",
        json={"telephone1": "555-0100"},
        headers={"if-match": etag, "prefer": "return=representation"},
    )
    assert updated.status_code == 200
    assert updated.json()["telephone1"] == "555-0100" and updated.json()["@odata.etag"] != etag

    stale = await dv.patch(f"accounts({account_id})", json={"telephone1": "555-0199"}, headers={"if-match": etag})
    assert stale.status_code == 412
    assert error_of(stale) == {
        "code": "0x80060882",
        "message": "The version of the existing record doesn't match the RowVersion property provided.",
    }
    assert (await dv.get(f"accounts({account_id})")).json()["telephone1"] == "555-0100"


async def test_get_with_current_etag_is_not_modified(dv: Dataverse) -> None:
    account_id = await _new_account(dv)
    first = await dv.get(f"accounts({account_id})")
    etag = first.json()["@odata.etag"]
    unchanged = await dv.get(f"accounts({account_id})", headers={"if-none-match": etag})
    assert unchanged.status_code == 304 and unchanged.content == b""
    await dv.patch(f"accounts({account_id})", json={"fax": "1"})
    changed = await dv.get(f"accounts({account_id})", headers={"if-none-match": etag})
    assert changed.status_code == 200 and changed.json()["fax"] == "1"


async def test_delete_honours_if_match_and_reports_missing_rows(dv: Dataverse) -> None:
    account_id = await _new_account(dv)
    etag = (await dv.get(f"accounts({account_id})")).json()["@odata.etag"]
    await dv.patch(f"accounts({account_id})", json={"fax": "2"})
    stale = await dv.delete(f"accounts({account_id})", headers={"if-match": etag})
    assert stale.status_code == 412
    assert (await dv.delete(f"accounts({account_id})")).status_code == 204
    gone = await dv.delete(f"accounts({account_id})")
    assert gone.status_code == 404 and error_of(gone)["message"] == f"account With Id = {account_id} Does Not Exist"


# ------------------------------------------------------------------ lookups


async def test_binds_set_lookups_in_every_reference_form(dv: Dataverse) -> None:
    account_id = await _new_account(dv)
    user_id = (await dv.get("WhoAmI")).json()["UserId"]
    for reference in (f"/accounts({account_id})", f"accounts({account_id})", f"{dv.base_url}accounts({account_id})"):
        response = await dv.post(
            "contacts",
            json={
                "lastname": "Bound",
                "parentcustomerid_account@odata.bind": reference,
                "ownerid@odata.bind": f"/systemusers({user_id})",
            },
            headers={"prefer": "return=representation"},
        )
        assert response.status_code == 201, response.text
        assert response.json()["_parentcustomerid_value"] == account_id
        assert response.json()["_ownerid_value"] == user_id

    contact_id = response.json()["contactid"]
    await dv.patch(f"accounts({account_id})", json={"primarycontactid@odata.bind": f"/contacts({contact_id})"})
    annotated = await dv.get(
        f"accounts({account_id})?$select=_primarycontactid_value",
        headers={"prefer": 'odata.include-annotations="*"'},
    )
    body = annotated.json()
    assert body["_primarycontactid_value"] == contact_id
    assert body["_primarycontactid_value@Microsoft.Dynamics.CRM.lookuplogicalname"] == "contact"
    assert body["_primarycontactid_value@OData.Community.Display.V1.FormattedValue"] == "Bound"


async def test_bind_to_a_missing_record_fails_and_creates_nothing(dv: Dataverse) -> None:
    missing = str(uuid.uuid4())
    contact_id = str(uuid.uuid4())
    response = await dv.post(
        "contacts",
        json={
            "contactid": contact_id,
            "lastname": "Orphan",
            "parentcustomerid_account@odata.bind": f"/accounts({missing})",
        },
    )
    assert response.status_code == 404
    assert error_of(response) == {"code": "0x80040217", "message": f"account With Id = {missing} Does Not Exist"}
    assert (await dv.get(f"contacts({contact_id})")).status_code == 404

    wrong_set = await dv.post(
        "contacts", json={"lastname": "X", "parentcustomerid_account@odata.bind": f"/contacts({contact_id})"}
    )
    assert wrong_set.status_code == 400
    undeclared = await dv.post(
        "contacts", json={"lastname": "X", "parentcustomerid@odata.bind": f"/accounts({missing})"}
    )
    assert undeclared.status_code == 400 and "undeclared property 'parentcustomerid'" in error_of(undeclared)["message"]


# ------------------------------------------------------------------ queries and paging


async def test_query_options_skip_refused_filters_with_quotes_select_and_count(dv: Dataverse) -> None:
    skip = await dv.get("accounts", params={"$skip": "10"})
    assert skip.status_code == 400
    assert error_of(skip) == {"code": "0x80060888", "message": "The query parameter $skip is not supported"}

    account_id = await _new_account(dv, name="O'Brien & Sons", address1_city="Cork")
    found = await dv.get(
        "accounts",
        params={
            "$filter": "name eq 'o''brien & sons' and address1_city eq 'Cork'",
            "$select": "name",
            "$count": "true",
        },
    )
    assert found.status_code == 200
    body = found.json()
    assert body["@odata.count"] == 1
    assert body["value"] == [
        {"@odata.etag": body["value"][0]["@odata.etag"], "accountid": account_id, "name": "O'Brien & Sons"}
    ]
    assert body["@odata.context"].endswith("$metadata#accounts(name)")

    bad_select = await dv.get("accounts", params={"$select": "nickname"})
    assert bad_select.status_code == 400
    assert (
        error_of(bad_select)["message"]
        == "Could not find a property named 'nickname' on type 'Microsoft.Dynamics.CRM.account'."
    )
    bad_filter = await dv.get("accounts", params={"$filter": "name eq 'unterminated"})
    assert bad_filter.status_code == 400 and error_of(bad_filter)["code"] == "0x80060888"

    recent = await dv.get("accounts", params={"$filter": f"versionnumber ge {body['value'][0]['@odata.etag'][3:-1]}"})
    assert account_id in [row["accountid"] for row in recent.json()["value"]]


async def _read_all(
    dv: Dataverse, path: str, page_size: int, between_pages: Any = None
) -> tuple[list[dict[str, Any]], int]:
    rows: list[dict[str, Any]] = []
    url, pages = path, 0
    while url:
        response = await dv.get(url, headers={"prefer": f"odata.maxpagesize={page_size}"})
        assert response.status_code == 200, response.text
        assert response.headers["Preference-Applied"] == f"odata.maxpagesize={page_size}"
        body = response.json()
        assert len(body["value"]) <= page_size
        rows.extend(body["value"])
        pages += 1
        url = body.get("@odata.nextLink")
        if url:
            query = dict(parse_qsl(urlsplit(url).query))
            assert query["$skiptoken"].startswith("<cookie pagenumber=")
            if between_pages:
                await between_pages(pages)
    return rows, pages


async def test_paging_returns_every_row_exactly_once_even_when_rows_change_between_pages(dv: Dataverse) -> None:
    everything = (await dv.get("accounts?$select=name")).json()["value"]
    expected = {row["accountid"] for row in everything}
    assert len(expected) > 20

    inserted: list[str] = []

    async def disturb(page: int) -> None:
        # A row that sorts first (before the cursor) and one that sorts last appear meanwhile.
        for prefix in ("00000000", "ffffffff"):
            new_id = f"{prefix}-0000-4000-8000-{page:012d}"
            await dv.post("accounts", json={"accountid": new_id, "name": "Late"})
            inserted.append(new_id)

    rows, pages = await _read_all(dv, "accounts?$select=name", 7, disturb)
    ids = [row["accountid"] for row in rows]
    assert len(ids) == len(set(ids)), "a row came back twice"
    assert expected <= set(ids), "a row that existed throughout went missing"
    assert pages >= len(expected) // 7
    assert ids == sorted(ids), "the default order is the primary key"

    by_name, _ = await _read_all(dv, "accounts?$select=name&$orderby=name desc", 9)
    assert len(by_name) == len({r["accountid"] for r in by_name}) == len(expected) + len(inserted)
    names = [r["name"].casefold() for r in by_name]
    assert names == sorted(names, reverse=True)


async def test_top_limits_and_skiptoken_garbage_is_refused(dv: Dataverse) -> None:
    top = await dv.get("contacts", params={"$top": "3"})
    assert len(top.json()["value"]) == 3 and "@odata.nextLink" not in top.json()
    # With odata.maxpagesize, the service pages and ignores $top ("Page results using OData").
    both = await dv.get("contacts", params={"$top": "3"}, headers={"prefer": "odata.maxpagesize=2"})
    assert len(both.json()["value"]) == 2 and "$skiptoken=" in both.json()["@odata.nextLink"]
    assert both.headers["preference-applied"] == "odata.maxpagesize=2"
    garbage = await dv.get("contacts", params={"$skiptoken": "<cookie nonsense"})
    assert garbage.status_code == 400


async def test_change_tracking_returns_changes_and_deletions_since_the_delta_link(dv: Dataverse) -> None:
    first = await dv.get("accounts?$select=name", headers={"prefer": "odata.track-changes"})
    assert first.status_code == 200
    delta_link = first.json()["@odata.deltaLink"]
    assert "$deltatoken=" in delta_link

    changed_id = first.json()["value"][0]["accountid"]
    deleted_id = first.json()["value"][1]["accountid"]
    await dv.patch(f"accounts({changed_id})", json={"name": "Renamed"})
    # Contacts pointing at the account are not cascaded by the sandbox; delete works anyway.
    assert (await dv.delete(f"accounts({deleted_id})")).status_code == 204
    created_id = await _new_account(dv)

    delta = (await dv.get(delta_link, headers={"prefer": "odata.track-changes"})).json()
    changes = {row.get("accountid"): row.get("name") for row in delta["value"] if "accountid" in row}
    assert changes == {changed_id: "Renamed", created_id: "New Account"}
    deletions = [row for row in delta["value"] if "reason" in row]
    assert deletions == [
        {"@odata.context": f"{dv.base_url}$metadata#accounts/$deletedEntity", "id": deleted_id, "reason": "deleted"}
    ]
    assert delta["@odata.deltaLink"] != delta_link


# ------------------------------------------------------------------ $batch


async def test_change_set_with_content_id_reference_commits_atomically(dv: Dataverse) -> None:
    response, items = await dv.batch(
        [
            BatchRequestPart("GET", f"{dv.base_url}WhoAmI", {"accept": "application/json"}),
            ChangeSet(
                [
                    post_part(f"{urlsplit(dv.base_url).path}accounts", {"name": "Batch Holding"}, "1"),
                    post_part("contacts", {"lastname": "Child", "parentcustomerid_account@odata.bind": "$1"}, "2"),
                    BatchRequestPart("PATCH", "$1", {"content-type": "application/json"}, b'{"telephone1":"42"}', "3"),
                ]
            ),
        ]
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("multipart/mixed; boundary=batchresponse_")
    who, change_set = items
    assert isinstance(who, BatchResponsePart) and who.status == 200
    assert isinstance(change_set, ChangeSetResponse)
    assert [(r.status, r.content_id) for r in change_set.responses] == [(204, "1"), (204, "2"), (204, "3")]

    account_url = change_set.responses[0].headers["odata-entityid"]
    account = (await dv.get(account_url)).json()
    assert account["name"] == "Batch Holding" and account["telephone1"] == "42"
    contact = (await dv.get(change_set.responses[1].headers["odata-entityid"])).json()
    assert contact["_parentcustomerid_value"] == account["accountid"]


async def test_failing_change_set_rolls_back_entirely(dv: Dataverse) -> None:
    account_id = str(uuid.uuid4())
    missing = str(uuid.uuid4())
    response, items = await dv.batch(
        [
            ChangeSet(
                [
                    post_part("accounts", {"accountid": account_id, "name": "Never"}, "1"),
                    post_part(
                        "contacts",
                        {"lastname": "X", "parentcustomerid_account@odata.bind": f"/accounts({missing})"},
                        "2",
                    ),
                ]
            )
        ]
    )
    assert response.status_code == 200
    assert len(items) == 1 and isinstance(items[0], BatchResponsePart), (
        "a failed change set answers with its error alone"
    )
    assert items[0].status == 404 and error_of(items[0])["code"] == "0x80040217"
    assert (await dv.get(f"accounts({account_id})")).status_code == 404


async def test_batch_stops_at_the_first_failure_unless_continue_on_error(dv: Dataverse) -> None:
    def requests(tag: str) -> tuple[list[Any], str]:
        last_id = str(uuid.uuid4())
        return [
            post_part("accounts", {"name": f"{tag} one"}),
            post_part("accounts", {"name": f"{tag} bad", "nickname": "x"}),
            post_part("accounts", {"accountid": last_id, "name": f"{tag} three"}),
        ], last_id

    items, last_id = requests("stop")
    response, answers = await dv.batch(items)
    assert [a.status for a in answers] == [204, 400]
    assert (await dv.get(f"accounts({last_id})")).status_code == 404

    items, last_id = requests("go on")
    response, answers = await dv.batch(items, prefer="odata.continue-on-error")
    assert [a.status for a in answers] == [204, 400, 204]
    assert response.headers["Preference-Applied"] == "odata.continue-on-error"
    assert (await dv.get(f"accounts({last_id})")).status_code == 200


async def test_batch_limits_and_malformed_batches_are_refused_whole(dv: Dataverse) -> None:
    too_many = [BatchRequestPart("GET", "WhoAmI") for _ in range(1001)]
    response, _ = await dv.batch(too_many)
    assert response.status_code == 400 and "at most 1000" in error_of(response)["message"]

    account_id = str(uuid.uuid4())
    with_get = [
        ChangeSet(
            [
                post_part("accounts", {"accountid": account_id, "name": "No"}, "1"),
                BatchRequestPart("GET", "WhoAmI", {}, b"", "2"),
            ]
        )
    ]
    response, _ = await dv.batch(with_get)
    assert response.status_code == 400 and error_of(response)["code"] == "0x80060888"
    assert (await dv.get(f"accounts({account_id})")).status_code == 404

    not_multipart = await dv.post("$batch", content=b"{}", headers={"content-type": "application/json"})
    assert not_multipart.status_code == 400

    exactly_1000, answers = await dv.batch([BatchRequestPart("GET", "WhoAmI") for _ in range(1000)])
    assert exactly_1000.status_code == 200 and len(answers) == 1000


async def test_over_loopback_a_token_a_batch_and_paging_work_end_to_end(loopback_sandbox: Any) -> None:
    async with httpx.AsyncClient() as client:
        dv = await connect(client, loopback_sandbox.info)
        assert dv.base_url.startswith("http://127.0.0.1:")
        unauthenticated = await client.get(dv.base_url + "WhoAmI")
        assert unauthenticated.status_code == 401

        response, items = await dv.batch(
            [
                ChangeSet(
                    [
                        post_part("accounts", {"name": "Loopback Ltd."}, "1"),
                        post_part("contacts", {"lastname": "Loop", "parentcustomerid_account@odata.bind": "$1"}, "2"),
                    ]
                )
            ]
        )
        assert response.status_code == 200 and [r.status for r in items[0].responses] == [204, 204]
        account_url = items[0].responses[0].headers["odata-entityid"]
        assert account_url.startswith(dv.base_url)
        account_id = (await dv.get(account_url)).json()["accountid"]
        children = await dv.get(
            "contacts", params={"$filter": f"_parentcustomerid_value eq {account_id}", "$select": "lastname"}
        )
        assert [c["lastname"] for c in children.json()["value"]] == ["Loop"]

        rows, _ = await _read_all(dv, "contacts?$select=contactid", 40)
        assert len(rows) == len({r["contactid"] for r in rows}) == int((await dv.get("contacts/$count")).text)


# ------------------------------------------------------------------ pure pieces


def test_multipart_request_parses_lf_line_ends_quoted_boundaries_and_content_ids() -> None:
    body = (
        b"--batch_x\n"
        b"Content-Type: application/http\n"
        b"Content-Transfer-Encoding: binary\n"
        b"\n"
        b"GET accounts?$select=name HTTP/1.1\n"
        b"Accept: application/json\n"
        b"\n"
        b"--batch_x\n"
        b'Content-Type: multipart/mixed; boundary="changeset_y"\n'
        b"\n"
        b"--changeset_y\n"
        b"Content-Type: application/http\n"
        b"Content-Transfer-Encoding: binary\n"
        b"Content-ID: 7\n"
        b"\n"
        b"POST accounts HTTP/1.1\n"
        b"Content-Type: application/json\n"
        b"\n"
        b'{"name":"A"}\n'
        b"\n"
        b"--changeset_y--\n"
        b"--batch_x--\n"
    )
    items = parse_batch_request(body, 'multipart/mixed; boundary="batch_x"')
    assert items == [
        BatchRequestPart("GET", "accounts?$select=name", {"accept": "application/json"}, b"", None),
        ChangeSet([BatchRequestPart("POST", "accounts", {"content-type": "application/json"}, b'{"name":"A"}', "7")]),
    ]
    with pytest.raises(BatchFormatError):
        parse_batch_request(body.replace(b"Content-ID: 7\n", b""), 'multipart/mixed; boundary="batch_x"')


def test_multipart_response_round_trips() -> None:
    items = [
        BatchResponsePart(200, {"content-type": "application/json"}, b'{"value":[]}'),
        ChangeSetResponse([BatchResponsePart(204, {"odata-entityid": "http://h/accounts(1)"}, b"", "1")]),
        BatchResponsePart(400, {"content-type": "application/json"}, b'{"error":{"code":"0x1","message":"m"}}', "2"),
    ]
    content_type, body = render_batch_response(items)
    assert b"HTTP/1.1 204 No Content\r\nOData-EntityId: http://h/accounts(1)\r\n" in body
    assert parse_batch_response(body, content_type) == items


def test_skiptoken_round_trips_typed_values_and_rejects_another_order() -> None:
    order = [("name", True), ("creditlimit", False), ("accountid", False)]
    pk = str(uuid.uuid4())
    token = encode_skiptoken(order, ['Say "hi" & <bye>', None, pk], pk, 3)
    cursor = decode_skiptoken(token, order)
    assert cursor.page_number == 3 and cursor.values == ('Say "hi" & <bye>', None, pk)
    with pytest.raises(ValueError):
        decode_skiptoken(token, [("accountid", False)])


def test_dispatch_answers_nonsense_with_odata_errors() -> None:
    settings = SandboxSettings(customers=1)
    store = EntityStore(None)
    api = DataverseApi(store, settings)

    def call(method: str, path: str, body: bytes = b"") -> tuple[int, dict[str, Any]]:
        response = api.dispatch(ApiRequest(method, path, {}, {}, body, "http://h/api/data/v9.2/"))
        return response.status, json.loads(response.body or b"{}")

    assert call("GET", "leads")[0] == 404
    assert call("GET", "leads")[1]["error"]["message"] == "Resource not found for the segment 'leads'."
    assert call("GET", "accounts(not-a-guid)")[0] == 400
    assert call("POST", "accounts", b"{not json")[0] == 400
    assert call("POST", "accounts", b"[1, 2]")[0] == 400
    assert call("POST", "systemusers", b"{}")[0] == 405
    assert call("PUT", "accounts")[0] == 405
