"""A bare host app for the card, dialog and flow tests: the real `Backend` on the in-process
sandbox, without the main screen's lists (faster, and snapshots that do not depend on them).

``FlowHost(backend, start=lambda: CardScreen(...))`` pushes the screen the test starts from;
``host.run_flow(coro)`` runs a flow in a worker as the main screen does, keeping its result.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest_textual_snapshot
from textual.app import App, ComposeResult
from textual.screen import Screen
from textual.widgets import Input, Static

from bc_tui.config import profile_from_sandbox_info
from bc_tui.sandbox.inprocess import asgi_transport
from bc_tui.tui.backend import Backend
from bc_tui.tui.themes import readable


class _Home(Screen[None]):
    def compose(self) -> ComposeResult:
        yield Static("home", id="home")


class FlowHost(App[None]):
    """Holds ``backend`` as the real app does (``app.backend.session``).

    ``own_backend``: start the backend on the app's own event loop and close it on exit (the
    snapshot tests, which run the app outside pytest's loop).
    """

    TITLE = "bc-tui"

    def __init__(
        self,
        backend: Backend,
        *,
        start: Callable[[], Screen[Any]] | None = None,
        theme: str = "textual-dark",
        own_backend: bool = False,
    ) -> None:
        super().__init__()
        self.backend = backend
        self._start = start
        self._own_backend = own_backend
        self.theme = theme
        self.flow_results: list[Any] = []

    def get_default_screen(self) -> Screen[Any]:
        return _Home()

    def get_css_variables(self) -> dict[str, str]:
        # The theme's colours as the real app draws them (bc_tui/tui/themes.py).
        return readable(self.theme, super().get_css_variables())

    async def on_mount(self) -> None:
        if self._own_backend:
            state = await self.backend.start()
            assert state.ok, state.problem
        if self._start is not None:
            self.push_screen(self._start())

    async def on_unmount(self) -> None:
        if self._own_backend:
            await self.backend.close()

    def run_flow(self, flow: Coroutine[Any, Any, Any]) -> None:
        """Run ``flow`` in a worker (flows wait for dialogs) and keep what it returns."""

        async def keep() -> None:
            self.flow_results.append(await flow)

        self.run_worker(keep(), group="test-flow")


FLOW_GROUPS = frozenset({"test-flow", "card-flow", "actions", "card"})
"""Worker groups that run flows: they wait for dialogs, so a test never waits for them to end."""


async def settle(pilot: Any, *, flows_too: bool = False) -> None:
    """Let the app finish its loading workers (not the flows waiting on a dialog) and redraw."""
    app = pilot.app
    for _ in range(3):
        await pilot.pause()
        busy = [w for w in app.workers if not w.is_finished and (flows_too or w.group not in FLOW_GROUPS)]
        if busy:
            await app.workers.wait_for_complete(busy)
    await pilot.pause()


def hold_cursor_shown(app: Any) -> None:
    """Stop the focused input's cursor blinking, in its shown phase, before a snapshot.

    An input's cursor blinks every half second, so on a busy machine the picture caught either
    phase and the snapshot failed now and then; the snapshots show it as it is right after a key.
    """
    if isinstance(app.focused, Input):
        app.focused._pause_blink(visible=True)  # Textual's own call when the blinking pauses


async def press_and_settle(pilot: Any, *keys: str) -> None:
    """Press ``keys`` one by one, letting the app's loading workers finish after each."""
    for key in keys:
        await pilot.press(key)
        await settle(pilot)


async def erase(pilot: Any, count: int) -> None:
    """Press backspace ``count`` times (no waiting between), then settle."""
    await pilot.press(*["backspace"] * count)
    await settle(pilot)


async def type_text(pilot: Any, text: str) -> None:
    """Type ``text`` key by key (as a user would), then let the type-ahead finish."""
    await pilot.press(*[{" ": "space"}.get(ch, ch) for ch in text])
    await settle(pilot)


def unstarted_backend(sandbox_app: Any, sandbox_info: dict[str, Any], database_url: str) -> Backend:
    """A backend on the in-process sandbox that the app starts itself (``own_backend=True``)."""
    return Backend(profile_from_sandbox_info(sandbox_info), database_url, transport=asgi_transport(sandbox_app))


SNAPSHOT_SIZE = (120, 40)
SNAPSHOT_DIR = Path(__file__).parent / "snapshots"


class _SnapshotsDirExtension(pytest_textual_snapshot.SVGImageExtension):
    """Store the SVGs in tests/tui/snapshots/<module>/, as the foundation's snapshots are."""

    @classmethod
    def dirname(cls, *, test_location: Any) -> str:
        return str(SNAPSHOT_DIR / test_location.basename)


def use_snapshot_folder(monkeypatch: Any) -> None:
    """Make ``snap_compare`` keep its SVGs in tests/tui/snapshots/ (call from an autouse fixture)."""
    monkeypatch.setattr(pytest_textual_snapshot, "SVGImageExtension", _SnapshotsDirExtension)


async def couple_listed_customers(app: Any, session: Any, count: int) -> list[Any]:
    """Couple the first ``count`` customers of ``app``'s list to new Dataverse accounts and
    synchronize them once (the baseline a later edit is measured from); their couplings."""
    from bc_tui.store.coupling_queries import get_by_bc_id
    from bc_tui.sync.create import create_in_dataverse
    from bc_tui.sync.modified import synchronize_modified

    customers = app.main_screen.record_list("customers")
    assert customers is not None
    ids = [customers.row_at(i).key for i in range(count)]
    assert (await create_in_dataverse(session, "CUSTOMER", ids, allow_duplicates=True)).count("inserted") == count
    await synchronize_modified(session, "CUSTOMER")
    return [get_by_bc_id("CUSTOMER", bc_id) for bc_id in ids]
