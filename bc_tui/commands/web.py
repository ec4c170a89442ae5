"""``bc-tui web``: the terminal app served to a browser through textual-serve.

Each browser page that opens the app gets a ``bc-tui`` process of its own (textual-serve starts
the command once per websocket), with the same config, profile and database as ``bc-tui`` here:
with nothing configured, the embedded sandbox. Why textual-serve, and the rules that keep a
served app to its user (loopback by default, the Host and Origin checks): docs/browser-mode.md.

aiohttp and textual-serve are imported inside the handler, so that ``bc-tui --help`` stays fast.
"""

from __future__ import annotations

import argparse
import errno
import ipaddress
import os
import shlex
import socket
import sys
from typing import Any

from bc_tui.commands.common import add_connection_options
from bc_tui.commands.output import fail
from bc_tui.domain.text import shorten

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000

DESCRIPTION = """\
Serve the terminal app to a web browser: open the address it prints, and the same app as
'bc-tui' runs in the page (every key works as in a terminal). Each browser page gets an app of
its own, on the same config, profile and coupling database; with nothing configured, on the
embedded sandbox. Ctrl+C stops the server and the apps it started.

By default only this machine can open it (127.0.0.1). With --host set to another address,
anyone who can reach that port can use the app with this machine's connection and data: there
is no sign-in, so do that only on a network you trust, or behind a proxy that signs users in.
"""

EPILOG = """\
examples:
  bc-tui web                       serve on http://127.0.0.1:8000
  bc-tui web --port 8123           another port (0 picks a free one)
  bc-tui web --profile production  the app on a configured profile
"""


class WebUsageError(Exception):
    """The host or port cannot be served; ``str()`` is one sentence (exit 2)."""


def _port(text: str) -> int:
    shown = shorten(text, 20)
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{shown!r} is not a whole number") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(
            f"{shown} is out of range; the port (0 picks a free one) must be from 0 to 65535"
        )
    return value


def register(subparsers: Any) -> None:
    """Add ``web`` to the CLI's subparsers."""
    parser = subparsers.add_parser(
        "web",
        help="serve the terminal app to a web browser (this machine only, unless --host says otherwise)",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--host",
        default=DEFAULT_HOST,
        metavar="HOST",
        help=f"the address to listen on (default {DEFAULT_HOST}: this machine only; "
        "any other address lets everyone who can reach the port use the app)",
    )
    parser.add_argument(
        "--port",
        type=_port,
        default=DEFAULT_PORT,
        metavar="N",
        help=f"the port (default {DEFAULT_PORT}; 0: any free one)",
    )
    add_connection_options(parser.add_argument_group("connection (as for bc-tui)"))
    parser.set_defaults(func=web)


def web(args: argparse.Namespace) -> int:
    """Check the config, listen on the host and port, then serve until Ctrl+C (or SIGTERM)."""
    from bc_tui.config import ConfigError, load_settings

    if args.config is not None and not args.config.exists():
        return fail(f"The config file {shorten(str(args.config))} does not exist; check the path given to --config.")
    # The served app reads its settings from the environment, as plain `bc-tui` does.
    served_env = {
        "BC_TUI_CONFIG": str(args.config.resolve()) if args.config is not None else None,
        "BC_TUI_PROFILE": args.profile,
        "BC_TUI_DATABASE_URL": args.database,
    }
    given = {name: value for name, value in served_env.items() if value is not None}
    try:
        settings = load_settings(args.config, env={**os.environ, **given})
    except ConfigError as error:
        return fail(str(error))
    for config_warning in settings.warnings:
        sys.stderr.write(f"bc-tui: warning: {config_warning}\n")
    try:
        sock = listen(args.host, args.port)
    except WebUsageError as error:
        return fail(str(error))
    os.environ.update(given)
    loopback = is_loopback(sock)
    warning = None if loopback else open_warning(sock)
    if warning is not None:
        sys.stderr.write(f"bc-tui: warning: {warning}\n")
        sys.stderr.flush()
    from bc_tui.tui.web_server import AppServer

    AppServer(sock, served_command(), url=page_url(sock, args.host), loopback=loopback, warning=warning).serve()
    return 0


def served_command() -> str:
    """The shell command textual-serve starts for each browser page: this bc-tui, plain."""
    return shlex.join([sys.executable, "-m", "bc_tui"])


def listen(host: str, port: int) -> socket.socket:
    """A listening socket on ``host``/``port``, or WebUsageError with the sentence saying why not.

    The socket is bound here rather than by aiohttp so that a port in use or a host that is not
    this machine's is one sentence before anything starts, and port 0 can name the port it got.
    """
    shown = shorten(host, 60)
    if not host.strip():
        raise WebUsageError("The host is empty; give --host an address of this machine, e.g. 127.0.0.1.")
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError) as error:
        reason = getattr(error, "strerror", None) or "not a valid name"
        raise WebUsageError(
            f"The host {shown!r} is not a name or address bc-tui can listen on ({reason}); "
            "give --host an address of this machine, e.g. 127.0.0.1."
        ) from None
    family, kind, proto, _, address = found[0]
    sock = socket.socket(family, kind, proto)
    try:
        # As aiohttp does: a server stopped a moment ago does not keep its port from a new one.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as error:
        sock.close()
        raise WebUsageError(_bind_sentence(error, shown, port)) from None
    sock.setblocking(False)
    return sock


def _bind_sentence(error: OSError, host: str, port: int) -> str:
    if error.errno == errno.EADDRINUSE:
        return (
            f"Port {port} on {host} is already in use by another program; stop that program "
            "or choose another port with --port."
        )
    if error.errno == errno.EADDRNOTAVAIL:
        return (
            f"The address {host} is not one of this machine's; give --host an address of this machine, e.g. 127.0.0.1."
        )
    if error.errno == errno.EACCES:
        return (
            f"bc-tui may not listen on port {port} (ports below 1024 need administrator rights); "
            "choose another with --port."
        )
    reason = error.strerror or type(error).__name__
    return f"bc-tui could not listen on {host} port {port} ({reason}); choose another --host or --port."


def is_loopback(sock: socket.socket) -> bool:
    """Whether the socket listens on a loopback address only (this machine's own programs)."""
    return ipaddress.ip_address(str(sock.getsockname()[0]).split("%")[0]).is_loopback


def _bound(sock: socket.socket) -> tuple[str, int]:
    address = sock.getsockname()
    return str(address[0]), int(address[1])


def page_url(sock: socket.socket, host: str) -> str:
    """The address to open in a browser: the host as given (its bound address when that is a
    wildcard such as 0.0.0.0, which no browser can open: then this machine's name)."""
    address, port = _bound(sock)
    name = host
    if ipaddress.ip_address(address.split("%")[0]).is_unspecified:
        name = socket.gethostname()
    elif ":" in host:
        name = f"[{host}]"
    return f"http://{name}:{port}"


def open_warning(sock: socket.socket) -> str:
    """The sentence for a server that other machines can reach."""
    address, port = _bound(sock)
    where = "any address of this machine" if ipaddress.ip_address(address.split("%")[0]).is_unspecified else address
    return (
        f"bc-tui web listens on {where}, port {port}: anyone who can reach that port can use the app, "
        "with this machine's connection and data, without signing in."
    )
