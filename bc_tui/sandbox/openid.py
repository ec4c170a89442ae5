"""The sandbox authority's discovery documents, so that MSAL and azure-identity can use it.

- ``GET /{tenant}/v2.0/.well-known/openid-configuration``: the OpenID Connect discovery
  document of the Microsoft identity platform (v2.0 endpoints), pointing at this sandbox's own
  token endpoint. An unknown tenant answers 400 ``invalid_tenant`` (AADSTS90002), as
  ``login.microsoftonline.com`` does.
- ``GET /{tenant}/discovery/v2.0/keys``: the JSON Web Key Set named by ``jwks_uri``. The
  sandbox's access tokens are opaque (not signed JWTs), so the set is empty.
- ``GET /common/discovery/instance``: MSAL's instance discovery. The real endpoint lives on
  ``login.microsoftonline.com`` and only knows Microsoft's hosts; a client reaches this one by
  passing its URL as MSAL's ``instance_discovery`` (or skips discovery with
  ``instance_discovery=False``). It vouches only for this sandbox's own host.
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

from .settings import SandboxSettings


def _json(status: int, body: Any) -> Response:
    return Response(json.dumps(body), status, media_type="application/json; charset=utf-8")


def _error(status: int, error: str, description: str) -> Response:
    return _json(
        status,
        {
            "error": error,
            "error_description": description,
            "error_codes": [],
            "timestamp": time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime()),
        },
    )


def _origin(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}"


def openid_configuration(settings: SandboxSettings, origin: str) -> dict[str, Any]:
    """The discovery document of the sandbox tenant at ``origin``."""
    authority = f"{origin}/{settings.tenant}"
    return {
        "token_endpoint": f"{authority}/oauth2/v2.0/token",
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": f"{authority}/discovery/v2.0/keys",
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": f"{authority}/v2.0",
        "request_uri_parameter_supported": False,
        "userinfo_endpoint": f"{origin}/oidc/userinfo",
        "authorization_endpoint": f"{authority}/oauth2/v2.0/authorize",
        "device_authorization_endpoint": f"{authority}/oauth2/v2.0/devicecode",
        "http_logout_supported": True,
        "frontchannel_logout_supported": True,
        "end_session_endpoint": f"{authority}/oauth2/v2.0/logout",
        "claims_supported": [
            "sub",
            "iss",
            "cloud_instance_name",
            "cloud_instance_host_name",
            "cloud_graph_host_name",
            "msgraph_host",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "acr",
            "nonce",
            "preferred_username",
            "name",
            "tid",
            "ver",
            "at_hash",
            "c_hash",
            "email",
        ],
        "kerberos_endpoint": f"{authority}/kerberos",
        "tenant_region_scope": "EU",
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": "graph.microsoft.com",
        "rbac_url": "https://pas.windows.net",
    }


class OpenIdService:
    """The Starlette endpoints of the discovery documents for one sandbox."""

    def __init__(self, settings: SandboxSettings) -> None:
        self.settings = settings

    def _unknown_tenant(self, tenant: str) -> Response:
        return _error(
            400,
            "invalid_tenant",
            f"AADSTS90002: Tenant '{tenant}' not found. Check to make sure you have the "
            "correct tenant ID and are signing into the correct cloud.",
        )

    async def configuration(self, request: Request) -> Response:
        """``GET /{tenant}/v2.0/.well-known/openid-configuration``."""
        tenant = request.path_params["tenant"]
        if tenant != self.settings.tenant:
            return self._unknown_tenant(tenant)
        return _json(200, openid_configuration(self.settings, _origin(request)))

    async def keys(self, request: Request) -> Response:
        """``GET /{tenant}/discovery/v2.0/keys``: no signing keys, the tokens are opaque."""
        tenant = request.path_params["tenant"]
        if tenant != self.settings.tenant:
            return self._unknown_tenant(tenant)
        return _json(200, {"keys": []})

    async def instance_discovery(self, request: Request) -> Response:
        """``GET /common/discovery/instance?api-version=1.1&authorization_endpoint=…``."""
        endpoint = request.query_params.get("authorization_endpoint", "")
        origin = _origin(request)
        parts = urlsplit(endpoint)
        # MSAL names the instance by host name alone (it drops the port), so compare host names.
        if not endpoint or parts.scheme != request.url.scheme or parts.hostname != request.url.hostname:
            return _error(400, "invalid_instance", "AADSTS50049: Unknown or invalid instance.")
        tenant = (parts.path.strip("/").split("/") or [""])[0]
        host = request.url.netloc
        return _json(
            200,
            {
                "tenant_discovery_endpoint": f"{origin}/{tenant}/v2.0/.well-known/openid-configuration",
                "api-version": "1.1",
                "metadata": [{"preferred_network": host, "preferred_cache": host, "aliases": [host]}],
            },
        )
