"""The sandbox token endpoint and bearer-token checks (in process, over httpx)."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import httpx
import pytest

from bc_tui.sandbox.app import create_app
from bc_tui.sandbox.app import sandbox_info as make_info
from bc_tui.sandbox.inprocess import ORIGIN, asgi_transport
from bc_tui.sandbox.settings import SandboxSettings


def _form(info: dict[str, Any], **overrides: str) -> dict[str, str]:
    form = {
        "grant_type": "client_credentials",
        "client_id": info["client_id"],
        "client_secret": info["client_secret"],
        "scope": info["bc_scope"],
    }
    form.update(overrides)
    return {k: v for k, v in form.items() if v is not None}


async def _token(http: httpx.AsyncClient, info: dict[str, Any], scope: str) -> str:
    response = await http.post(info["token_url"], data=_form(info, scope=scope))
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


async def test_client_credentials_give_a_bearer_token(
    sandbox_http: httpx.AsyncClient, sandbox_info: dict[str, Any]
) -> None:
    response = await sandbox_http.post(sandbox_info["token_url"], data=_form(sandbox_info))
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3599 and body["ext_expires_in"] == 3599
    assert len(body["access_token"]) > 30
    companies = await sandbox_http.get(
        sandbox_info["bc_api"] + "companies", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert companies.status_code == 200


async def test_http_basic_client_authentication_is_accepted(
    sandbox_http: httpx.AsyncClient, sandbox_info: dict[str, Any]
) -> None:
    basic = base64.b64encode(f"{sandbox_info['client_id']}:{sandbox_info['client_secret']}".encode()).decode()
    response = await sandbox_http.post(
        sandbox_info["token_url"],
        headers={"Authorization": f"Basic {basic}"},
        data={"grant_type": "client_credentials", "scope": sandbox_info["dataverse_scope"]},
    )
    assert response.status_code == 200 and response.json()["access_token"]


@pytest.mark.parametrize(
    ("overrides", "status", "error"),
    [
        ({"client_secret": "wrong"}, 401, "invalid_client"),
        ({"client_secret": None}, 401, "invalid_client"),
        ({"client_id": "someone-else"}, 401, "invalid_client"),
        ({"grant_type": "password"}, 400, "unsupported_grant_type"),
        ({"scope": "https://api.businesscentral.dynamics.com/user_impersonation"}, 400, "invalid_scope"),
    ],
)
async def test_bad_token_requests_get_identity_platform_errors(
    sandbox_http: httpx.AsyncClient, sandbox_info: dict[str, Any], overrides: dict[str, str], status: int, error: str
) -> None:
    response = await sandbox_http.post(sandbox_info["token_url"], data=_form(sandbox_info, **overrides))
    assert response.status_code == status
    assert response.json()["error"] == error
    assert response.json()["error_description"].startswith("AADSTS")


async def test_wrong_secret_names_the_cause(sandbox_http: httpx.AsyncClient, sandbox_info: dict[str, Any]) -> None:
    response = await sandbox_http.post(sandbox_info["token_url"], data=_form(sandbox_info, client_secret="nope"))
    assert "AADSTS7000215: Invalid client secret provided." in response.json()["error_description"]


async def test_unknown_tenant_is_an_invalid_request(
    sandbox_http: httpx.AsyncClient, sandbox_info: dict[str, Any]
) -> None:
    url = sandbox_info["token_url"].replace(sandbox_info["tenant"], "other-tenant")
    response = await sandbox_http.post(url, data=_form(sandbox_info))
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"


@pytest.mark.parametrize("header", [None, "Bearer not-a-token", "Basic abc"])
async def test_apis_refuse_missing_or_unknown_tokens(
    sandbox_http: httpx.AsyncClient, sandbox_info: dict[str, Any], header: str | None
) -> None:
    headers = {"Authorization": header} if header else {}
    for url in (sandbox_info["bc_api"] + "companies", sandbox_info["dataverse_api"] + "accounts"):
        response = await sandbox_http.get(url, headers=headers)
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert response.json()["error"]["message"]


async def test_each_api_wants_its_own_audience(sandbox_http: httpx.AsyncClient, sandbox_info: dict[str, Any]) -> None:
    bc_token = await _token(sandbox_http, sandbox_info, sandbox_info["bc_scope"])
    dv_token = await _token(sandbox_http, sandbox_info, sandbox_info["dataverse_scope"])
    bc_url, dv_url = sandbox_info["bc_api"] + "companies", sandbox_info["dataverse_api"] + "WhoAmI"
    assert (await sandbox_http.get(bc_url, headers={"Authorization": f"Bearer {dv_token}"})).status_code == 401
    assert (await sandbox_http.get(dv_url, headers={"Authorization": f"Bearer {bc_token}"})).status_code == 401
    assert (await sandbox_http.get(bc_url, headers={"Authorization": f"Bearer {bc_token}"})).status_code == 200
    assert (await sandbox_http.get(dv_url, headers={"Authorization": f"Bearer {dv_token}"})).status_code != 401


async def test_tokens_expire_after_their_lifetime() -> None:
    settings = SandboxSettings(token_lifetime_s=1)
    info = make_info(settings, ORIGIN)
    async with httpx.AsyncClient(transport=asgi_transport(create_app(settings)), base_url=ORIGIN) as http:
        response = await http.post(info["token_url"], data=_form(info))
        assert response.json()["expires_in"] == 1
        headers = {"Authorization": f"Bearer {response.json()['access_token']}"}
        assert (await http.get(info["bc_api"] + "companies", headers=headers)).status_code == 200
        await asyncio.sleep(1.1)
        expired = await http.get(info["bc_api"] + "companies", headers=headers)
        assert expired.status_code == 401 and "expired" in expired.json()["error"]["message"]


async def test_revoke_all_invalidates_issued_tokens(
    sandbox_app: Any, sandbox_http: httpx.AsyncClient, sandbox_info: dict[str, Any]
) -> None:
    token = await _token(sandbox_http, sandbox_info, sandbox_info["bc_scope"])
    sandbox_app.state.tokens.revoke_all()
    response = await sandbox_http.get(
        sandbox_info["bc_api"] + "companies", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 401


async def test_unknown_environment_is_an_odata_not_found(
    sandbox_http: httpx.AsyncClient, sandbox_info: dict[str, Any]
) -> None:
    token = await _token(sandbox_http, sandbox_info, sandbox_info["bc_scope"])
    url = sandbox_info["bc_api"].replace("/production/", "/sandbox2/") + "companies"
    response = await sandbox_http.get(url, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 404 and response.json()["error"]["code"]
