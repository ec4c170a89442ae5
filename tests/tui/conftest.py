"""Fixtures of the TUI tests.

- ``tui_backend`` / ``tui_app``: the real app on the in-process sandbox (``sandbox_app`` holds its
  data: ``sandbox_app.state.store.rows("bc/customers")``) with a fresh coupling database; run it
  with ``async with tui_app.run_test(size=(120, 40)) as pilot``.
- ``make_app`` / ``generated_source``: the app over page sources that make their rows up (no
  service, no store), for the list mechanics.
- ``parsed_css_shared`` (automatic): every app of the worker reuses the parsed CSS (below).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from textual.css.model import RuleSet
from textual.css.stylesheet import Stylesheet

from bc_tui.config import profile_from_sandbox_info
from bc_tui.sandbox.inprocess import asgi_transport
from bc_tui.tui.app import BcTuiApp
from bc_tui.tui.backend import Backend
from bc_tui.tui.sources import Column, Row

TUI_SIZE = (120, 40)
"""The terminal size every TUI test and snapshot uses."""

_PARSED_CSS: dict[tuple[Any, ...], list[RuleSet]] = {}
"""Rule sets parsed by Textual, by CSS source, origin, scope and CSS variables (theme)."""


@pytest.fixture(scope="session", autouse=True)
def parsed_css_shared() -> Iterator[None]:
    """Parse each CSS source once per worker, not once per app and again on each new screen.

    Textual keeps parsed rules in a cache of each `Stylesheet`, so every app of every test parses
    the CSS of Textual's widgets and ours anew, and `Stylesheet.reparse` (run when a screen with CSS
    of its own is first shown, and when the theme changes) starts from an empty cache: about a tenth
    of a TUI test's CPU. Parsing is a pure function of the source, its origin and the CSS variables,
    and Textual itself reuses the parsed rule sets between the parses of one app, so sharing them
    between apps changes nothing on screen (the SVG snapshots prove it).
    """
    parse_rules = Stylesheet._parse_rules

    def parse_rules_once(
        stylesheet: Stylesheet,
        css: str,
        read_from: Any,
        is_default_rules: bool = False,
        tie_breaker: int = 0,
        scope: str = "",
    ) -> list[RuleSet]:
        key = (css, read_from, is_default_rules, tie_breaker, scope, tuple(sorted(stylesheet._variables.items())))
        rules = _PARSED_CSS.get(key)
        if rules is None:
            rules = _PARSED_CSS[key] = parse_rules(stylesheet, css, read_from, is_default_rules, tie_breaker, scope)
        return rules

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Stylesheet, "_parse_rules", parse_rules_once)
        yield


@pytest.fixture
def tui_database_url(tmp_path: Path) -> str:
    """A coupling database file of its own for each test."""
    return f"sqlite:///{tmp_path / 'tui-coupling.sqlite'}"


@pytest.fixture
async def tui_backend(
    sandbox_app: Starlette, sandbox_info: dict[str, Any], tui_database_url: str
) -> AsyncIterator[Backend]:
    """A started `Backend` on the in-process sandbox (``backend.session`` is open)."""
    backend = Backend(
        profile_from_sandbox_info(sandbox_info),
        tui_database_url,
        transport=asgi_transport(sandbox_app),
    )
    state = await backend.start()
    assert state.ok, state.problem
    try:
        yield backend
    finally:
        await backend.close()


@pytest.fixture
def tui_app(tui_backend: Backend) -> BcTuiApp:
    """The real app on ``tui_backend``: the four record lists of the sandbox's data."""
    return BcTuiApp(backend=tui_backend)


CUSTOMER_COLUMNS = (
    Column("number", "No.", 8),
    Column("name", "Name", 30),
    Column("city", "City", 16),
    Column("coupled", "Coupled", 8),
)

CITIES = ("Atlanta", "Chicago", "Miami", "Seattle", "Zürich", "Lyon", "Oslo")


class GeneratedSource:
    """A PageSource of ``total`` customers made up on demand; it counts the pages asked for."""

    def __init__(self, total: int = 100_000, *, prefix: str = "C", count_known: bool = True) -> None:
        self.columns = CUSTOMER_COLUMNS
        self.total = total
        self.prefix = prefix
        self.count_known = count_known
        self.page_calls: list[tuple[int, int]] = []
        self.gate: asyncio.Event | None = None  # when set up, pages wait for it to open

    def key(self, index: int) -> str:
        """The stable key of row ``index``."""
        return f"{self.prefix}{index:06d}"

    async def count(self) -> int | None:
        await asyncio.sleep(0)
        return self.total if self.count_known else None

    async def page(self, start: int, size: int) -> list[Row]:
        self.page_calls.append((start, size))
        await asyncio.sleep(0)
        if self.gate is not None:
            await self.gate.wait()
        return [
            Row(
                key=self.key(index),
                cells={
                    "number": f"{index + 10000}",
                    "name": f"{self.prefix} Customer {index}",
                    "city": CITIES[index % len(CITIES)],
                    "coupled": "yes" if index % 3 == 0 else "",
                },
                style="dim" if index % 11 == 10 else None,
            )
            for index in range(start, min(start + size, self.total))
        ]


def build_app(total: int = 100_000, **kwargs) -> tuple[BcTuiApp, dict[str, GeneratedSource]]:
    """The app over four generated tables (customers has ``total`` rows)."""
    sources = {
        "customers": GeneratedSource(total),
        "contacts": GeneratedSource(250, prefix="K"),
        "dataverse-accounts": GeneratedSource(1200, prefix="A"),
        "dataverse-contacts": GeneratedSource(0, prefix="D"),
    }
    app = BcTuiApp(
        sources=sources,
        connection_label=("Sandbox (demo data) · BC production / CRONUS · Dataverse 127.0.0.1:8123 · connected"),
        **kwargs,
    )
    return app, sources


@pytest.fixture
def make_app():
    """``make_app(total=..., **BcTuiApp kwargs)`` → (app, sources by tab id)."""
    return build_app


@pytest.fixture
def generated_source():
    """The `GeneratedSource` class: ``generated_source(total, prefix=..., count_known=...)``."""
    return GeneratedSource
