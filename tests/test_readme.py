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


def test_the_test_command_installs_the_browser_test_chromium() -> None:
    """The browser test needs Debian's Chromium: the one test command installs it when missing."""
    assert "apt-get install -y -qq chromium" in _readme_test_command()


def test_readme_has_a_run_command_that_starts_the_app() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "bin/bc-tui" in text.split("<!-- test-command -->")[0]


# --- the key table and the command list --------------------------------------------------------


def _section(start: str, end: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert start in text and end in text, f"README.md must hold {start} … {end}"
    return text.split(start, 1)[1].split(end, 1)[0].strip()


def _readme_keys() -> dict[str, set[str]]:
    """README's key table parsed: binding id → the keys written in its row."""
    rows: dict[str, set[str]] = {}
    for line in _section("<!-- keys -->", "<!-- /keys -->").splitlines()[2:]:
        keys, _action, _where, binding_id = (cell.strip() for cell in line.strip("|").split(" | "))
        rows[binding_id.strip("`")] = set(re.findall(r"`([^`]+)`", keys))
    return rows


def test_readme_lists_every_key_of_every_action() -> None:
    from bc_tui.tui.actions import ACTIONS, key_text

    readme = _readme_keys()
    for row in ACTIONS:
        assert row.id in readme, f"README's key table lacks the action {row.id}"
        assert readme[row.id] == set(key_text(row.keys).split(", ")), f"README's keys for {row.id} are not the app's"
    assert set(readme) == {row.id for row in ACTIONS}, "README lists an action the app does not have"


def test_readme_key_table_is_the_generated_one() -> None:
    from bc_tui.tui.actions import markdown_key_table

    # Print the current one with: python -m bc_tui.tui.actions
    assert _section("<!-- keys -->", "<!-- /keys -->") == markdown_key_table()


def _cli_commands() -> set[str]:
    """Every command and alias the argparse parser accepts, ``sandbox`` subcommands as
    ``sandbox serve``."""
    import argparse

    from bc_tui.cli import build_parser

    def choices(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
        found: dict[str, argparse.ArgumentParser] = {}
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                found.update(action.choices)
        return found

    names: set[str] = set()
    for name, sub in choices(build_parser()).items():
        nested = choices(sub)
        names |= {f"{name} {child}" for child in nested} if nested else {name}
    return names


def test_readme_lists_every_command_and_alias() -> None:
    block = _section("## Command line", "## The sandbox")
    listed: set[str] = set()
    for first, rest in re.findall(r"bc-tui ([a-z-]+)((?: [a-z-]+(?:\|[a-z-]+)*)?)", block):
        listed.add(first)
        if first == "sandbox":
            listed |= {f"sandbox {child}" for child in rest.strip().split("|")}
    commands = _cli_commands()
    assert {"delete-coupling", "uncouple", "sandbox serve"} <= commands
    assert commands <= listed, f"README's command list lacks {sorted(commands - listed)}"
