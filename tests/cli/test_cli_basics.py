"""The `bc-tui` command's own basics: help, version, usage errors."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bc_tui import __version__
from bc_tui.cli import EXIT_USAGE, main


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bc_tui.cli", *args], capture_output=True, text=True, timeout=60)


def test_version_prints_the_package_version() -> None:
    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"bc-tui {__version__}"


def test_help_explains_the_sandbox_and_lists_commands() -> None:
    result = run_cli("--help")
    assert result.returncode == 0
    assert "sandbox" in result.stdout
    assert "Business Central" in result.stdout


def test_help_does_not_import_heavy_modules() -> None:
    """--help must answer quickly: the UI toolkit and servers are imported lazily."""
    probe = (
        "import sys; from bc_tui.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('textual', 'starlette', 'uvicorn', 'httpx', 'peewee') if m in sys.modules]\n"
        "print('HEAVY=' + ','.join(heavy))"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert "HEAVY=\n" in result.stdout or result.stdout.strip().endswith("HEAVY="), result.stdout


def test_unknown_command_is_a_usage_error(capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["no-such-command"])
    assert exc.value.code == EXIT_USAGE
    err = capsys.readouterr().err
    assert "invalid choice" in err and "--help" in err
    assert "Traceback" not in err
