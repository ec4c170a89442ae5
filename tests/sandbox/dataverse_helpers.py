"""A thin Dataverse test client over the sandbox's real HTTP, shared by the Dataverse API tests."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest

from bc_tui.sandbox.dataverse_batch import (
    BatchRequestPart,
    BatchResponsePart,
    parse_batch_response,
    render_batch_request,
)


class Dataverse:
    """A thin test client: Dataverse paths relative to the API base, bearer token attached."""

    def __init__(self, client: httpx.AsyncClient, base_url: str, token: str | None) -> None:
        self.client = client
        self.base_url = base_url
        self.auth = {"authorization": f"Bearer {token}"} if token else {}

    async def request(
        self, method: str, path: str, *, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> httpx.Response:
        url = path if path.startswith("http") else self.base_url + path
        return await self.client.request(method, url, headers={**self.auth, **(headers or {})}, **kwargs)

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("GET", path, **kwargs)

    async def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("POST", path, **kwargs)

    async def patch(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("PATCH", path, **kwargs)

    async def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("DELETE", path, **kwargs)

    async def batch(self, items: list[Any], prefer: str | None = None) -> tuple[httpx.Response, list[Any]]:
        content_type, body = render_batch_request(items)
        headers = {"content-type": content_type}
        if prefer:
            headers["prefer"] = prefer
        response = await self.post("$batch", content=body, headers=headers)
        parsed = []
        if response.status_code == 200:
            parsed = parse_batch_response(response.content, response.headers["content-type"])
        return response, parsed


def post_part(url: str, body: dict[str, Any], content_id: str | None = None) -> BatchRequestPart:
    return BatchRequestPart("POST", url, {"content-type": "application/json"}, json.dumps(body).encode(), content_id)


def error_of(response: httpx.Response | BatchResponsePart) -> dict[str, str]:
    body = response.content if isinstance(response, httpx.Response) else response.body
    return json.loads(body)["error"]


async def connect(client: httpx.AsyncClient, info: dict[str, Any]) -> Dataverse:
    """Fetch a real bearer token from the sandbox's token endpoint, as the connector does."""
    response = await client.post(
        info["token_url"],
        data={
            "grant_type": "client_credentials",
            "client_id": info["client_id"],
            "client_secret": info["client_secret"],
            "scope": info["dataverse_scope"],
        },
    )
    assert response.status_code == 200, response.text
    return Dataverse(client, info["dataverse_api"], response.json()["access_token"])


@pytest.fixture
async def dv(sandbox_http: httpx.AsyncClient, sandbox_info: dict[str, Any]) -> Dataverse:
    """A Dataverse client signed in at the in-process sandbox (import it into a test module to use it)."""
    return await connect(sandbox_http, sandbox_info)


async def new_accounts(dv: Dataverse, *rows: dict[str, Any]) -> list[str]:
    """Create one account per row, each with a fresh id; the ids in order."""
    ids = []
    for row in rows:
        account_id = str(uuid.uuid4())
        response = await dv.post("accounts", json={"accountid": account_id, **row})
        assert response.status_code == 204, response.text
        ids.append(account_id)
    return ids
