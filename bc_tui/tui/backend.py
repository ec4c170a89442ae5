"""The app's connection: the sync session it works with, and what the header says about it.

Interface: ``Backend(profile, database_url, *, transport=None, embedded_sandbox=None)``
owns one :class:`~bc_tui.sync.session.SyncSession` for the app's lifetime; ``await start()`` opens
it on the app's event loop and proves the connection (never raises); ``state`` says whether the
coupling and sync actions can run, and if not, why and how to fix it in one sentence. The TUI
reaches the session as ``app.backend.session``. No Textual here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from contextlib import AsyncExitStack, suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bc_tui.config import (
    APP_NAME,
    DEFAULT_SECRET_ENV,
    ConfigError,
    ConnectionProfile,
    Settings,
    default_data_dir,
    default_database_url,
    profile_from_sandbox_info,
    resolve_profile,
)
from bc_tui.domain.words import not_connected

if TYPE_CHECKING:
    import httpx

    from bc_tui.sandbox.server import RunningSandbox
    from bc_tui.sync.session import SyncSession

_COMPANY_WIDTH = 20

SANDBOX_LABEL = "Sandbox (demo data)"
"""How the header names the embedded sandbox, so nobody mistakes demo data for their tenant."""


@dataclass(frozen=True)
class ConnectionState:
    """Where the app is connected and whether it works.

    ``ok`` False with no ``problem`` means "still connecting"; ``problem`` is one sentence naming
    the cause and the fix (e.g. "Cannot sign in to Business Central: invalid client secret. Set
    BC_TUI_CLIENT_SECRET or run: keyring set bc-tui contoso").
    """

    ok: bool
    label: str
    problem: str | None = None
    #: While a person must sign in (``sign_in = "device_code"``): the sentence with the page and the code.
    sign_in: str | None = None
    #: The schema check's sentences (field mappings left out or narrowed), shown once at connect.
    schema_findings: tuple[str, ...] = ()

    @property
    def connecting(self) -> bool:
        """Whether the connection is still being made (neither working nor failed yet)."""
        return not self.ok and self.problem is None

    @property
    def status(self) -> str:
        """One word or so for the header: connecting…, connected, or not connected."""
        if self.ok:
            return "connected"
        if self.problem is None and self.sign_in is not None:
            return self.sign_in
        return "connecting…" if self.problem is None else "not connected"

    @property
    def header(self) -> str:
        """The header line: the label and the state."""
        return f"{self.label} · {self.status}" if self.label else self.status


def app_session(app: object) -> SyncSession | None:
    """The app's session (``app.backend.session``) whatever the connection's state, or None:
    the one place that knows where the app keeps it (apps without a backend have none)."""
    return getattr(getattr(app, "backend", None), "session", None)


def store_session(app: object) -> SyncSession | None:
    """A session whose coupling store can be read, connected or not: the app's session, or when
    the services could not be reached the one kept open for its store (``Backend.offline_session``).
    The log and errors screens read local data through it (docs/keys-and-words.md "Offline")."""
    backend = getattr(app, "backend", None)
    return getattr(backend, "session", None) or getattr(backend, "offline_session", None)


def connected_session(app: object) -> SyncSession | None:
    """The app's session when coupling and synchronization can run, else None: the one rule the
    greyed actions, the flows, the card and the errors screen share (a proven connection)."""
    session = app_session(app)
    state = getattr(getattr(app, "backend", None), "state", None)
    if session is None or not getattr(state, "ok", True):
        return None
    return session


def not_connected_text(app: object) -> str:
    """Why coupling and synchronization cannot run now, in the one sentence of ``domain/words.py``."""
    state = getattr(getattr(app, "backend", None), "state", None)
    return not_connected(getattr(state, "problem", None))


# How to obtain the profile (and maybe a sandbox to stop later) once start() runs: starting the
# embedded sandbox takes seconds, so it happens in start() while the app already shows its screen.
_Prepare = Callable[[], "tuple[ConnectionProfile, RunningSandbox | None]"]


class Backend:
    """Owns the SyncSession for the app's lifetime (opened on the app's event loop)."""

    def __init__(
        self,
        profile: ConnectionProfile | None,
        database_url: str | None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        embedded_sandbox: RunningSandbox | None = None,
        mapping_overrides: Mapping[str, Any] | None = None,
        secret_hint: str | None = None,
        label: str | None = None,
        problem: str | None = None,
        prepare: _Prepare | None = None,
    ) -> None:
        """``profile``: where to connect (None only with ``prepare`` or ``problem``);
        ``database_url``: the coupling database (None: the default SQLite file);
        ``transport``: an httpx transport (in-process tests); ``embedded_sandbox``: a sandbox this
        backend started and stops on close; ``secret_hint``: the fix to name when the client
        secret is refused; ``problem``: a failure known before connecting (a bad config);
        ``prepare``: called in a thread by start() to obtain the profile (the embedded sandbox)."""
        self.profile = profile
        self.database_url = database_url
        self.session: SyncSession | None = None
        #: When the services could not be reached after the coupling store opened: the session
        #: kept open for reading the store only (the log and errors screens work offline).
        self.offline_session: SyncSession | None = None
        self._transport = transport
        self._sandbox = embedded_sandbox
        self._overrides = dict(mapping_overrides or {})
        self._secret_hint = secret_hint
        self._prepare = prepare
        self._stack: AsyncExitStack | None = None
        #: Told of a state that changes while start() runs (the device code to sign in with).
        self.on_change: Callable[[ConnectionState], None] | None = None
        self._started = False
        self._start_lock = asyncio.Lock()
        base = label or (self._label_of(profile) if profile is not None else "")
        self.state = ConnectionState(ok=False, label=base, problem=problem)

    # ------------------------------------------------------------------ building

    @classmethod
    def from_settings(cls, settings: Settings, *, profile_name: str | None = None) -> Backend:
        """The backend for the config: its profile when one is configured, else the embedded
        sandbox (started by ``start()``, labelled "Sandbox (demo data)"). Never raises: a bad
        config becomes a backend whose state names the problem."""
        database_url = settings.database_url or default_database_url()
        if profile_name or settings.has_profile:
            try:
                profile = resolve_profile(settings, profile_name)
            except ConfigError as error:
                name = profile_name or settings.profile_name or "profile"
                return cls(None, database_url, label=f"Profile {name}", problem=str(error))
            raw = settings.profiles.get(profile.name, {})
            variable = str(raw.get("client_secret_env") or DEFAULT_SECRET_ENV)
            hint = f"Set {variable} or run: keyring set {APP_NAME} {profile.name}"
            return cls(profile, database_url, mapping_overrides=settings.mappings, secret_hint=hint)
        return cls(
            None,
            database_url,
            mapping_overrides=settings.mappings,
            label=SANDBOX_LABEL,
            prepare=_start_embedded_sandbox,
        )

    # ------------------------------------------------------------------ lifecycle

    @property
    def started(self) -> bool:
        """Whether start() has finished (successfully or not)."""
        return self._started

    async def start(self) -> ConnectionState:
        """Open the session and check both services answer; never raises.

        Calling it again returns the state of the first call (the fixtures start the backend
        before the app mounts, and the app starts it again at mount).
        """
        async with self._start_lock:
            if self._started:
                return self.state
            try:
                self.state = await self._connect()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - whatever it is, the screen says it
                if self.offline_session is None:
                    await self._close_session()
                self.state = ConnectionState(False, self.state.label, self._problem_of(error))
            self._started = True
            return self.state

    async def _connect(self) -> ConnectionState:
        from bc_tui.sync.schema_check import check_schema
        from bc_tui.sync.session import check_connection, open_session

        if self.state.problem is not None:
            return self.state
        profile = self.profile
        if profile is None:
            if self._prepare is None:
                return ConnectionState(False, self.state.label, "No connection is configured.")
            prepared, self._sandbox = await asyncio.to_thread(self._prepare)
            profile = self.profile = prepared
        self.state = ConnectionState(False, self._label_of(profile))
        stack = AsyncExitStack()
        self._stack = stack
        loop = asyncio.get_running_loop()

        def show_device_code(sentence: str) -> None:
            # Called from the sign-in's worker thread: hand the sentence to the event loop.
            loop.call_soon_threadsafe(self._signing_in, sentence)

        session = await stack.enter_async_context(
            open_session(
                profile,
                self.database_url,
                transport=self._transport,
                mapping_overrides=self._overrides,
                show_device_code=show_device_code,
            )
        )
        # Kept should the services fail: the store alone still serves the log and errors screens.
        self.offline_session = session
        await check_connection(session)
        findings = await check_schema(session)
        company = await self._company_name(session)
        # Published only once proven: the lists treat a session as "connected".
        self.offline_session = None
        self.session = session
        return ConnectionState(
            True, self._label_of(profile, company), schema_findings=tuple(f.message for f in findings)
        )

    def _signing_in(self, sentence: str) -> None:
        """A person must sign in at a page with a code: say so until the connection is made."""
        self.state = ConnectionState(False, self.state.label, sign_in=sentence)
        if self.on_change is not None:
            self.on_change(self.state)

    @staticmethod
    async def _company_name(session: SyncSession) -> str | None:
        """The company's display name for the header (None when it has none)."""
        companies = await session.bc.companies()
        wanted = session.bc.company_id.lower()
        for company in companies:
            if str(company.get("id", "")).lower() == wanted:
                return str(company.get("displayName") or company.get("name") or "") or None
        return None

    async def close(self) -> None:
        """Close the session and stop the embedded sandbox (if this backend started one)."""
        await self._close_session()
        sandbox, self._sandbox = self._sandbox, None
        if sandbox is not None:
            await asyncio.to_thread(sandbox.stop)

    async def _close_session(self) -> None:
        stack, self._stack = self._stack, None
        self.session = None
        self.offline_session = None
        if stack is not None:
            # Closing a broken connection must not crash the exit.
            with suppress(Exception):
                await stack.aclose()

    # ------------------------------------------------------------------ words

    @staticmethod
    def _label_of(profile: ConnectionProfile, company: str | None = None) -> str:
        """E.g. "Sandbox (demo data) · BC production / CRONUS USA, Inc. · Dataverse 127.0.0.1:8123"."""
        who = SANDBOX_LABEL if profile.is_sandbox else f"Profile {profile.name}"
        company_text = company or profile.bc_company_id[:8]
        if len(company_text) > _COMPANY_WIDTH:  # the header is one line: keep the state in view
            company_text = company_text[: _COMPANY_WIDTH - 1] + "…"
        return f"{who} · BC {profile.bc_environment} / {company_text} · Dataverse {profile.dataverse_org}"

    def _problem_of(self, error: BaseException) -> str:
        """One sentence: what went wrong and what to do."""
        from bc_tui.sync.errors import AuthenticationFailed, plain

        message = plain(error)
        if isinstance(error, OSError) and self.profile is None:
            return f"The built-in sandbox could not start ({message}); free a loopback port or configure a profile."
        # A refused secret gets the fix for the secret; a certificate or a person's sign-in keeps
        # the connector's sentence, which names what to check for that way of signing in.
        signs_in_with_secret = self.profile is None or self.profile.sign_in == "client_secret"
        if (
            signs_in_with_secret
            and isinstance(error, AuthenticationFailed)
            and error.service_code
            in (
                "invalid_client",
                "unauthorized_client",
            )
        ):
            service = "Dataverse" if "Dataverse" in message.split(":")[0] else "Business Central"
            cause = "invalid client secret" if "secret" in message.lower() else "the client id or tenant was refused"
            # No full stop after the fix: it ends with a command to copy.
            fix = self._secret_hint or "Check the client id and secret of the connection."
            return f"Cannot sign in to {service}: {cause}. {fix}"
        if message and message[-1] not in ".!?":
            message += "."
        return message


def _start_embedded_sandbox() -> tuple[ConnectionProfile, RunningSandbox]:
    """Start the demo-data sandbox on loopback (blocking: run in a thread)."""
    from bc_tui.sandbox.server import start_in_thread
    from bc_tui.sandbox.settings import SandboxSettings

    running = start_in_thread(SandboxSettings(data_dir=default_data_dir() / "sandbox"))
    return profile_from_sandbox_info(running.info), running
