"""What every headless subcommand shares: options, the records named by number, the connection
and error handling. What a command prints is in ``commands/output.py``, a finished job as a
result in ``commands/summaries.py``.

A subcommand's handler is ``run(args, body)`` where ``body(ctx)`` is a coroutine that works
inside an open :class:`~bc_tui.sync.session.SyncSession` and returns a :class:`Report`. ``run``
loads the settings, picks the profile (or starts the embedded sandbox), opens the session, turns
every error a user can meet into one sentence on stderr with exit code 2, and prints the report:
one JSON document on stdout with ``--json``, readable lines otherwise.

Heavy modules (httpx, peewee, the sync engine) are imported inside the functions, so that
``bc-tui --help`` stays fast.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bc_tui.commands.output import Report, clear_progress, emit, fail, progress_printer
from bc_tui.domain.text import shorten, shorten_words
from bc_tui.domain.words import ONE_WAY_DIRECTIONS

if TYPE_CHECKING:
    from bc_tui.config import ConnectionProfile, Settings
    from bc_tui.sync.progress import JobSummary, Progress
    from bc_tui.sync.session import SyncSession

SANDBOX_NOTE = "Using the built-in sandbox (demo data); configure a profile to work on your tenant."
MAPPINGS = ("CUSTOMER", "CONTACT")
DIRECTIONS = ONE_WAY_DIRECTIONS


class UsageError(Exception):
    """The command line names something that does not exist; ``str()`` is one sentence (exit 2)."""


# --- options ------------------------------------------------------------------------------------


def add_common_options(parser: argparse.ArgumentParser) -> None:
    """``--config``, ``--profile``, ``--database`` and ``--json``, on every subcommand."""
    group = parser.add_argument_group("connection and output")
    add_connection_options(group)
    group.add_argument("--json", action="store_true", help="print one JSON document on stdout instead of text")


def add_connection_options(group: Any) -> None:
    """``--config``, ``--profile`` and ``--database`` on ``group`` (a parser or argument group):
    what every command and ``bc-tui web`` connect with."""
    group.add_argument(
        "--config",
        type=Path,
        default=None,
        metavar="PATH",
        help="the config file (default: $BC_TUI_CONFIG or the bc-tui config folder)",
    )
    group.add_argument(
        "--profile",
        default=None,
        metavar="NAME",
        help="the connection profile to use (default: the config's profile, else the built-in sandbox)",
    )
    group.add_argument(
        "--database",
        default=None,
        metavar="URL",
        help="the coupling database, e.g. sqlite:///path or postgresql://… (default: from the config)",
    )


def add_mapping_option(parser: argparse.ArgumentParser, *, default: str | None = "CUSTOMER") -> None:
    """``--mapping CUSTOMER|CONTACT``."""
    text = f" (default {default})" if default else " (default: all)"
    parser.add_argument(
        "--mapping",
        type=str.upper,
        choices=MAPPINGS,
        default=default,
        help=f"the table mapping: customers or contacts{text}",
    )


def add_sync_after_option(parser: argparse.ArgumentParser) -> None:
    """``--sync to-dataverse|from-dataverse``: synchronize once after coupling."""
    parser.add_argument(
        "--sync",
        choices=DIRECTIONS,
        default=None,
        metavar="DIRECTION",
        help="synchronize once after coupling: to-dataverse (use the BC data) "
        "or from-dataverse (use the Dataverse data)",
    )


# --- what a command body gets -------------------------------------------------------------------


@dataclass
class Context:
    """What a command body gets: its arguments, the open session and where it is connected."""

    args: argparse.Namespace
    session: SyncSession
    settings: Settings
    profile: ConnectionProfile
    database_url: str

    @property
    def progress(self) -> Callable[[Progress], None] | None:
        """A progress callback for long jobs (a single updating stderr line on a TTY), or None."""
        return progress_printer(sys.stderr)

    @property
    def connection_label(self) -> str:
        """``sandbox (demo data)`` or ``profile NAME``."""
        return "sandbox (demo data)" if self.profile.is_sandbox else f"profile {self.profile.name}"


# --- records by number --------------------------------------------------------------------------


@dataclass(frozen=True)
class BcRecord:
    """A BC record named on the command line: its number, SystemId and name."""

    number: str
    id: str
    name: str


async def resolve_numbers(session: SyncSession, mapping_name: str, numbers: Sequence[str]) -> list[BcRecord]:
    """The BC records with these numbers (one query per 40 numbers), in the order given.

    Raises :class:`UsageError` naming the numbers that do not exist.
    """
    from bc_tui.store.records import normalize_id
    from bc_tui.sync.records import bc_kind, rows_where
    from bc_tui.sync.sides import BC_SIDE

    mapping = session.mapping(mapping_name)
    wanted = list(dict.fromkeys(n.strip() for n in numbers if n.strip()))
    rows = await rows_where(
        BC_SIDE, session, bc_kind(mapping), "number", wanted, select=("id", "number", "displayName")
    )
    by_number = {str(r["number"]).upper(): r for r in rows}
    missing = [n for n in wanted if n.upper() not in by_number]
    if missing:
        noun = "customer" if mapping.bc_entity == "customers" else "contact"
        plural = "s" if len(missing) > 1 else ""
        which = shorten(", ".join(missing))
        hint = " (contacts need --mapping CONTACT)" if mapping.bc_entity == "customers" else ""
        raise UsageError(
            f"Business Central has no {noun}{plural} numbered {which}{hint}; check the number{plural} and try again."
        )
    return [
        BcRecord(
            number=str(by_number[n.upper()]["number"]),
            id=normalize_id(str(by_number[n.upper()]["id"])),
            name=str(by_number[n.upper()].get("displayName") or ""),
        )
        for n in wanted
    ]


def numbers_by_id(records: Iterable[BcRecord]) -> dict[str, str]:
    """SystemId (lower-case) → number, to label per-record results."""
    return {r.id.lower(): r.number for r in records}


async def cached_numbers(session: SyncSession, mapping_name: str, summary: JobSummary) -> dict[str, str]:
    """SystemId → BC number of the coupled records a job touched (the couplings cache numbers)."""
    from bc_tui.store.coupling_queries import couplings_by_bc_id

    ids = [r.bc_id for r in summary.results if r.bc_id]
    found = await session.db(couplings_by_bc_id, mapping_name, ids) if ids else {}
    return {bc_id: c.bc_number for bc_id, c in found.items() if c.bc_number}


# --- connection ---------------------------------------------------------------------------------


def default_database_url() -> str:
    """The coupling database next to bc-tui's other data (honours ``BC_TUI_DATA_DIR``)."""
    from bc_tui import config

    return config.default_database_url()


@contextmanager
def connection(args: argparse.Namespace) -> Iterator[tuple[Settings, ConnectionProfile, str]]:
    """The settings, the profile to use and the database URL; starts and stops the sandbox.

    With a profile configured (config file, ``BC_TUI_PROFILE`` or ``--profile``) it is used;
    with none, the embedded sandbox serves demo data on loopback for the command's lifetime.
    """
    from bc_tui.config import default_data_dir, load_settings, profile_from_sandbox_info, resolve_profile
    from bc_tui.store.database import check as check_database

    if args.config is not None and not args.config.exists():
        # A missing default config means "use the sandbox"; a missing named one is a typo.
        raise UsageError(
            f"The config file {shorten(str(args.config))} does not exist; check the path given to --config."
        )
    settings = load_settings(args.config)
    for warning in settings.warnings:
        # Once per command, before any work: a misspelt key is ignored, and the user should know.
        sys.stderr.write(f"bc-tui: warning: {warning}\n")
    database_url = args.database or settings.database_url or default_database_url()
    check_database(database_url)  # before the sandbox starts: a bad database writes nothing
    if args.profile or settings.has_profile:
        yield settings, resolve_profile(settings, args.profile), database_url
        return
    from bc_tui.sandbox.server import start_in_thread
    from bc_tui.sandbox.settings import SandboxSettings
    from bc_tui.sandbox.store import SandboxDataError

    sys.stderr.write(SANDBOX_NOTE + "\n")
    try:
        running = start_in_thread(SandboxSettings(data_dir=default_data_dir() / "sandbox"))
    except SandboxDataError as error:  # its sentence names the folder and the fix
        raise UsageError(str(error)) from None
    except OSError as error:
        raise UsageError(
            f"The built-in sandbox could not start ({error}); configure a profile or free a loopback port."
        ) from None
    try:
        profile = dataclasses.replace(
            profile_from_sandbox_info(running.info),
            request_deadline_s=settings.request_deadline_s,
            history_days=settings.history_days,
        )
        yield settings, profile, database_url
    finally:
        running.stop()


Body = Callable[[Context], Awaitable[Report]]


def run(args: argparse.Namespace, body: Body, *, check_mappings: bool = False) -> int:
    """Run a command body inside an open session; print its report; map errors to exit code 2.

    ``check_mappings``: run the schema check first (commands that write to the services), so the
    command runs without the field mappings the services cannot take; its findings go to stderr.
    """
    import asyncio

    from bc_tui.config import ConfigError
    from bc_tui.connectors.errors import ConnectorError
    from bc_tui.store.database import DATABASE_ERRORS, database_failure
    from bc_tui.store.errors import StoreError
    from bc_tui.sync.errors import SyncError, plain
    from bc_tui.sync.schema_check import check_schema
    from bc_tui.sync.session import check_connection, open_session

    def show_device_code(sentence: str) -> None:
        # A person signs in (sign_in = "device_code"): the page and the code go to stderr, so
        # that stdout stays the command's report.
        print(f"bc-tui: {sentence}", file=sys.stderr, flush=True)

    async def main(settings: Settings, profile: ConnectionProfile, database_url: str) -> Report:
        async with open_session(
            profile, database_url, mapping_overrides=settings.mappings, show_device_code=show_device_code
        ) as session:
            ctx = Context(args=args, session=session, settings=settings, profile=profile, database_url=database_url)
            if check_mappings:
                # At connect: first that both services answer (the plainer error when a URL is
                # wrong), then the field mappings against their metadata.
                await check_connection(session)
                for finding in await check_schema(session):
                    # The sentence names service field names from the config: printable only.
                    sys.stderr.write(f"bc-tui: warning: {shorten_words(finding.message)}\n")
            try:
                return await body(ctx)
            finally:
                clear_progress(sys.stderr)

    try:
        with connection(args) as (settings, profile, database_url):
            report = asyncio.run(main(settings, profile, database_url))
    except (ConfigError, UsageError) as error:
        return fail(str(error))
    except (SyncError, ConnectorError, StoreError) as error:
        return fail(plain(error))
    except DATABASE_ERRORS as error:
        # A database failure in the middle of a job (disk full, file made read-only, lock held
        # too long): the transaction of the step that failed was rolled back, so say that.
        return fail(str(database_failure(error, args.database or _configured_url(args))))
    # Anything else is a bug; bc_tui.cli.main turns it into one sentence and a log file.
    return emit(args, report)


def _configured_url(args: argparse.Namespace) -> str:
    """The coupling database URL this command used (for a message after a failure)."""
    from bc_tui.config import ConfigError, load_settings

    try:
        return load_settings(args.config).database_url or default_database_url()
    except ConfigError:
        return default_database_url()


def command(
    body: Body, validate: Callable[[argparse.Namespace], None] | None = None, *, check_mappings: bool = False
) -> Callable[[argparse.Namespace], int]:
    """Turn a command body into an argparse handler (``set_defaults(func=command(body))``).

    ``validate`` checks the arguments before anything connects; it raises :class:`UsageError`.
    ``check_mappings``: see :func:`run`.
    """

    def handler(args: argparse.Namespace) -> int:
        if validate is not None:
            try:
                validate(args)
            except UsageError as error:
                return fail(str(error))
        return run(args, body, check_mappings=check_mappings)

    handler.__doc__ = body.__doc__
    return handler


def numbers_or_all(what: str) -> Callable[[argparse.Namespace], None]:
    """A ``validate`` for :func:`command`: the command takes BC numbers or ``--all``, exactly one.

    ``what`` completes the sentence "Name the BC numbers …", e.g. ``"to retry"``.
    """

    def validate(args: argparse.Namespace) -> None:
        if args.all == bool(args.numbers):
            raise UsageError(f"Name the BC numbers {what}, or pass --all (not both).")

    return validate
