"""The sandbox authority's OpenID configuration: Microsoft's own MSAL signs in through it, unmodified."""

from __future__ import annotations

import contextlib
import ssl
from pathlib import Path
from typing import Any

import httpx
import msal
import pytest


async def test_openid_configuration_has_the_documented_shape(
    sandbox_http: httpx.AsyncClient, sandbox_info: dict[str, Any]
) -> None:
    authority = sandbox_info["token_url"].rsplit("/oauth2/", 1)[0]
    response = await sandbox_http.get(f"{authority}/v2.0/.well-known/openid-configuration")
    assert response.status_code == 200
    config = response.json()
    assert config["token_endpoint"] == sandbox_info["token_url"]
    assert config["issuer"] == f"{authority}/v2.0"
    for key in ("authorization_endpoint", "device_authorization_endpoint", "jwks_uri", "end_session_endpoint"):
        assert config[key].startswith(authority + "/")
    assert "client_secret_post" in config["token_endpoint_auth_methods_supported"]
    keys = await sandbox_http.get(config["jwks_uri"])
    assert keys.status_code == 200 and keys.json() == {"keys": []}


async def test_unknown_tenant_and_foreign_instance_are_refused_as_microsoft_does(
    sandbox_http: httpx.AsyncClient,
) -> None:
    unknown = await sandbox_http.get("/no-such-tenant/v2.0/.well-known/openid-configuration")
    assert unknown.status_code == 400
    assert unknown.json()["error"] == "invalid_tenant" and "AADSTS90002" in unknown.json()["error_description"]
    foreign = await sandbox_http.get(
        "/common/discovery/instance",
        params={"api-version": "1.1", "authorization_endpoint": "https://login.example.org/t/oauth2/v2.0/authorize"},
    )
    assert foreign.status_code == 400 and foreign.json()["error"] == "invalid_instance"


@pytest.fixture
def trust_only(monkeypatch: pytest.MonkeyPatch):
    """Point ``requests`` (MSAL's HTTP library) at one CA file through its documented variables."""

    def trust(ca_cert: str) -> None:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", ca_cert)
        monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)

    return trust


@pytest.mark.parametrize(
    "options",
    [{"instance_discovery": False}, {"validate_authority": False}],
    ids=["no-instance-discovery", "unvalidated"],
)
def test_msal_acquires_a_client_credentials_token_from_serve_tls(
    tmp_path: Path, serve_tls, trust_only, options: dict[str, bool]
) -> None:
    # Each MSAL app's connections are closed before the sandbox stops (the ExitStack ends first):
    # a keep-alive connection left open makes the https sandbox wait its 3 s grace period.
    with serve_tls(tmp_path) as info, contextlib.ExitStack() as opened:
        trust_only(info["ca_cert"])
        authority = info["token_url"].rsplit("/oauth2/", 1)[0]
        origin = authority.rsplit("/", 1)[0]

        # MSAL validates an unknown authority host through an instance discovery endpoint; the
        # sandbox answers it at its own origin (MSAL finds the token endpoint through it) ...
        discovered = msal.ConfidentialClientApplication(
            info["client_id"],
            client_credential=info["client_secret"],
            authority=authority,
            instance_discovery=f"{origin}/common/discovery/instance",
            verify=info["ca_cert"],
        )
        opened.callback(discovered.http_client.close)
        assert discovered.authority.token_endpoint == info["token_url"]

        # ... but MSAL's token cache asks login.microsoftonline.com for host aliases regardless,
        # so a client of a non-Microsoft host turns instance discovery off (as MSAL documents).
        def app(secret: str) -> msal.ConfidentialClientApplication:
            made = msal.ConfidentialClientApplication(
                info["client_id"], client_credential=secret, authority=authority, verify=info["ca_cert"], **options
            )
            opened.callback(made.http_client.close)
            return made

        client = app(info["client_secret"])
        tokens = {}
        for scope in ("dataverse_scope", "bc_scope", "dataverse_scope"):
            result = client.acquire_token_for_client(scopes=[info[scope]])
            assert "access_token" in result, result
            assert result["token_type"] == "Bearer" and result["expires_in"] > 0
            tokens[scope] = result["access_token"]
        verify = ssl.create_default_context(cafile=info["ca_cert"])
        with httpx.Client(verify=verify, timeout=10) as http:
            who = http.get(
                info["dataverse_api"] + "WhoAmI", headers={"Authorization": f"Bearer {tokens['dataverse_scope']}"}
            )
            assert who.status_code == 200, who.text
            bc = http.get(info["bc_api"] + "companies", headers={"Authorization": f"Bearer {tokens['bc_scope']}"})
            assert bc.status_code == 200 and bc.json()["value"], bc.text

        wrong = app("not-the-secret").acquire_token_for_client(scopes=[info["bc_scope"]])
        assert wrong.get("error") == "invalid_client" and "AADSTS7000215" in wrong["error_description"]
