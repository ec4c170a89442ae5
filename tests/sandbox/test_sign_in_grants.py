"""The sandbox's certificate sign-in (client assertions) and device code endpoints, over httpx in process."""

from __future__ import annotations

import base64
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from bc_tui.sandbox.app import create_app
from bc_tui.sandbox.app import sandbox_info as make_info
from bc_tui.sandbox.client_assertion import JWT_BEARER
from bc_tui.sandbox.inprocess import ORIGIN, asgi_transport
from bc_tui.sandbox.settings import SandboxSettings
from tests.app_certificates import new_key_and_certificate

REGISTERED = new_key_and_certificate("registered")
OTHER = new_key_and_certificate("other")


def _thumbprint(cert_pem: bytes) -> str:
    from cryptography.hazmat.primitives import hashes

    digest = x509.load_pem_x509_certificate(cert_pem).fingerprint(hashes.SHA256())
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _assertion(
    info: dict[str, Any], *, key_pem: bytes = REGISTERED[0], named: bytes = REGISTERED[1], **claims: Any
) -> str:
    body = {
        "aud": info["token_url"],
        "iss": info["client_id"],
        "sub": info["client_id"],
        "exp": time.time() + 600,
        "iat": time.time(),
        "jti": "1",
        **claims,
    }
    key = serialization.load_pem_private_key(key_pem, password=None)
    return jwt.encode(body, key, algorithm="PS256", headers={"x5t#S256": _thumbprint(named)})


@pytest.fixture
async def tenant() -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, Any]]]:
    settings = SandboxSettings(client_certificates=(REGISTERED[1].decode(),))
    async with httpx.AsyncClient(transport=asgi_transport(create_app(settings)), base_url=ORIGIN) as http:
        yield http, make_info(settings, ORIGIN)


async def _with(http: httpx.AsyncClient, info: dict[str, Any], assertion: str) -> httpx.Response:
    return await http.post(
        info["token_url"],
        data={
            "grant_type": "client_credentials",
            "client_id": info["client_id"],
            "scope": info["bc_scope"],
            "client_assertion_type": JWT_BEARER,
            "client_assertion": assertion,
        },
    )


async def test_an_assertion_signed_with_the_registered_key_gives_a_token(tenant) -> None:
    http, info = tenant
    answer = await _with(http, info, _assertion(info))
    assert answer.status_code == 200, answer.text
    companies = await http.get(
        info["bc_api"] + "companies", headers={"Authorization": f"Bearer {answer.json()['access_token']}"}
    )
    assert companies.status_code == 200


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (
            {"key_pem": OTHER[0], "named": OTHER[1]},
            "AADSTS700027: Client assertion contains an invalid signature. [Reason - The key was not found.",
        ),
        (
            {"key_pem": OTHER[0]},
            "AADSTS700027: Client assertion contains an invalid signature. [Reason - The provided signature value did not match",
        ),
        ({"exp": time.time() - 60}, "AADSTS700024:"),
        ({"aud": "https://elsewhere/t/oauth2/v2.0/authorize"}, "AADSTS50027: Invalid JWT token. The audience"),
        ({"iss": "someone-else"}, "AADSTS700021:"),
    ],
    ids=["unregistered certificate", "other key, registered thumbprint", "expired", "other audience", "other issuer"],
)
async def test_a_bad_assertion_is_refused_as_the_identity_platform_does(
    tenant, change: dict[str, Any], code: str
) -> None:
    http, info = tenant
    answer = await _with(http, info, _assertion(info, **change))
    assert answer.status_code == 401 and answer.json()["error"] == "invalid_client"
    assert answer.json()["error_description"].startswith(code)


async def test_a_malformed_assertion_is_refused(tenant) -> None:
    http, info = tenant
    answer = await _with(http, info, "not.a-jwt")
    assert answer.status_code == 401 and answer.json()["error_description"].startswith("AADSTS50027:")


async def test_device_code_start_checks_tenant_client_and_scope(tenant) -> None:
    http, info = tenant
    url = info["token_url"].replace("/token", "/devicecode")
    ok = await http.post(
        url, data={"client_id": info["client_id"], "scope": f"{info['bc_scope']} openid offline_access"}
    )
    assert ok.status_code == 200
    body = ok.json()
    assert body["verification_uri"] == f"{ORIGIN}/devicelogin" and body["interval"] == 5 and body["expires_in"] == 900
    assert body["user_code"] in body["message"] and body["device_code"] not in body["message"]
    other_tenant = await http.post(
        url.replace(info["tenant"], "other"), data={"client_id": info["client_id"], "scope": info["bc_scope"]}
    )
    assert other_tenant.json()["error"] == "invalid_request"
    stranger = await http.post(url, data={"client_id": "stranger", "scope": info["bc_scope"]})
    assert stranger.json()["error"] == "unauthorized_client"
    two_resources = await http.post(
        url, data={"client_id": info["client_id"], "scope": f"{info['bc_scope']} {info['dataverse_scope']}"}
    )
    assert two_resources.json()["error"] == "invalid_scope"


async def test_a_refresh_token_gives_a_token_for_the_other_service(tenant) -> None:
    http, info = tenant
    started = (
        await http.post(
            info["token_url"].replace("/token", "/devicecode"),
            data={"client_id": info["client_id"], "scope": info["bc_scope"]},
        )
    ).json()
    assert (await http.post(f"{ORIGIN}/devicelogin", data={"code": started["user_code"]})).status_code == 200
    poll = {
        "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
        "client_id": info["client_id"],
        "device_code": started["device_code"],
    }
    tokens = (await http.post(info["token_url"], data=poll)).json()
    again = await http.post(info["token_url"], data=poll)  # a device code is good for one sign-in
    assert again.json()["error"] == "invalid_grant"
    refreshed = await http.post(
        info["token_url"],
        data={
            "grant_type": "refresh_token",
            "client_id": info["client_id"],
            "refresh_token": tokens["refresh_token"],
            "scope": f"{info['dataverse_scope']} offline_access",
        },
    )
    assert refreshed.status_code == 200
    who = await http.get(
        info["dataverse_api"] + "WhoAmI", headers={"Authorization": f"Bearer {refreshed.json()['access_token']}"}
    )
    assert who.status_code == 200
    forged = await http.post(
        info["token_url"],
        data={
            "grant_type": "refresh_token",
            "client_id": info["client_id"],
            "refresh_token": "forged",
            "scope": info["bc_scope"],
        },
    )
    assert forged.status_code == 400 and forged.json()["error"] == "invalid_grant"
