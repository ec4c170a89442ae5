"""Bearer tokens for one service, got with Microsoft's sign-in library (MSAL).

MSAL does the sign-in (client secret, certificate assertion, device code), keeps the tokens in
its token cache and hands out a cached one while it is valid. This module adds what a
long-running client needs around it: one sign-in at a time per service, shared by all
concurrent requests; ``invalidate`` so that a 401 is answered by exactly one fresh token; and
errors in bc-tui's own words. MSAL is synchronous: it runs in a worker thread and its HTTP
requests come back to the event loop (see ``msal_http``).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import msal  # type: ignore[import-untyped]  # msal ships no type information (no py.typed, no stubs)

from .credentials import ServiceCredentials, check_url
from .errors import AuthenticationFailed
from .guard import DEFAULT_DEADLINE_S, CappedTransport, server_words
from .msal_http import MsalHttpClient, SignInEndpoints
from .user_sign_in import DeviceCodeSignIn, certificate_credential

#: Called with the sentence that tells a person where to sign in and with which code.
ShowDeviceCode = Callable[[str], None]


#: A token with more than this left is handed out without asking MSAL again. MSAL itself
#: refreshes a cached token in its last five minutes, so this only skips asking MSAL when its
#: answer is certain to be the same token; every request asks for a token, and going through
#: MSAL's worker thread and the lock each time would serialize concurrent requests.
HAND_OUT_MARGIN_S = 300.0


class TokenProvider:
    """Hands out a valid bearer token for one service (one scope).

    Safe to share between concurrent requests: at most one sign-in is in flight.
    """

    def __init__(
        self,
        credentials: ServiceCredentials,
        *,
        service: str,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 30.0,
        deadline_s: float = DEFAULT_DEADLINE_S,
        show_device_code: ShowDeviceCode | None = None,
    ) -> None:
        check_url(credentials.token_url, what=f"{service} token", in_process=transport is not None)
        self._credentials = credentials
        self._service = service
        # The cap keeps an endless or huge answer from filling the memory.
        self._client = httpx.AsyncClient(transport=CappedTransport(transport), timeout=timeout, follow_redirects=False)
        self._endpoints = SignInEndpoints(credentials.token_url)
        self._http = MsalHttpClient(self._client, self._endpoints, deadline_s=deadline_s, service=service)
        self._show_device_code = show_device_code
        self._cache = msal.TokenCache()
        self._user: DeviceCodeSignIn | None = None
        # Built on first use, in the worker thread: MSAL reads the authority's configuration then.
        self._app: msal.ClientApplication | None = None
        self._lock = asyncio.Lock()
        # Set when nobody waits for the sign-in any more: a device code sign-in stops polling.
        self._stop = threading.Event()
        self._current: str | None = None
        #: Until when (``time.monotonic()``) ``_current`` is handed out without asking MSAL.
        self._current_until = 0.0
        #: How many tokens were fetched from the sign-in service (observable by tests and diagnostics).
        self.fetch_count = 0

    async def token(self) -> str:
        """A bearer token that is valid for a while yet; MSAL's cached one, else a fresh one."""
        if self._current is not None and time.monotonic() < self._current_until:
            return self._current
        async with self._lock:
            if self._current is not None and time.monotonic() < self._current_until:
                return self._current  # another request fetched it while this one waited
            self._http.loop = asyncio.get_running_loop()
            try:
                result = await asyncio.to_thread(self._acquire)
            except asyncio.CancelledError:
                self._stop.set()
                raise
            except (ValueError, TypeError, AttributeError, KeyError):
                # MSAL parses the answer itself; these are its ways of saying "not a token answer".
                raise AuthenticationFailed(
                    f"The sign-in service for {self._service} answered something that is not a token; "
                    "check the token URL in your profile."
                ) from None
            self._current = self._accept(result)
            self._current_until = time.monotonic() + _lifetime_s(result) - HAND_OUT_MARGIN_S
            return self._current

    @property
    def current(self) -> str | None:
        """The last token handed out, if any (to keep it out of messages when a service echoes it)."""
        return self._current

    def invalidate(self, rejected: str) -> None:
        """Forget ``rejected`` (a token the service answered 401 to) so the next call fetches anew.

        Only the token that was rejected is dropped: when several requests get 401 at once, the
        first invalidates, and the others reuse the fresh token fetched in between.
        """
        if rejected == self._current:
            self._current_until = 0.0
        cache = self._user.cache if self._user is not None else self._cache
        for entry in list(cache.search(msal.TokenCache.CredentialType.ACCESS_TOKEN)):
            if entry.get("secret") == rejected:
                cache.remove_at(entry)

    async def aclose(self) -> None:
        """Stop a sign-in still waiting for a person; close the HTTP client used for the sign-in service."""
        self._stop.set()
        await self._client.aclose()

    # --- in MSAL's worker thread -------------------------------------------------------------

    def _acquire(self) -> dict[str, Any]:
        credentials = self._credentials
        scopes = [credentials.scope]
        if credentials.sign_in == "device_code":
            if self._user is None:
                self._user = DeviceCodeSignIn(credentials, self._endpoints, self._http, service=self._service)
            return self._user.acquire(scopes, self._show_device_code, self._stop)
        if self._app is None:
            client_credential: Any = (
                certificate_credential(credentials.client_certificate)
                if credentials.sign_in == "client_certificate" and credentials.client_certificate is not None
                else credentials.client_secret
            )
            self._app = msal.ConfidentialClientApplication(
                credentials.client_id,
                client_credential=client_credential,
                authority=self._endpoints.authority,
                http_client=self._http,
                token_cache=self._cache,
                # The profile names the sign-in service; there is nothing to discover or vouch for.
                validate_authority=False,
                instance_discovery=False,
            )
        result: dict[str, Any] = self._app.acquire_token_for_client(scopes=scopes)
        return result

    # --- back on the event loop ----------------------------------------------------------------

    def _accept(self, result: Any) -> str:
        """The access token of MSAL's ``result``, or the error in bc-tui's words."""
        if not isinstance(result, dict):
            raise AuthenticationFailed(
                f"The sign-in service for {self._service} answered something that is not a token; "
                "check the token URL in your profile."
            )
        if "error" in result:
            error = self._words(result.get("error"))
            description = _first_line(self._words(result.get("error_description") or error or "no reason given"))
            raise AuthenticationFailed(
                f"Signing in to {self._service} failed ({error}): {description} {self._fix()}",
                service_code=error,
            )
        access = result.get("access_token")
        if not isinstance(access, str) or not access:
            raise AuthenticationFailed(
                f"The sign-in service for {self._service} sent no access token; check the token URL in your profile."
            )
        if result.get("token_source") != "cache":
            self.fetch_count += 1
        return access

    def _fix(self) -> str:
        """What the person can change, for the way this profile signs in."""
        sign_in = self._credentials.sign_in
        if sign_in == "client_certificate":
            return (
                "Check the tenant, client id and client certificate in your profile, and that the certificate "
                "is registered for the app."
            )
        if sign_in == "device_code":
            return "Check the tenant and client id in your profile, then sign in again."
        return "Check the tenant, client id and client secret in your profile."

    def _words(self, text: object) -> str:
        """A server's words, without the client secret (a token endpoint may echo the request)."""
        if not isinstance(text, str):
            text = json.dumps(text) if text is not None else ""
        return server_words(text, (self._credentials.client_secret,) if self._credentials.client_secret else ())


def _lifetime_s(result: dict[str, Any]) -> float:
    """How long MSAL's token is valid from now, in seconds (0 when it does not say)."""
    try:
        return max(0.0, float(result.get("expires_in") or 0))
    except (TypeError, ValueError):
        return 0.0


def _first_line(text: str) -> str:
    """AAD descriptions carry trace ids and timestamps on later lines; the first says why."""
    line = text.strip().splitlines()[0].strip() if text.strip() else text
    return line if line.endswith(".") else line + "."
