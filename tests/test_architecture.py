"""The layering rules of architecture.md, checked with import-linter (contracts in pyproject.toml)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_hold() -> None:
    """Only tui imports textual; domain is pure; the sandbox shares nothing with the client side."""
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from importlinter.cli import lint_imports; sys.exit(lint_imports(no_cache=True))",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "BROKEN" not in result.stdout


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_textual_is_imported_only_under_tui() -> None:
    """A belt-and-braces check that also sees imports inside functions (import-linter does too)."""
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "bc_tui").rglob("*.py")
        if "tui" not in path.relative_to(ROOT / "bc_tui").parts[:1]
        and any(name == "textual" or name.startswith("textual.") for name in _imported_modules(path))
    ]
    assert offenders == []
