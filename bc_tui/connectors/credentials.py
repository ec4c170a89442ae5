"""Credentials of one service, and the rule about which URLs we are willing to send them to."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bc_tui.config_schema import SIGN_IN_WAYS

from .errors import ConfigurationError

#: The origin the in-process test transport answers on; it never leaves the process.
IN_PROCESS_HOST = "sandbox"


@dataclass(frozen=True)
class ServiceCredentials:
    """How bc-tui signs in for one service (one scope).

    ``sign_in`` is ``client_secret`` (the app's secret), ``client_certificate`` (the app's
    certificate: ``client_certificate`` is a PEM file with its private key) or ``device_code``
    (a person signs in in a browser; their tokens are kept in ``token_cache``).
    The secret is kept out of ``repr`` so that it never ends up in a log or a traceback.
    """

    token_url: str
    client_id: str
    client_secret: str = field(repr=False)
    scope: str
    sign_in: str = "client_secret"
    client_certificate: Path | None = None
    token_cache: Path | None = None

    def __post_init__(self) -> None:
        if self.sign_in not in SIGN_IN_WAYS:
            raise ConfigurationError(
                f"sign_in must be one of {', '.join(SIGN_IN_WAYS)}, not {self.sign_in[:40]!r}; "
                "correct it in your profile."
            )
        if not self.client_id:
            raise ConfigurationError("The client id must be set; fill it in in your profile.")
        if self.sign_in == "client_secret" and not self.client_secret:
            raise ConfigurationError("The client id and client secret must both be set; fill them in in your profile.")
        if self.sign_in == "client_certificate" and self.client_certificate is None:
            raise ConfigurationError(
                'sign_in = "client_certificate" needs client_certificate, the path of a PEM file with the '
                "private key and the certificate; add it to your profile."
            )


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and addresses in 127.0.0.0/8 or ``::1``."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str, *, what: str, in_process: bool = False) -> httpx.URL:
    """Return ``url`` parsed, or raise ConfigurationError when credentials must not go there.

    ``https`` is required except on loopback; the in-process host ``http://sandbox`` is accepted
    only when ``in_process`` (an explicit transport was given, so nothing goes on the network).
    """
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise ConfigurationError(f"The {what} URL {url!r} is not a valid URL; correct it in your profile.") from exc
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ConfigurationError(
            f"The {what} URL {url!r} must start with https:// and name a host; correct it in your profile."
        )
    if parsed.scheme == "http" and not is_loopback(parsed.host) and not (in_process and parsed.host == IN_PROCESS_HOST):
        raise ConfigurationError(
            f"The {what} URL {url} uses plain http to {parsed.host}; use https:// "
            "(plain http is only allowed for a sandbox on this machine)."
        )
    return parsed
