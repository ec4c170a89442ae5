"""The two sign-ins that need more than a secret: the app's certificate, and a person's device code.

- Certificate: the profile's ``client_certificate`` is one PEM file with the private key and the
  certificate. MSAL signs a client assertion with the key and computes the thumbprint from the
  certificate.
- Device code: a person opens the sign-in page in any browser and enters a code; MSAL polls the
  token endpoint until they did. Their tokens (with the refresh token) are kept in MSAL's token
  cache, persisted in a file only the user can read, so the next start and the other service
  sign in silently (see "Sign-in" in docs/configuration.md).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msal  # type: ignore[import-untyped]  # msal ships no type information (no py.typed, no stubs)
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from .credentials import ServiceCredentials
from .errors import ConfigurationError
from .guard import server_words
from .msal_http import MsalHttpClient, SignInEndpoints

#: One sign-in at a time per token cache file: both services of a profile share one person's sign-in.
_CACHE_LOCKS: dict[Path, threading.Lock] = {}
_CACHE_LOCKS_GUARD = threading.Lock()


def certificate_credential(path: Path) -> dict[str, str]:
    """MSAL's ``client_credential`` for the PEM file at ``path`` (private key and certificate)."""
    try:
        pem = path.expanduser().read_bytes()
    except OSError as exc:
        raise ConfigurationError(
            f"Cannot read the client certificate {path} ({exc.strerror or type(exc).__name__}); "
            "check client_certificate in your profile."
        ) from None
    try:
        key = serialization.load_pem_private_key(pem, password=None)
        certificate = x509.load_pem_x509_certificate(pem)
    except (ValueError, TypeError):
        raise ConfigurationError(
            f"The client certificate {path} must be one PEM file holding an unencrypted private key and its "
            "certificate; check client_certificate in your profile."
        ) from None
    return {
        "private_key": key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode("ascii"),
        "public_certificate": certificate.public_bytes(serialization.Encoding.PEM).decode("ascii"),
    }


def _lock_for(path: Path) -> threading.Lock:
    with _CACHE_LOCKS_GUARD:
        return _CACHE_LOCKS.setdefault(path.resolve(), threading.Lock())


class DeviceCodeSignIn:
    """A person's sign-in with a device code, their tokens persisted in ``credentials.token_cache``.

    Runs in MSAL's worker thread only.
    """

    def __init__(
        self, credentials: ServiceCredentials, endpoints: SignInEndpoints, http: MsalHttpClient, *, service: str
    ) -> None:
        if credentials.token_cache is None:
            raise ConfigurationError("Device code sign-in needs a file for its token cache; this is a bug in bc-tui.")
        self._path = credentials.token_cache
        self._service = service
        self.cache = msal.SerializableTokenCache()
        self._app = msal.PublicClientApplication(
            credentials.client_id,
            authority=endpoints.authority,
            http_client=http,
            token_cache=self.cache,
            # The profile names the sign-in service; there is nothing to discover or vouch for.
            validate_authority=False,
            instance_discovery=False,
        )

    def acquire(self, scopes: list[str], show: Callable[[str], None] | None, stop: threading.Event) -> dict[str, Any]:
        """A token for ``scopes``: silently from the cache (refreshing it) or by a new device code sign-in.

        The sign-in waits for the person until the code expires or ``stop`` is set (nobody waits
        for the token any more: the command was interrupted, the app closed).
        """
        with _lock_for(self._path):
            # The other service may have signed the person in since we last looked.
            self._load()
            result: dict[str, Any] | None = None
            for account in self._app.get_accounts():
                result = self._app.acquire_token_silent(scopes, account=account)
                if result and "access_token" in result:
                    break
            if not result or "access_token" not in result:
                flow: dict[str, Any] = self._app.initiate_device_flow(scopes=scopes)
                if "user_code" not in flow:
                    return flow
                if show is not None:
                    # The service's sentence is data: shown without markup or control characters.
                    show(
                        server_words(
                            flow.get("message")
                            or f"Sign in at {flow.get('verification_uri')} with the code {flow['user_code']}.",
                            limit=400,
                        )
                    )
                result = self._app.acquire_token_by_device_flow(
                    flow, exit_condition=lambda flow: stop.is_set() or flow.get("expires_at", 0) < time.time()
                )
            self._save()
            return result

    def _load(self) -> None:
        try:
            text = self._path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return
        except OSError as exc:
            raise ConfigurationError(
                f"Cannot read the sign-in cache {self._path} ({exc.strerror}); remove it to sign in again."
            ) from None
        try:
            self.cache.deserialize(text)
        except ValueError:
            raise ConfigurationError(
                f"The sign-in cache {self._path} is damaged; remove it to sign in again."
            ) from None

    def _save(self) -> None:
        """Write the cache for the user's eyes only (0600): it holds a refresh token."""
        if not self.cache.has_state_changed:
            return
        self._path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self._path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(descriptor, 0o600)  # an older file may have been created with wider rights
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(self.cache.serialize())
        self.cache.has_state_changed = False
