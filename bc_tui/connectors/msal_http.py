"""The HTTP client MSAL signs in through: our httpx client on our event loop, called from MSAL's thread.

MSAL is synchronous and takes any object with ``requests``-like ``get``/``post`` methods as its
``http_client``. bc-tui runs MSAL in a worker thread (``asyncio.to_thread``); each request MSAL
makes is scheduled back on the event loop (``asyncio.run_coroutine_threadsafe``) and sent by the
same httpx client stack as every API call. So the in-process sandbox transport, the body cap
(``CappedTransport``), the deadline and bc-tui's error sentences all apply to sign-in too.

Two things MSAL would otherwise do differently (see "Sign-in" in docs/configuration.md):

- MSAL accepts only ``https`` authorities and token endpoints; the sandbox on this machine (or in
  process) speaks plain http. MSAL is shown the https form of the profile's URLs and this client
  sends each request to the URL the profile names (``check_url`` already decided that plain http
  is allowed there).
- MSAL asks the authority for its OpenID configuration before its first request. The profile
  names the token endpoint itself (``token_url``, any path), so that document is answered here
  from the profile instead of being fetched from a server that may only serve tokens.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from .errors import MalformedResponse, ServiceError, TimedOut, Unreachable
from .guard import BodyTooLarge


@dataclass(frozen=True)
class SignInEndpoints:
    """The URLs of one tenant's sign-in service, as the profile names them."""

    token_url: str

    @property
    def device_code_url(self) -> str:
        """The device authorization endpoint: beside the token endpoint (``…/oauth2/v2.0/devicecode``)."""
        base, _, _ = self.token_url.rpartition("/")
        return f"{base}/devicecode"

    @property
    def authority(self) -> str:
        """The authority MSAL is given: the https origin and first path segment of the token URL."""
        url = httpx.URL(self.token_url)
        tenant = url.path.strip("/").split("/")[0] or "tenant"
        return f"https://{url.netloc.decode('ascii')}/{tenant}"

    def for_msal(self, url: str) -> str:
        """``url`` as MSAL must see it (https)."""
        return str(httpx.URL(url).copy_with(scheme="https"))

    @property
    def discovery_url(self) -> str:
        return f"{self.authority}/v2.0/.well-known/openid-configuration"

    def configuration(self) -> dict[str, Any]:
        """The OpenID configuration MSAL reads: the endpoints of the profile."""
        return {
            "token_endpoint": self.for_msal(self.token_url),
            "device_authorization_endpoint": self.for_msal(self.device_code_url),
            "authorization_endpoint": f"{self.authority}/oauth2/v2.0/authorize",
            "issuer": f"{self.authority}/v2.0",
        }

    def real_url(self, url: str) -> str | None:
        """The profile's URL for a URL MSAL asks for; None for any other URL."""
        for real in (self.token_url, self.device_code_url):
            if url == self.for_msal(real):
                return real
        return None


class Answer:
    """What MSAL reads of an HTTP answer (``status_code``, ``text``, ``headers``, ``raise_for_status``)."""

    def __init__(self, status_code: int, text: str, headers: Mapping[str, str]) -> None:
        self.status_code = status_code
        self.text = text
        self.headers = dict(headers)

    def raise_for_status(self) -> None:
        """MSAL calls this for 5xx answers; those were already raised as ServiceError before."""
        if self.status_code >= 400:
            raise ServiceError(f"The sign-in service answered HTTP {self.status_code}.", status=self.status_code)


class MsalHttpClient:
    """``requests``-like client for MSAL, running every request on ``loop`` through ``client``.

    ``service`` names the service in sentences ("The sign-in service HOST for Dataverse").
    """

    def __init__(
        self, client: httpx.AsyncClient, endpoints: SignInEndpoints, *, deadline_s: float, service: str
    ) -> None:
        self._client = client
        self._endpoints = endpoints
        self._deadline_s = deadline_s
        self._service = service
        #: The loop the calling coroutine runs on; set before each hop to MSAL's thread.
        self.loop: asyncio.AbstractEventLoop | None = None

    def get(
        self, url: str, params: Mapping[str, Any] | None = None, headers: Mapping[str, str] | None = None, **_: Any
    ) -> Answer:
        """MSAL's GET: only the OpenID configuration, answered from the profile."""
        if url.split("?")[0] == self._endpoints.discovery_url:
            return Answer(200, json.dumps(self._endpoints.configuration()), {"content-type": "application/json"})
        raise ServiceError(f"bc-tui does not send MSAL's request for {httpx.URL(url).host} anywhere.", status=0)

    def post(
        self,
        url: str,
        params: Mapping[str, Any] | None = None,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        **_: Any,
    ) -> Answer:
        """MSAL's POST to the token or device code endpoint, sent to the profile's URL."""
        real = self._endpoints.real_url(url.split("?")[0])
        if real is None:
            raise ServiceError(f"bc-tui does not send MSAL's request for {httpx.URL(url).host} anywhere.", status=0)
        if isinstance(data, Mapping):
            # MSAL hands the client assertion over as bytes, as requests takes it; httpx would write b'…'.
            data = {k: v.decode("ascii") if isinstance(v, bytes) else v for k, v in data.items()}
        return self._run(lambda: self._client.post(real, params=params, data=data, headers=headers))

    def close(self) -> None:
        """Nothing to close here: the httpx client belongs to the TokenProvider."""

    def _run(self, send: Callable[[], Any]) -> Answer:
        assert self.loop is not None, "MsalHttpClient is used from MSAL's worker thread only"
        return asyncio.run_coroutine_threadsafe(self._send(send), self.loop).result()

    async def _send(self, send: Callable[[], Any]) -> Answer:
        host = httpx.URL(self._endpoints.token_url).host
        try:
            async with asyncio.timeout(self._deadline_s):
                response: httpx.Response = await send()
                await response.aread()
        except TimeoutError:
            raise TimedOut(
                f"The sign-in service {host} for {self._service} did not answer within {self._deadline_s:g} "
                "seconds; try again later, or check the token URL in your profile."
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
        if response.status_code >= 500 or response.status_code == 429:
            # A busy or broken service, not a refusal: MSAL would only raise on it too.
            raise ServiceError(
                f"The sign-in service for {self._service} answered HTTP {response.status_code}; try again in a moment.",
                status=response.status_code,
            )
        return Answer(response.status_code, response.text, response.headers)
