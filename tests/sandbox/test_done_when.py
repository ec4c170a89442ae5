"""The foundation's acceptance walk: `bc-tui sandbox serve --port 0`, then a plain HTTP client.

Nothing of bc-tui's client side is used here: a bare httpx client, as a curl user would, pages
through customers, patches one with If-Match, gets 412 on the stale ETag, and does the same for
Dataverse accounts, including a hand-written multipart ``$batch`` with a change set.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    data = tmp_path_factory.mktemp("served")
    process = subprocess.Popen(
        [sys.executable, "-m", "bc_tui.cli", "sandbox", "serve", "--port", "0", "--data", str(data)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        yield json.loads(process.stdout.readline())
    finally:
        process.terminate()
        process.wait(timeout=30)


def bearer(http: httpx.Client, info: dict[str, Any], scope: str) -> dict[str, str]:
    answer = http.post(
        info["token_url"],
        data={
            "grant_type": "client_credentials",
            "client_id": info["client_id"],
            "client_secret": info["client_secret"],
            "scope": scope,
        },
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def page_through(http: httpx.Client, url: str, headers: dict[str, str], page_size: int) -> tuple[list[dict], int]:
    rows: list[dict] = []
    pages = 0
    next_url: str | None = url
    while next_url:
        payload = (
            http.get(next_url, headers={**headers, "Prefer": f"odata.maxpagesize={page_size}"})
            .raise_for_status()
            .json()
        )
        assert len(payload["value"]) <= page_size
        rows.extend(payload["value"])
        pages += 1
        next_url = payload.get("@odata.nextLink")
    return rows, pages


def test_business_central_customers_page_patch_and_412(served: dict[str, Any]) -> None:
    with httpx.Client(timeout=30) as http:
        headers = bearer(http, served, served["bc_scope"])
        url = f"{served['bc_api']}companies({served['company_id']})/customers"
        rows, pages = page_through(http, url, headers, page_size=7)
        assert pages > 1
        assert len({row["id"] for row in rows}) == len(rows) >= 50

        target = rows[0]
        item = f"{url}({target['id']})"
        first = http.patch(
            item, headers={**headers, "If-Match": target["@odata.etag"]}, json={"phoneNumber": "+1 555 0100"}
        )
        assert first.status_code == 200 and first.json()["phoneNumber"] == "+1 555 0100"

        stale = http.patch(
            item, headers={**headers, "If-Match": target["@odata.etag"]}, json={"phoneNumber": "+1 555 0199"}
        )
        assert stale.status_code == 412
        assert stale.json()["error"]["code"] == "Request_EntityChanged"
        assert http.get(item, headers=headers).json()["phoneNumber"] == "+1 555 0100"


def _change_set_body(base: str, account_id: str, etag: str, new_id: str) -> tuple[str, str]:
    batch, changeset = f"batch_{uuid.uuid4()}", f"changeset_{uuid.uuid4()}"
    parts = [
        ("PATCH", f"{base}accounts({account_id})", {"If-Match": etag}, {"telephone1": "+44 20 7946 0000"}),
        ("POST", f"{base}accounts", {}, {"accountid": new_id, "name": "Change-set Trading Ltd"}),
    ]
    lines = [f"--{batch}", f"Content-Type: multipart/mixed; boundary={changeset}", ""]
    for number, (method, url, headers, body) in enumerate(parts, start=1):
        lines += [
            f"--{changeset}",
            "Content-Type: application/http",
            "Content-Transfer-Encoding: binary",
            f"Content-ID: {number}",
            "",
            f"{method} {url} HTTP/1.1",
            "Content-Type: application/json",
        ]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        lines += ["", json.dumps(body)]
    lines += [f"--{changeset}--", f"--{batch}--", ""]
    return f"multipart/mixed; boundary={batch}", "\r\n".join(lines)


def test_dataverse_accounts_page_patch_412_and_change_set(served: dict[str, Any]) -> None:
    base = served["dataverse_api"]
    with httpx.Client(timeout=30) as http:
        headers = bearer(http, served, served["dataverse_scope"])
        rows, pages = page_through(http, f"{base}accounts", headers, page_size=9)
        assert pages > 1 and len({row["accountid"] for row in rows}) == len(rows)

        target = rows[0]
        item = f"{base}accounts({target['accountid']})"
        assert (
            http.patch(
                item, headers={**headers, "If-Match": target["@odata.etag"]}, json={"telephone1": "1"}
            ).status_code
            == 204
        )
        stale = http.patch(item, headers={**headers, "If-Match": target["@odata.etag"]}, json={"telephone1": "2"})
        assert stale.status_code == 412

        current = http.get(item, headers=headers).json()
        new_id = str(uuid.uuid4())
        content_type, body = _change_set_body(base, target["accountid"], current["@odata.etag"], new_id)
        answer = http.post(f"{base}$batch", headers={**headers, "Content-Type": content_type}, content=body)
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("multipart/mixed")
        assert answer.text.count("HTTP/1.1 204") == 2
        assert http.get(item, headers=headers).json()["telephone1"] == "+44 20 7946 0000"
        assert http.get(f"{base}accounts({new_id})", headers=headers).json()["name"] == "Change-set Trading Ltd"

        # The same change set again: the create now collides, so the whole set rolls back.
        again = http.get(item, headers=headers).json()
        content_type, body = _change_set_body(base, target["accountid"], again["@odata.etag"], new_id)
        http.patch(item, headers={**headers, "If-Match": again["@odata.etag"]}, json={"telephone1": "kept"})
        rolled_back = http.post(f"{base}$batch", headers={**headers, "Content-Type": content_type}, content=body)
        assert rolled_back.status_code == 200 and "HTTP/1.1 412" in rolled_back.text
        assert http.get(item, headers=headers).json()["telephone1"] == "kept"
