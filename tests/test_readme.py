"""README.md and .ci/run must agree on the test command (the two-commands rule)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _readme_test_command() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"<!-- test-command -->\s*```sh\n(.+?)\n```", text, re.S)
    assert match, "README.md must mark its test command with <!-- test-command -->"
    return match.group(1).strip()


def test_ci_runs_exactly_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert _readme_test_command() in ci.splitlines()


def test_readme_has_a_run_command_that_starts_the_app() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "bin/bc-tui" in text.split("<!-- test-command -->")[0]
