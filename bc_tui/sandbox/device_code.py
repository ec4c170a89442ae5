"""The sandbox's device code sign-in (a person signs in on another device) and the tokens it gives.

- ``POST /{tenant}/oauth2/v2.0/devicecode`` starts a sign-in: a ``device_code`` for the client
  and a short ``user_code`` for the person, with the page to enter it on.
- The token endpoint's ``urn:ietf:params:oauth:grant-type:device_code`` grant answers
  ``authorization_pending`` until the code is approved, then a user's tokens: access, refresh
  and ID token. ``refresh_token`` gives a token for another resource from the refresh token.
- Approval: ``POST /devicelogin`` with ``code=USER_CODE`` (what ``bc-tui sandbox approve-device``
  sends), or by itself after ``SandboxSettings.device_code_approve_after`` polls (tests).

Everything is in memory; a restarted sandbox forgets codes and refresh tokens, as a client must
cope with anyway (it signs in again).
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from .settings import SANDBOX_NAMESPACE, SandboxSettings

DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
#: Scopes a client may add to any request for a person's tokens; they name no resource.
OIDC_SCOPES = frozenset({"openid", "profile", "offline_access", "email"})
#: How long a person has to enter the code, in seconds (the identity platform's 15 minutes).
DEVICE_CODE_LIFETIME_S = 900
_USER_CODE_LETTERS = "BCDFGHJKLMNPQRSTVWXZ23456789"


@dataclass
class _Pending:
    user_code: str
    client_id: str
    scope: str
    expires_at: float
    polls: int = 0
    approved: bool = False


@dataclass(frozen=True)
class SandboxUser:
    """The one person who signs in to the sandbox."""

    tenant: str
    name: str = "Sandbox User"

    @property
    def object_id(self) -> str:
        return str(uuid.uuid5(SANDBOX_NAMESPACE, f"user:{self.tenant}"))

    @property
    def username(self) -> str:
        return f"sandbox.user@{self.tenant}"


@dataclass
class DeviceCodes:
    """Pending device codes and issued refresh tokens of one sandbox (thread-safe)."""

    settings: SandboxSettings
    clock: Callable[[], float] = time.monotonic
    _pending: dict[str, _Pending] = field(default_factory=dict)
    _refresh: dict[str, str] = field(default_factory=dict)  # refresh token -> client id
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self, client_id: str, scope: str) -> tuple[str, str, int]:
        """A new sign-in for ``client_id``: (device_code, user_code, expires_in)."""
        device_code = secrets.token_urlsafe(32)
        user_code = "".join(secrets.choice(_USER_CODE_LETTERS) for _ in range(9))
        with self._lock:
            now = self.clock()
            self._pending = {code: p for code, p in self._pending.items() if p.expires_at > now}
            self._pending[device_code] = _Pending(user_code, client_id, scope, now + DEVICE_CODE_LIFETIME_S)
        return device_code, user_code, DEVICE_CODE_LIFETIME_S

    def approve(self, user_code: str) -> bool:
        """Approve the pending sign-in with ``user_code`` (any case, dashes ignored); False if none."""
        wanted = user_code.replace("-", "").strip().upper()
        with self._lock:
            for pending in self._pending.values():
                if pending.user_code == wanted and pending.expires_at > self.clock():
                    pending.approved = True
                    return True
        return False

    def poll(self, device_code: str, client_id: str) -> tuple[str, str] | str:
        """``(error, description)`` while not approved; the approved sign-in's scope once it is."""
        with self._lock:
            pending = self._pending.get(device_code)
            if pending is None or pending.client_id != client_id:
                return ("invalid_grant", "AADSTS70000: The provided value for the 'device_code' is not valid.")
            if pending.expires_at <= self.clock():
                del self._pending[device_code]
                return (
                    "expired_token",
                    "AADSTS70020: The provided value for the 'device_code' has expired; start signing in again.",
                )
            pending.polls += 1
            after = self.settings.device_code_approve_after
            if after and pending.polls > after:
                pending.approved = True
            if not pending.approved:
                return (
                    "authorization_pending",
                    "AADSTS70016: OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
                )
            del self._pending[device_code]
            return pending.scope

    def new_refresh_token(self, client_id: str) -> str:
        token = secrets.token_urlsafe(48)
        with self._lock:
            self._refresh[token] = client_id
        return token

    def redeem(self, refresh_token: str, client_id: str) -> bool:
        """True when ``refresh_token`` was issued to ``client_id`` (it stays valid, as Entra's do)."""
        with self._lock:
            return self._refresh.get(refresh_token) == client_id


def resource_of(scope: str) -> str | None:
    """The one resource a person's token is asked for (``https://host/.default`` → ``https://host``)."""
    resources = [s for s in scope.split() if s.lower() not in OIDC_SCOPES]
    if len(resources) != 1 or "/" not in resources[0].rstrip("/"):
        return None
    return resources[0].rsplit("/", 1)[0]


def _b64_json(value: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode("utf-8")).decode("ascii").rstrip("=")


def user_token_fields(user: SandboxUser, client_id: str, issuer: str, lifetime: int) -> dict[str, str]:
    """The ID token and client info that go with a person's tokens (the ID token is unsigned: the
    sandbox has no keys)."""
    now = int(time.time())
    claims = {
        "iss": issuer,
        "aud": client_id,
        "sub": user.object_id,
        "oid": user.object_id,
        "tid": user.tenant,
        "name": user.name,
        "preferred_username": user.username,
        "iat": now,
        "nbf": now,
        "exp": now + lifetime,
        "ver": "2.0",
    }
    return {
        "id_token": f"{_b64_json({'typ': 'JWT', 'alg': 'none'})}.{_b64_json(claims)}.",
        "client_info": _b64_json({"uid": user.object_id, "utid": user.tenant}),
    }
