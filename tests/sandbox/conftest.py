"""Fixtures of the sandbox tests: ``bc-tui sandbox serve --tls`` in a child process (real https)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import pytest


@contextmanager
def _serve_tls(data: Path, *extra: str) -> Iterator[dict[str, Any]]:
    """Start ``sandbox serve --tls`` on a free loopback port; yield its JSON info line; stop it."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bc_tui.cli",
            "sandbox",
            "serve",
            "--tls",
            "--port",
            "0",
            "--data",
            str(data),
            "--customers",
            "5",
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline() if process.stdout else ""
        if not line:
            raise AssertionError(f"serve --tls printed nothing: {process.stderr.read() if process.stderr else ''}")
        yield json.loads(line)
    finally:
        process.terminate()
        # An https sandbox waits up to 3 s for idle keep-alive connections (MSAL keeps its session open).
        process.wait(timeout=20)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


@pytest.fixture
def serve_tls() -> Callable[..., AbstractContextManager[dict[str, Any]]]:
    """``with serve_tls(data_dir) as info``: a ``sandbox serve --tls`` child process and its info line."""
    return _serve_tls
