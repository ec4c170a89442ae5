"""Running ``bc-tui`` subcommands in-process against the embedded sandbox in a temporary folder."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bc_tui.cli import main
from bc_tui.sandbox.store import EntityStore


@dataclass
class Result:
    """What one CLI run printed and returned."""

    code: int
    out: str
    err: str

    @property
    def json(self) -> Any:
        """stdout as the one JSON document ``--json`` promises."""
        return json.loads(self.out)


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """bc-tui's data folder (embedded sandbox + default coupling database) and no config file."""
    folder = tmp_path / "data"
    monkeypatch.setenv("BC_TUI_DATA_DIR", str(folder))
    monkeypatch.setenv("BC_TUI_CONFIG", str(tmp_path / "no-config.toml"))
    for name in ("BC_TUI_PROFILE", "BC_TUI_DATABASE_URL", "BC_TUI_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    return folder


@pytest.fixture
def cli(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    """``cli("status", "--json")`` runs ``bc-tui`` in this process and returns code/stdout/stderr."""

    def run(*args: str) -> Result:
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse usage errors
            code = int(exc.code or 0)
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


class SandboxData:
    """The embedded sandbox's data, read and changed between CLI runs (its server is stopped then)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def rows(self, entity_set: str) -> list[dict[str, Any]]:
        """Copies of every row of ``entity_set`` (``bc/customers``, ``dv/accounts`` …)."""
        store = EntityStore(self.path)
        try:
            return [dict(row) for row in store.rows(entity_set)]
        finally:
            store.close()

    def customer(self, number: str) -> dict[str, Any]:
        """The BC customer with this number."""
        return next(r for r in self.rows("bc/customers") if r["number"] == number)

    def account(self, account_id: str) -> dict[str, Any] | None:
        """The Dataverse account with this id, or None."""
        return next((r for r in self.rows("dv/accounts") if r["accountid"] == account_id), None)

    def edit(self, entity_set: str, key: str, changes: dict[str, Any]) -> None:
        """Change a row as a colleague would (its modified time and ETag move on)."""
        store = EntityStore(self.path)
        try:
            store.update(entity_set, key, changes)
        finally:
            store.close()


@pytest.fixture
def sandbox(data_dir: Path, cli: Callable[..., Result]) -> SandboxData:
    """The embedded sandbox's data folder, seeded by a first ``bc-tui status`` run."""
    assert cli("status").code == 0
    return SandboxData(data_dir / "sandbox" / "sandbox.sqlite")
