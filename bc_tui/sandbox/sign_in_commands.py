"""The sandbox's sign-in options and commands.

- ``sandbox serve --client-certificate FILE``: register the app's certificate (certificate sign-in).
- ``sandbox serve --approve-device-after N``: approve every device code sign-in by itself after N polls.
- ``sandbox approve-device PAGE CODE``: what a person does in the browser: enter the code on the
  page the device code sentence names (``http://127.0.0.1:PORT/devicelogin``).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .settings import is_loopback_host

_CERTIFICATE = re.compile(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.S)
#: A device code is short; anything longer is not one.
MAX_CODE = 40


def certificate_file(text: str) -> str:
    """The certificate blocks of the PEM file ``text`` (its private key, if any, is not read further)."""
    from cryptography import x509

    path = Path(text).expanduser()
    try:
        data = path.read_bytes()[: 1024 * 1024]
    except OSError as exc:
        raise argparse.ArgumentTypeError(f"cannot read {text} ({exc.strerror or type(exc).__name__})") from None
    blocks = _CERTIFICATE.findall(data)
    try:
        for block in blocks:
            x509.load_pem_x509_certificate(block)
    except ValueError:
        blocks = []
    if not blocks:
        raise argparse.ArgumentTypeError(f"{text} holds no PEM certificate (-----BEGIN CERTIFICATE-----)")
    return b"\n".join(blocks).decode("ascii")


def _polls(text: str) -> int:
    if not text.isdigit() or not 0 <= int(text) <= 1000:
        raise argparse.ArgumentTypeError(f"{text[:20]!r} is not a number of polls from 0 to 1000")
    return int(text)


def serve_options(serve: argparse.ArgumentParser) -> None:
    """Add the sign-in options to ``sandbox serve``."""
    serve.add_argument(
        "--client-certificate",
        type=certificate_file,
        action="append",
        default=[],
        metavar="FILE",
        help="register this PEM certificate for the app, for certificate sign-in (repeatable)",
    )
    serve.add_argument(
        "--approve-device-after",
        type=_polls,
        default=0,
        metavar="N",
        help="approve each device code sign-in by itself after N polls (default 0: wait for approve-device)",
    )


def settings_of(args: argparse.Namespace) -> dict[str, Any]:
    """The SandboxSettings fields given by the sign-in options."""
    return {
        "client_certificates": tuple(args.client_certificate),
        "device_code_approve_after": args.approve_device_after,
    }


def register(commands: Any) -> None:
    """Add ``approve-device`` to the sandbox's subcommands."""
    approve = commands.add_parser(
        "approve-device",
        help="approve a device code sign-in, as the person would in a browser",
        description="Enter CODE on PAGE, the sandbox's sign-in page named by the sentence bc-tui shows "
        "(To sign in, … open the page PAGE and enter the code CODE …).",
    )
    approve.add_argument("page", help="the page, e.g. http://127.0.0.1:41234/devicelogin")
    approve.add_argument("code", help="the code shown with it")
    approve.add_argument(
        "--ca",
        type=Path,
        default=None,
        metavar="FILE",
        help="the CA certificate to trust for an https page (the ca_cert of sandbox serve --tls)",
    )
    approve.set_defaults(func=approve_device_command)


def approve_device_command(args: argparse.Namespace) -> int:
    """``bc-tui sandbox approve-device PAGE CODE``: exit 0 when approved, 2 with one sentence otherwise."""
    import httpx

    page, code = args.page.strip(), args.code.strip()
    parts = urlsplit(page)
    if parts.scheme not in ("http", "https") or not is_loopback_host(parts.hostname or ""):
        print(
            f"bc-tui: {page[:80]!r} is not a sandbox page on this machine; give the http://127.0.0.1:PORT/devicelogin "
            "page from the sign-in sentence.",
            file=sys.stderr,
        )
        return 2
    if not code or len(code) > MAX_CODE or not code.replace("-", "").isalnum():
        print(
            f"bc-tui: {code[:MAX_CODE]!r} is not a device code; give the code from the sign-in sentence.",
            file=sys.stderr,
        )
        return 2
    verify: Any = str(args.ca) if args.ca is not None else True
    try:
        answer = httpx.post(page, data={"code": code}, verify=verify, timeout=10.0)
    except httpx.HTTPError as exc:
        print(
            f"bc-tui: cannot reach the sandbox at {parts.netloc} ({type(exc).__name__}); is sandbox serve running?",
            file=sys.stderr,
        )
        return 2
    if answer.status_code != 200:
        print(
            f"bc-tui: the sandbox did not approve {code}: that code is not pending (mistyped, already used or "
            "expired); check it and try again.",
            file=sys.stderr,
        )
        return 2
    print(f"Approved {code}: the waiting bc-tui signs in now.")
    return 0
