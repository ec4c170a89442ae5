"""``bc-tui sandbox serve | reset | edit | approve-device``: run the emulated services and play with their data.

Heavy modules (starlette, uvicorn) are imported inside the handlers so that ``bc-tui --help``
stays fast.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
from pathlib import Path
from typing import Any

from . import sign_in_commands
from .settings import FaultSpec, SandboxSettings, is_loopback_host

_CITIES = ("Atlanta", "Chicago", "Seattle", "London", "Berlin", "Hamburg", "Stockholm", "Amsterdam", "Lyon", "Toronto")


def default_data_dir() -> Path:
    """Where the sandbox keeps its data unless told otherwise."""
    import platformdirs

    return Path(platformdirs.user_data_dir("bc-tui")) / "sandbox"


def _faults(text: str) -> FaultSpec:
    try:
        return FaultSpec.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _whole_number(text: str, low: int, high: int, what: str) -> int:
    """``text`` as a whole number from ``low`` to ``high``; else one plain sentence for argparse."""
    shown = text if len(text) <= 20 else text[:19] + "…"
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{shown!r} is not a whole number") from None
    if not low <= value <= high:
        top = f"{high:,}" if high >= 100_000 else str(high)
        raise argparse.ArgumentTypeError(f"{shown} is out of range; {what} must be from {low} to {top}")
    return value


def _bounded(low: int, high: int, what: str) -> Any:
    """An argparse ``type`` accepting whole numbers from ``low`` to ``high``."""

    def parse(text: str) -> int:
        return _whole_number(text, low, high, what)

    parse.__name__ = what  # argparse names the type in some messages
    return parse


#: Upper bounds of the sandbox's numbers: beyond them a run would take hours or fill the disk
#: rather than do what was meant (100,000 customers seed in seconds; a minute of latency is
#: already slower than any real service).
MAX_PORT = 65535
MAX_CUSTOMERS = 1_000_000
MAX_LATENCY_MS = 60_000
MAX_EDITS = 1_000_000

_port = _bounded(0, MAX_PORT, "the port (0 picks a free one)")
_customers = _bounded(0, MAX_CUSTOMERS, "the number of demo customers")
_latency = _bounded(0, MAX_LATENCY_MS, "the latency in milliseconds")
_count = _bounded(1, MAX_EDITS, "the number of records to change")


def _loopback(text: str) -> str:
    """A loopback address: the sandbox has no sign-in of its own worth exposing to a network."""
    host = text.strip().strip("[]")
    if not is_loopback_host(host):
        shown = text if len(text) <= 40 else text[:39] + "…"
        raise argparse.ArgumentTypeError(
            f"{shown!r} is not a loopback address; the sandbox listens on 127.0.0.1, ::1 or localhost only"
        )
    return host


def _writable(path: Path) -> bool:
    # The mode bits count too: root may write anywhere, but a folder marked read-only is left alone.
    return os.access(path, os.W_OK) and bool(path.stat().st_mode & 0o222)


def _folder(text: str) -> Path:
    """A folder for the sandbox's data: it may not exist yet, but it must not be a file, and it
    (or the folder it will be created in) must be writable."""
    path = Path(text).expanduser()
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a file, not a folder; name a folder for the sandbox data")
    existing = next((p for p in (path, *path.parents) if p.exists()), None)
    if existing is not None and not existing.is_dir():
        raise argparse.ArgumentTypeError(f"{existing} is a file, so {text} cannot be a folder")
    if existing is not None and not _writable(existing):
        raise argparse.ArgumentTypeError(
            f"{existing} is read-only; make it writable or name another folder for the sandbox data"
        )
    return path


def register(subparsers: Any) -> None:
    """Add the ``sandbox`` command group to the CLI's subparsers."""
    sandbox = subparsers.add_parser(
        "sandbox",
        help="run the emulated Business Central and Dataverse services",
        description=(
            "The embedded sandbox: emulated Business Central and Dataverse APIs with demo data, on this machine."
        ),
    )
    commands = sandbox.add_subparsers(dest="sandbox_command", metavar="SUBCOMMAND")

    def data_option(parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--data",
            type=_folder,
            default=None,
            metavar="DIR",
            help="where the sandbox keeps its data (default: the bc-tui user data folder)",
        )

    serve = commands.add_parser("serve", help="serve both APIs on loopback; prints their URLs as one JSON line")
    serve.add_argument(
        "--host", type=_loopback, default="127.0.0.1", help="loopback address to listen on (default 127.0.0.1)"
    )
    serve.add_argument("--port", type=_port, default=0, help="port to listen on (default 0: any free port)")
    data_option(serve)
    serve.add_argument(
        "--customers",
        type=_customers,
        default=50,
        help=f"demo customers to create on first use (default 50, at most {MAX_CUSTOMERS:,})",
    )
    serve.add_argument(
        "--latency-ms",
        type=_latency,
        default=0,
        help=f"delay every API request by this many milliseconds (at most {MAX_LATENCY_MS:,})",
    )
    serve.add_argument(
        "--limits", action="store_true", help="enforce the services' protection limits (429 + Retry-After)"
    )
    serve.add_argument(
        "--faults",
        type=_faults,
        default=FaultSpec(),
        metavar="SPEC",
        help="inject faults, e.g. 429=0.05,503=0.05,drop=0.02,lost=0.02,seed=7",
    )
    serve.add_argument(
        "--tls",
        action="store_true",
        help="serve https with a self-signed certificate kept in the data folder (its CA's path is in the JSON line)",
    )
    serve.add_argument(
        "--allow-manual-numbers",
        action="store_true",
        help="let BC creates name their own number, as CRONUS does (default: the number series refuse them)",
    )
    serve.add_argument(
        "--sub-second-times",
        action="store_true",
        help="show BC's lastModifiedDateTime in milliseconds, as CRONUS does (default: whole seconds)",
    )
    sign_in_commands.serve_options(serve)
    serve.set_defaults(func=serve_command)

    reset = commands.add_parser("reset", help="throw away all changes and restore the demo data")
    data_option(reset)
    reset.add_argument(
        "--customers",
        type=_customers,
        default=50,
        help=f"demo customers to create (default 50, at most {MAX_CUSTOMERS:,})",
    )
    reset.set_defaults(func=reset_command)

    edit = commands.add_parser("edit", help="change some records on one side, as a colleague would")
    edit.add_argument("--side", choices=("bc", "dataverse"), required=True, help="which service's records to change")
    edit.add_argument("--count", "-n", type=_count, default=None, help="how many records to change (default 1)")
    one = edit.add_mutually_exclusive_group()
    one.add_argument(
        "--number", metavar="NO", help="change only this record (BC: customer number; Dataverse: account number)"
    )
    one.add_argument("--id", dest="record_id", metavar="GUID", help="change only the record with this id")
    one.add_argument("--name", help="change only the record with exactly this name")
    edit.add_argument(
        "--set",
        dest="settings",
        metavar="FIELD=VALUE",
        action="append",
        default=[],
        help="with --number/--id/--name: set FIELD (the side's API name: city, address1_city…) to VALUE (repeatable)",
    )
    data_option(edit)
    edit.add_argument("--seed", type=int, default=None, help="seed for repeatable edits")
    edit.set_defaults(func=edit_command)

    sign_in_commands.register(commands)


def _data_dir(args: argparse.Namespace) -> Path:
    return args.data if args.data is not None else default_data_dir()


def serve_command(args: argparse.Namespace) -> int:
    """``bc-tui sandbox serve``: first stdout line is the sandbox info as JSON; runs until Ctrl-C."""
    from .server import serve

    settings = SandboxSettings(
        data_dir=_data_dir(args),
        customers=args.customers,
        latency_ms=args.latency_ms,
        limits=args.limits,
        faults=args.faults,
        bc_refuse_manual_numbers=not args.allow_manual_numbers,
        bc_modified_whole_seconds=not args.sub_second_times,
        **sign_in_commands.settings_of(args),
    )

    def announce(info: dict[str, Any]) -> None:
        print(json.dumps(info), flush=True)

    from .store import SandboxDataError

    try:
        serve(settings, host=args.host, port=args.port, on_ready=announce, tls=args.tls)
    except KeyboardInterrupt:
        return 0
    except SandboxDataError as exc:
        print(f"bc-tui: {exc}", file=sys.stderr)
        return 2
    except (OSError, ValueError) as exc:
        # A busy port is bad input like any other: exit 2, one sentence.
        print(
            f"bc-tui: the sandbox could not start: {exc}. Choose another --port or --host and try again.",
            file=sys.stderr,
        )
        return 2
    return 0


def reset_command(args: argparse.Namespace) -> int:
    """``bc-tui sandbox reset``: restore the demo data set; recreate a data file that can't be read."""
    from .data_format import discard_files
    from .demo_data import reset
    from .store import EntityStore, SandboxDataError

    data_dir = _data_dir(args)
    settings = SandboxSettings(data_dir=data_dir, customers=args.customers)
    path = data_dir / "sandbox.sqlite"
    recreated = False
    try:
        try:
            store = EntityStore(path)
        except SandboxDataError as exc:
            if not exc.repairable:
                raise
            # Corrupt, or in a format this bc-tui won't read: nothing in it can be kept, and
            # it is never read further (an old file holds pickles).
            discard_files(path)
            recreated = True
            store = EntityStore(path)
        try:
            reset(store, settings)
        finally:
            store.close()
    except SandboxDataError as exc:
        print(f"bc-tui: {exc}", file=sys.stderr)
        return 2
    done = "Recreated the unreadable sandbox data" if recreated else "Restored the sandbox demo data"
    print(f"{done} ({args.customers} customers) in {data_dir}.")
    return 0


def _new_value(rng: random.Random, field: str, old: Any) -> Any:
    if field in ("phoneNumber", "telephone1"):
        prefix = str(old or "+1 555").rsplit(" ", 2)[0]
        return f"{prefix} {rng.randint(100, 999)} {rng.randint(1000, 9999)}"
    if field in ("city", "address1_city"):
        return rng.choice([c for c in _CITIES if c != old])
    local, _, domain = str(old or "info@example.com").partition("@")
    return (
        f"{rng.choice(('sales', 'office', 'contact', 'hello', 'orders'))}{rng.randint(1, 99)}@{domain or 'example.com'}"
    )


def edit_command(args: argparse.Namespace) -> int:
    """``bc-tui sandbox edit``: change phone, city or e-mail of some customers or accounts, or set
    fields of one record (``--number``/``--id``/``--name`` with ``--set``)."""
    from .demo_data import ensure_seeded
    from .record_edit import EditError, Target, edit_record, find_record
    from .store import EntityStore, SandboxDataError

    target = Target(number=args.number, record_id=args.record_id, name=args.name)
    one_record = target != Target()
    if one_record and args.count is not None:
        print("bc-tui: --count changes records at random; leave it out to change the record named.", file=sys.stderr)
        return 2
    if args.settings and not one_record:
        print("bc-tui: --set needs the record to change: name it with --number, --id or --name.", file=sys.stderr)
        return 2
    data_dir = _data_dir(args)
    try:
        store = EntityStore(data_dir / "sandbox.sqlite")
    except SandboxDataError as exc:
        print(f"bc-tui: {exc}", file=sys.stderr)
        return 2
    try:
        ensure_seeded(store, SandboxSettings(data_dir=data_dir))
        if one_record and args.settings:
            try:
                print(edit_record(store, args.side, target, args.settings))
            except EditError as exc:
                print(f"bc-tui: {exc}", file=sys.stderr)
                return 2
            return 0
        if args.side == "bc":
            entity_set, label, name_field, number_field = "bc/customers", "BC customer", "displayName", "number"
            fields = ("phoneNumber", "city", "email")
        else:
            entity_set, label, name_field, number_field = "dv/accounts", "Dataverse account", "name", "accountid"
            fields = ("telephone1", "address1_city", "emailaddress1")
        rng = random.Random(args.seed)
        if one_record:  # no --set: change the named record as a colleague would
            try:
                rows = [find_record(store, args.side, target)]
            except EditError as exc:
                print(f"bc-tui: {exc}", file=sys.stderr)
                return 2
        else:
            rows = list(store.rows(entity_set))
        chosen = rng.sample(rows, min(args.count or 1, len(rows)))
        for row in chosen:
            changed = rng.sample(fields, rng.randint(1, 2))
            changes = {f: _new_value(rng, f, row.get(f)) for f in changed}
            key = row["id"] if args.side == "bc" else row["accountid"]
            store.update(entity_set, key, changes)
            what = ", ".join(f"{f} {row.get(f)!r} -> {v!r}" for f, v in changes.items())
            print(f"Changed {label} {row.get(number_field)} {row.get(name_field)!r}: {what}")
    finally:
        store.close()
    if not chosen:
        print(f"There are no {label}s to change in {data_dir}.")
    return 0
