"""OAuth 2.0 client-credentials tokens: fetched with authlib, cached, refreshed before expiry.

authlib does the token exchange (request body, client authentication, parsing the token
response and its ``error``/``error_description``); this module adds what a long-running client
needs around it: one cached token per service shared by all concurrent requests, a refresh
shortly before expiry that only one coroutine performs, an explicit ``invalidate`` so that a 401
is answered by exactly one fresh token, and errors in bc-tui's own words.
"""

from __future__ import annotations

import asyncio
import time
import warnings
from typing import Any

import httpx

from .credentials import ServiceCredentials, check_url
from .errors import AuthenticationFailed, MalformedResponse, ServiceError, TimedOut, Unreachable
from .guard import DEFAULT_DEADLINE_S, BodyTooLarge, CappedTransport, server_words

from authlib.deprecate import AuthlibDeprecationWarning  # noqa: E402  (imported first: it sets a filter)

with warnings.catch_warnings():
    # authlib prefers the "httpx2" fork and warns when it falls back to httpx; httpx is what we use.
    warnings.simplefilter("ignore", AuthlibDeprecationWarning)
    from authlib.integrations.base_client import OAuthError
    from authlib.integrations.httpx_client import AsyncOAuth2Client

#: Refresh this long before the token's expiry (capped to a quarter of its lifetime).
REFRESH_MARGIN_S = 120.0


class TokenProvider:
    """Hands out a valid bearer token for one service (one scope).

    Safe to share between concurrent requests: at most one token request is in flight.
    """

    def __init__(
        self,
        credentials: ServiceCredentials,
        *,
        service: str,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 30.0,
        deadline_s: float = DEFAULT_DEADLINE_S,
    ) -> None:
        check_url(credentials.token_url, what=f"{service} token", in_process=transport is not None)
        self._credentials = credentials
        self._service = service
        self._client = AsyncOAuth2Client(
            client_id=credentials.client_id,
            client_secret=credentials.client_secret,
            scope=credentials.scope,
            # Microsoft's token endpoint takes the secret in the form body.
            token_endpoint_auth_method="client_secret_post",
            # The cap keeps an endless or huge answer from filling the memory.
            transport=CappedTransport(transport),
            timeout=timeout,
        )
        self._deadline_s = deadline_s
        self._token: str | None = None
        self._refresh_at = 0.0
        self._lock = asyncio.Lock()
        #: How many tokens were fetched (observable by tests and diagnostics).
        self.fetch_count = 0

    async def token(self) -> str:
        """A bearer token that is valid for a while yet; fetched when none is cached."""
        token = self._token
        if token is not None and time.monotonic() < self._refresh_at:
            return token
        async with self._lock:
            if self._token is None or time.monotonic() >= self._refresh_at:
                await self._fetch()
            assert self._token is not None
            return self._token

    @property
    def current(self) -> str | None:
        """The cached token, if any (to keep it out of messages when a service echoes it)."""
        return self._token

    def invalidate(self, rejected: str) -> None:
        """Forget ``rejected`` (a token the service answered 401 to) so the next call fetches anew.

        Only the token that was rejected is dropped: when several requests get 401 at once, the
        first invalidates, and the others reuse the fresh token fetched in between.
        """
        if self._token == rejected:
            self._token = None

    async def aclose(self) -> None:
        """Close the HTTP client used for the token endpoint."""
        await self._client.aclose()

    def _words(self, text: object) -> str:
        """A server's words, without the client secret (a token endpoint may echo the request)."""
        return server_words(text, (self._credentials.client_secret,))

    async def _fetch(self) -> None:
        url = self._credentials.token_url
        host = httpx.URL(url).host
        try:
            async with asyncio.timeout(self._deadline_s):
                token: dict[str, Any] = await self._client.fetch_token(url, grant_type="client_credentials")
        except TimeoutError:
            raise TimedOut(
                f"The sign-in service {host} for {self._service} did not answer within {self._deadline_s:g} "
                "seconds; try again later, or check the token URL in your profile."
            ) from None
        except OAuthError as exc:
            description = _first_line(self._words(exc.description or exc.error or "no reason given"))
            raise AuthenticationFailed(
                f"Signing in to {self._service} failed ({self._words(exc.error)}): {description} "
                "Check the tenant, client id and client secret in your profile.",
                service_code=self._words(exc.error),
            ) from None
        except httpx.HTTPStatusError as exc:
            raise ServiceError(
                f"The sign-in service for {self._service} answered HTTP {exc.response.status_code}; "
                "try again in a moment.",
                status=exc.response.status_code,
            ) from None
        except BodyTooLarge:
            raise MalformedResponse(
                f"The sign-in service {host} for {self._service} sent an answer far too large for a token; "
                "check the token URL in your profile."
            ) from None
        except httpx.TransportError as exc:
            raise Unreachable(
                f"Cannot reach the sign-in service {host} for {self._service}: {type(exc).__name__}. "
                "Check the token URL in your profile and your network."
            ) from None
        except ValueError as exc:
            raise AuthenticationFailed(
                f"The sign-in service for {self._service} answered something that is not a token "
                f"({self._words(exc)}); check the token URL in your profile."
            ) from None
        if not isinstance(token, dict):
            raise AuthenticationFailed(
                f"The sign-in service for {self._service} answered something that is not a token; "
                "check the token URL in your profile."
            )
        access = token.get("access_token")
        if not isinstance(access, str) or not access:
            raise AuthenticationFailed(
                f"The sign-in service for {self._service} sent no access token; check the token URL in your profile."
            )
        try:
            lifetime = float(token.get("expires_in", 3599))
        except (TypeError, ValueError):
            lifetime = 3599.0
        margin = min(REFRESH_MARGIN_S, lifetime / 4)
        self._token = access
        self._refresh_at = time.monotonic() + lifetime - margin
        self.fetch_count += 1


def _first_line(text: str) -> str:
    """AAD descriptions carry trace ids and timestamps on later lines; the first says why."""
    line = text.strip().splitlines()[0].strip() if text.strip() else text
    return line if line.endswith(".") else line + "."
