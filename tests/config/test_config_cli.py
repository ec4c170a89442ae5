"""The real ``bc-tui``: a misspelt key warns once and the command goes on; a wrong type is one
sentence, exit code 2, and nothing written (docs/configuration.md).

The CLI's entry function runs in this process with captured streams: the sentence and the exit
code are the point here, and tests/cli/test_bad_input.py proves a bad config file the same way
through a real subprocess."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from bc_tui.cli import main
from bc_tui.commands.common import SANDBOX_NOTE

EXIT_USAGE = 2


Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Run:
    """``run(ARGS)``: ``bc-tui ARGS`` with its own data folder and no config file but the one passed."""

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        for name in [k for k in os.environ if k.startswith("BC_TUI_")]:
            monkeypatch.delenv(name)
        monkeypatch.setenv("BC_TUI_DATA_DIR", str(tmp_path / "data"))
        monkeypatch.setenv("BC_TUI_CONFIG", str(tmp_path / "no-config.toml"))
        capsys.readouterr()
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse usage errors
            code = exc.code if isinstance(exc.code, int) else 1
        captured = capsys.readouterr()
        return subprocess.CompletedProcess(["bc-tui", *args], code, captured.out, captured.err)

    return cli


def test_misspelt_keys_warn_once_and_the_command_runs(tmp_path: Path, run: Run) -> None:
    ignored = tmp_path / "ignored.sqlite"
    config = tmp_path / "typos.toml"
    config.write_text(
        f'databse_url = "sqlite:///{ignored}"\nrequest_deadline_s = 60\n'
        '[keys]\n"list.mrak" = "x"\n',  # the CLI has no keys: it does not judge [keys] names
        encoding="utf-8",
    )
    result = run("status", "--json", "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("{")
    warnings = [line for line in result.stderr.splitlines() if line.startswith("bc-tui: warning: ")]
    assert warnings == [
        f"bc-tui: warning: In {config}, databse_url is not a setting bc-tui knows "
        "(did you mean database_url?); it is ignored."
    ]
    assert "Traceback" not in result.stderr and "list.mrak" not in result.stderr
    # The misspelt database_url was ignored: the default database was used.
    assert not ignored.exists() and (tmp_path / "data" / "coupling.sqlite").exists()


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (
            '[profiles.contoso]\ntenant = 5\nclient_secret_envv = "X"\n',
            ("profiles.contoso.tenant", "must be a text in quotes, not 5", 'tenant = "…"'),
        ),
        ("databse_url = 'x'\nkeys = 'x'\n", ("keys must be a table ([keys]), not x",)),
        ("[mappings]\nCUSTOMER = 'to-dataverse'\n", ("mappings.CUSTOMER must be a table",)),
        ("request_deadline_s = '300'\n", ("request_deadline_s in", "is 300", "number of seconds from 1 to 3600")),
    ],
)
def test_a_wrong_type_is_one_sentence_and_nothing_is_written(
    tmp_path: Path, run: Run, text: str, words: tuple[str, ...]
) -> None:
    config = tmp_path / "wrong.toml"
    config.write_text(text, encoding="utf-8")
    result = run("status", "--config", str(config))
    assert result.returncode == EXIT_USAGE, (result.stdout, result.stderr)
    assert result.stdout == ""
    # Only the sentence: no warnings about the misspelt key beside it, no traceback.
    lines = [line for line in result.stderr.splitlines() if line != SANDBOX_NOTE]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("bc-tui: ") and "Traceback" not in result.stderr
    for word in (str(config), *words):
        assert word in lines[0], lines[0]
    assert not (tmp_path / "data").exists()
