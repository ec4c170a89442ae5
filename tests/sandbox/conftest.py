"""Fixtures of the sandbox tests: ``bc-tui sandbox serve --tls`` in a child process (real https)."""

from __future__ import annotations

import gc
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


@contextmanager
def _dataverse_sdk(data: Path, *extra: str) -> Iterator[Any]:
    """Microsoft's DataverseClient signed in with a client secret at a fresh ``serve --tls`` sandbox."""
    # Imported here: only the SDK tests need the dev extra.
    from azure import identity
    from PowerPlatform.Dataverse import client as sdk

    with _serve_tls(data, *extra) as info, pytest.MonkeyPatch.context() as env:
        # The SDK's requests session trusts the sandbox's CA through the environment (see "Sign-in discovery").
        env.setenv("REQUESTS_CA_BUNDLE", info["ca_cert"])
        env.delenv("CURL_CA_BUNDLE", raising=False)
        origin = info["token_url"].rsplit("/", 4)[0]  # https://127.0.0.1:<port>
        credential = identity.ClientSecretCredential(
            info["tenant"],
            info["client_id"],
            info["client_secret"],
            authority=origin,
            disable_instance_discovery=True,
            connection_verify=info["ca_cert"],
        )
        # Closing the credential too closes its sign-in connection: a keep-alive connection left
        # open makes the https sandbox wait its 3 s grace period before it stops.
        with credential, sdk.DataverseClient(origin, credential) as dataverse:
            try:
                yield dataverse
            finally:
                # An SDK error the test caught keeps its response, and the connection under it,
                # in a reference cycle (traceback and frames): collected now, that connection
                # is closed before the sandbox stops rather than idling out the grace period.
                gc.collect()


@pytest.fixture
def dataverse_sdk() -> Callable[..., AbstractContextManager[Any]]:
    """``with dataverse_sdk(data_dir, *serve_args) as client``: the SDK signed in at a fresh https sandbox."""
    return _dataverse_sdk
