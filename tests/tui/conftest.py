"""Test data for the TUI tests: page sources that generate their rows (no service, no store)."""

from __future__ import annotations

import asyncio

import pytest

from bc_tui.tui.app import BcTuiApp
from bc_tui.tui.sources import Column, Row

CUSTOMER_COLUMNS = (
    Column("number", "No.", 8),
    Column("name", "Name", 30),
    Column("city", "City", 16),
    Column("coupled", "Coupled", 8),
)

CITIES = ("Atlanta", "Chicago", "Miami", "Seattle", "Zürich", "Lyon", "Oslo")


class GeneratedSource:
    """A PageSource of ``total`` customers made up on demand; it counts the pages asked for."""

    def __init__(
        self, total: int = 100_000, *, prefix: str = "C", count_known: bool = True
    ) -> None:
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
        sources,
        connection_label=(
            "Sandbox (demo data) · BC production / CRONUS · Dataverse 127.0.0.1:8123 · connected"
        ),
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
