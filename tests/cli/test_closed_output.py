"""A reader that stops early (``bc-tui log | head -1``) ends bc-tui quietly, without a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_output_to_a_closed_pipe_is_no_traceback(tmp_path: Path) -> None:
    env = dict(os.environ, BC_TUI_DATA_DIR=str(tmp_path / "data"), BC_TUI_CONFIG=str(tmp_path / "no-config.toml"))
    for name in ("BC_TUI_PROFILE", "BC_TUI_DATABASE_URL"):
        env.pop(name, None)
    process = subprocess.Popen(
        [sys.executable, "-m", "bc_tui.cli", "log"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    # Closing our end before bc-tui prints (its start-up takes far longer than this) is what
    # `head` does once it has its lines: every later write of bc-tui meets a broken pipe.
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()
    err = process.stderr.read().decode()
    code = process.wait(timeout=60)
    assert "Traceback" not in err and "BrokenPipeError" not in err and "Exception ignored" not in err, err
    assert code == 141  # what a shell reports for a command ended by SIGPIPE (128 + 13)
