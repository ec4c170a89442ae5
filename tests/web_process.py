"""``bc-tui web`` in a subprocess, as a user starts it: the address it prints, then SIGTERM."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

#: What ``bc-tui web`` prints on stdout once it serves: the address to open.
OPEN_LINE = re.compile(r"open (http://\S+) in a web browser")


@dataclass
class Served:
    """A running ``bc-tui web``: its process, the address it printed, and (after it stopped)
    its exit code, the rest of its stdout (its log) and its stderr."""

    process: subprocess.Popen[str]
    url: str
    port: int
    code: int | None = None
    out: str = field(default="")
    err: str = field(default="")


def web_env(tmp_path: Path) -> dict[str, str]:
    """The environment of a bc-tui with no config and its data (the embedded sandbox) in ``tmp_path``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BC_TUI_")}
    env.update(
        BC_TUI_DATA_DIR=str(tmp_path / "data"),
        BC_TUI_CONFIG=str(tmp_path / "no-config.toml"),
        PYTHONUTF8="1",
        LC_ALL="C.UTF-8",
    )
    return env


@contextmanager
def served(tmp_path: Path, *args: str) -> Iterator[Served]:
    """Start ``bc-tui web --port 0 ARGS`` and yield once it prints its address; on leaving, stop
    it with SIGTERM (as a service manager would) and keep its exit code and output."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bc_tui", "web", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=web_env(tmp_path),
    )
    assert process.stdout is not None
    line = process.stdout.readline()  # "" when it stopped before serving
    found = OPEN_LINE.search(line)
    if found is None:
        process.kill()
        _, err = process.communicate(timeout=60)
        raise AssertionError(f"bc-tui web did not start: stdout {line!r}, stderr {err!r}")
    url = found.group(1)
    running = Served(process, url, int(url.rsplit(":", 1)[1]))
    try:
        yield running
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            running.out, running.err = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            running.out, running.err = process.communicate()
        running.code = process.returncode


def descendants(pid: int) -> list[int]:
    """The processes started by ``pid`` and by them, from Linux's /proc."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    found = [int(child) for child in children]
    for child in list(found):
        found += descendants(child)
    return found
