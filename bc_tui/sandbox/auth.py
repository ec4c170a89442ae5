"""The sandbox's token endpoint (Microsoft identity platform) and token checks.

Client credentials with a secret or a certificate (``client_assertion``, checked in
``client_assertion``), and a person's device code sign-in (``device_code``).

Tokens are opaque random strings, kept in memory with their audience (the requested scope
minus ``/.default``) and expiry; restarting the sandbox forgets them, as a client must cope
with anyway (it gets a 401 and fetches a new token).
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote_plus

from starlette.requests import Request
from starlette.responses import Response

from .client_assertion import JWT_BEARER, check_assertion, load_certificates
from .device_code import DEVICE_CODE_GRANT, DeviceCodes, SandboxUser, resource_of, user_token_fields
from .http import ApiResponse
from .settings import SandboxSettings

#: The audience of Business Central API tokens.
BC_AUDIENCE = "https://api.businesscentral.dynamics.com"


@dataclass(frozen=True)
class _Token:
    audience: str
    expires_at: float


def _oauth_error(status: int, error: str, description: str) -> Response:
    body = {
        "error": error,
        "error_description": description,
        "error_codes": [],
        "timestamp": time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime()),
    }
    return Response(
        json.dumps(body), status, media_type="application/json; charset=utf-8", headers={"cache-control": "no-store"}
    )


def _unknown_tenant(tenant: str) -> Response:
    return _oauth_error(
        400,
        "invalid_request",
        (
            f"AADSTS90002: Tenant '{tenant}' not found. Check to make sure you have the correct "
            "tenant ID and are signing into the correct cloud."
        ),
    )


def _token_answer(body: dict[str, object]) -> Response:
    return Response(
        json.dumps(body),
        200,
        media_type="application/json; charset=utf-8",
        headers={"cache-control": "no-store", "pragma": "no-cache"},
    )


class TokenService:
    """Issues and checks bearer tokens for one sandbox instance (thread-safe)."""

    def __init__(self, settings: SandboxSettings, clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self._clock = clock
        self._certificates = load_certificates(settings.client_certificates)
        self.device_codes = DeviceCodes(settings, clock)
        self._tokens: dict[str, _Token] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------- issuing

    def issue(self, audience: str) -> tuple[str, int]:
        """A new token for ``audience``: (access_token, expires_in seconds)."""
        lifetime = self.settings.token_lifetime_s
        token = secrets.token_urlsafe(48)
        now = self._clock()
        with self._lock:
            # Forget expired tokens now and then, so a long-running sandbox doesn't grow.
            if len(self._tokens) > 1000:
                self._tokens = {t: v for t, v in self._tokens.items() if v.expires_at > now}
            self._tokens[token] = _Token(audience.rstrip("/"), now + lifetime)
        return token, lifetime

    def revoke_all(self) -> None:
        """Invalidate every token issued so far (tests of refresh-on-401)."""
        with self._lock:
            self._tokens.clear()

    async def token_endpoint(self, request: Request) -> Response:
        """``POST /{tenant}/oauth2/v2.0/token``: client credentials (secret or certificate), device code,
        refresh token."""
        settings = self.settings
        tenant = request.path_params.get("tenant", "")
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True))
        if tenant != settings.tenant:
            return _unknown_tenant(tenant)
        grant = form.get("grant_type", "")
        if grant == "client_credentials":
            return self._client_credentials(request, form)
        if grant == DEVICE_CODE_GRANT:
            return self._device_code_grant(request, form)
        if grant == "refresh_token":
            return self._refresh_grant(request, form)
        return _oauth_error(
            400, "unsupported_grant_type", f"AADSTS70003: The app requested an unsupported grant type '{grant}'."
        )

    def _client_credentials(self, request: Request, form: dict[str, str]) -> Response:
        settings = self.settings
        tenant = settings.tenant
        client_id, client_secret = form.get("client_id", ""), form.get("client_secret", "")
        basic = _basic_credentials(request.headers.get("authorization", ""))
        if basic is not None:
            client_id, client_secret = client_id or basic[0], client_secret or basic[1]
        if not secrets.compare_digest(client_id, settings.client_id):
            return _oauth_error(
                401,
                "invalid_client",
                f"AADSTS700016: Application with identifier '{client_id}' was not found in the directory '{tenant}'.",
            )
        if form.get("client_assertion_type") == JWT_BEARER:
            problem = check_assertion(
                form.get("client_assertion", ""),
                client_id=client_id,
                token_path=request.url.path,
                certificates=self._certificates,
                now=time.time(),
            )
            if problem is not None:
                return _oauth_error(401, "invalid_client", problem)
        elif not secrets.compare_digest(client_secret, settings.client_secret):
            return _oauth_error(
                401,
                "invalid_client",
                (
                    "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent "
                    "in the request is the client secret value, not the client secret ID, "
                    f"for a secret added to app '{client_id}'."
                ),
            )
        scope = form.get("scope", "").strip()
        if " " in scope or not scope.endswith("/.default") or scope == "/.default":
            return _oauth_error(
                400,
                "invalid_scope",
                (
                    f"AADSTS1002012: The provided value for scope {scope} is not valid. Client "
                    "credential flows must have a scope value with /.default suffixed to the resource "
                    "identifier (application ID URI)."
                ),
            )

        token, lifetime = self.issue(scope[: -len("/.default")])
        return _token_answer(
            {"token_type": "Bearer", "expires_in": lifetime, "ext_expires_in": lifetime, "access_token": token}
        )

    # ------------------------------------------------------------- a person's sign-in

    async def device_code_endpoint(self, request: Request) -> Response:
        """``POST /{tenant}/oauth2/v2.0/devicecode``: start a device code sign-in."""
        tenant = request.path_params.get("tenant", "")
        if tenant != self.settings.tenant:
            return _unknown_tenant(tenant)
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True))
        client_id, scope = form.get("client_id", ""), form.get("scope", "")
        if not secrets.compare_digest(client_id, self.settings.client_id):
            return _oauth_error(
                400,
                "unauthorized_client",
                f"AADSTS700016: Application with identifier '{client_id}' was not found in the directory '{tenant}'.",
            )
        if resource_of(scope) is None:
            return _oauth_error(
                400,
                "invalid_scope",
                (
                    "AADSTS70011: The provided value for the input parameter 'scope' is not "
                    f"valid: name one resource, e.g. https://host/.default, not '{scope}'."
                ),
            )
        device_code, user_code, expires_in = self.device_codes.start(client_id, scope)
        page = f"{request.url.scheme}://{request.url.netloc}/devicelogin"
        return _token_answer(
            {
                "user_code": user_code,
                "device_code": device_code,
                "verification_uri": page,
                "expires_in": expires_in,
                "interval": self.settings.device_code_interval_s,
                "message": (
                    f"To sign in, use a web browser to open the page {page} and enter the code "
                    f"{user_code} to authenticate."
                ),
            }
        )

    async def device_login(self, request: Request) -> Response:
        """``POST /devicelogin`` with ``code=USER_CODE``: the person approves the sign-in."""
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True))
        if self.device_codes.approve(form.get("code", "")):
            return Response(
                "You have signed in to bc-tui on your device. You may now close this window.\n",
                200,
                media_type="text/plain; charset=utf-8",
            )
        return Response(
            "That code is not pending (mistyped, already used or expired); check it and try again.\n",
            400,
            media_type="text/plain; charset=utf-8",
        )

    def _device_code_grant(self, request: Request, form: dict[str, str]) -> Response:
        answer = self.device_codes.poll(form.get("device_code", ""), form.get("client_id", ""))
        if isinstance(answer, tuple):
            return _oauth_error(400, *answer)
        return self._user_tokens(request, form.get("client_id", ""), answer)

    def _refresh_grant(self, request: Request, form: dict[str, str]) -> Response:
        client_id = form.get("client_id", "")
        if not self.device_codes.redeem(form.get("refresh_token", ""), client_id):
            return _oauth_error(
                400,
                "invalid_grant",
                (
                    "AADSTS9002313: Invalid request. The refresh token is malformed, expired or "
                    "was not issued to this client; sign in again."
                ),
            )
        scope = form.get("scope", "")
        if resource_of(scope) is None:
            return _oauth_error(
                400,
                "invalid_scope",
                (
                    "AADSTS70011: The provided value for the input parameter 'scope' is not "
                    f"valid: name one resource, not '{scope}'."
                ),
            )
        return self._user_tokens(request, client_id, scope)

    def _user_tokens(self, request: Request, client_id: str, scope: str) -> Response:
        """A person's access token for the resource in ``scope``, with refresh and ID token."""
        resource = resource_of(scope)
        assert resource is not None  # checked when the sign-in started
        token, lifetime = self.issue(resource)
        issuer = f"{request.url.scheme}://{request.url.netloc}/{self.settings.tenant}/v2.0"
        return _token_answer(
            {
                "token_type": "Bearer",
                "scope": scope,
                "expires_in": lifetime,
                "ext_expires_in": lifetime,
                "access_token": token,
                "refresh_token": self.device_codes.new_refresh_token(client_id),
                **user_token_fields(SandboxUser(self.settings.tenant), client_id, issuer, lifetime),
            }
        )

    # ------------------------------------------------------------- checking

    def check(self, headers: Mapping[str, str], audience: str, error_code: str) -> ApiResponse | None:
        """None when ``headers`` carry a valid bearer token for ``audience``; else the 401 to send.

        ``error_code`` is the service's own code for the OData error body.
        """
        scheme, _, token = headers.get("authorization", "").partition(" ")
        problem: str | None = None
        if scheme.lower() != "bearer" or not token.strip():
            problem = "The request has no bearer token."
        else:
            with self._lock:
                issued = self._tokens.get(token.strip())
            if issued is None:
                problem = "The access token is invalid."
            elif issued.expires_at <= self._clock():
                problem = "The access token has expired."
            elif issued.audience != audience.rstrip("/"):
                problem = f"The access token is for audience '{issued.audience}', not '{audience}'."
        if problem is None:
            return None
        challenge = (
            f'Bearer authorization_uri="https://login.microsoftonline.com/{self.settings.tenant}/oauth2/authorize", '
            f'error="invalid_token", error_description="{problem}"'
        )
        return ApiResponse.of_json(
            401, {"error": {"code": error_code, "message": problem}}, {"www-authenticate": challenge}
        )


def _basic_credentials(header: str) -> tuple[str, str] | None:
    """(client_id, client_secret) from an HTTP Basic header (RFC 6749 §2.3.1 form-encodes both)."""
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except ValueError:
        return None
    user, sep, password = decoded.partition(":")
    return (unquote_plus(user), unquote_plus(password)) if sep else None
