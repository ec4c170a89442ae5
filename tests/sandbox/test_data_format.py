"""The sandbox data folder holds data that cannot run code; a bad folder gets a sentence and ``reset`` repairs it.

What matters is the CLI's exit code, its one line on stderr and that no traceback (and no
planted code) ever runs. ``sandbox serve`` always runs in a subprocess, as a user runs it (a serve
that wrongly starts is killed, not left serving in the test); ``edit`` and ``reset``, which end by
themselves, run the CLI's entry function in this process (a new process costs most of a second of
imports), except when they must run as another user.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import pickle
import shutil
import sqlite3
import subprocess
import sys
import sysconfig
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

import bc_tui
from bc_tui.cli import main
from bc_tui.sandbox import demo_data
from bc_tui.sandbox.data_format import decode_chunk, encode_chunk
from bc_tui.sandbox.settings import SandboxSettings
from bc_tui.sandbox.store import EntityStore, SandboxDataError

_NOBODY = 65534
_CUSTOMERS = 5


def _as_nobody() -> tuple[str, dict[str, str]]:
    """An interpreter and environment with which another user than root can run bc-tui.

    This venv's interpreter may live in root's home, which other users can't enter; the
    system's Python of the same version can run our code and this venv's packages.
    """
    system = Path(f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}")
    if not system.exists():
        pytest.skip(f"running as root and there is no {system} to run bc-tui as another user")
    paths = sysconfig.get_paths()
    pythonpath = os.pathsep.join(
        dict.fromkeys([str(Path(bc_tui.__file__).parents[1]), paths["purelib"], paths["platlib"]])
    )
    return str(system), {"PYTHONPATH": pythonpath}


def _bc_tui(*args: str, user: int | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real ``bc-tui`` command line; a ``serve`` that starts is stopped and fails the test."""
    python, extra_env = (sys.executable, {}) if user is None else _as_nobody()
    extra: dict[str, Any] = {"user": user, "group": user, "extra_groups": []} if user is not None else {}
    command = [python, "-m", "bc_tui.cli", *args]
    with subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **extra_env, **(env or {})},
        cwd=tempfile.gettempdir(),
        **extra,
    ) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        first = proc.stdout.readline()  # a server's ready line, or "" once the command has ended
        if first and args[:2] == ("sandbox", "serve"):
            proc.kill()
            pytest.fail(f"the sandbox started instead of refusing the folder: {first}")
        out, err = proc.communicate(timeout=120)
    return subprocess.CompletedProcess(command, proc.returncode, first + out, err)


def _bc_tui_here(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the CLI's entry function in this process with captured streams (a command that ends by itself)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse usage errors
            code = exc.code if isinstance(exc.code, int) else 1
    return subprocess.CompletedProcess(["bc-tui", *args], code, out.getvalue(), err.getvalue())


def _assert_one_sentence(result: subprocess.CompletedProcess[str], folder: Path, *words: str) -> str:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr and result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    [line] = lines
    assert line.startswith("bc-tui: The sandbox data folder ") and line.endswith(".")
    assert str(folder) in line and f"bc-tui sandbox reset --data {folder}" in line
    for word in words:
        assert word in line
    return line


def _seeded_folder(folder: Path, customers: int = _CUSTOMERS) -> Path:
    """A data folder with demo data, every change folded into the file (the write-ahead log emptied)."""
    path = folder / "sandbox.sqlite"
    store = EntityStore(path)
    demo_data.ensure_seeded(store, SandboxSettings(customers=customers))
    store.close()
    for thread in threading.enumerate():  # the store copies a big load into the file in the background
        if thread.name == "sandbox-checkpoint":
            thread.join()
    with closing(sqlite3.connect(path, timeout=10.0)) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


def _customers_after_reset(folder: Path, user: int | None = None) -> int:
    reset = ("sandbox", "reset", "--data", str(folder), "--customers", str(_CUSTOMERS))
    result = _bc_tui(*reset, user=user) if user is not None else _bc_tui_here(*reset)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and str(folder) in result.stdout
    store = EntityStore(folder / "sandbox.sqlite")
    try:
        return store.count("bc/customers")
    finally:
        store.close()


# ------------------------------------------------------------ planted code


class _Plant:
    """Unpickling this creates the folder ``marker``: a stand-in for any code an attacker likes."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Callable[..., Any], tuple[str]]:
        return os.mkdir, (str(self.marker),)


def _payload(marker: Path) -> bytes:
    return pickle.dumps([("key", _Plant(marker))], 5)


def test_the_planted_payload_would_run_if_anything_unpickled_it(tmp_path: Path) -> None:
    # The control for the tests below: this payload really runs code when unpickled.
    marker = tmp_path / "control-marker"
    pickle.loads(_payload(marker))
    assert marker.is_dir()


def test_a_planted_pickle_in_a_chunk_does_not_run_and_gets_the_sentence(tmp_path: Path) -> None:
    folder, marker = tmp_path / "data", tmp_path / "marker"
    path = _seeded_folder(folder)
    with closing(sqlite3.connect(path, timeout=10.0)) as db, db:
        changed = db.execute(
            "UPDATE entity SET data = ? WHERE key IS NULL AND entity_set = 'bc/customers'", (_payload(marker),)
        ).rowcount
    assert changed == 1

    result = _bc_tui("sandbox", "serve", "--port", "0", "--data", str(folder))
    _assert_one_sentence(result, folder, "sandbox.sqlite is damaged: a chunk of rows is not valid JSON")
    assert not marker.exists()
    with pytest.raises(SandboxDataError):
        EntityStore(path)  # in this process too
    assert not marker.exists()
    assert _customers_after_reset(folder) == _CUSTOMERS
    assert not marker.exists()


def _old_pickle_folder(folder: Path, marker: Path) -> Path:
    """A data folder as the previous bc-tui wrote it (format 2: pickled chunks), with a planted chunk."""
    folder.mkdir(parents=True)
    path = folder / "sandbox.sqlite"
    with closing(sqlite3.connect(path, timeout=10.0)) as db, db:
        db.execute("""CREATE TABLE entity(pos INTEGER PRIMARY KEY AUTOINCREMENT, entity_set TEXT NOT NULL, key TEXT,
                      version INTEGER NOT NULL, data BLOB NOT NULL, UNIQUE (entity_set, key))""")
        db.execute(
            "CREATE TABLE tombstone(entity_set TEXT NOT NULL, key TEXT NOT NULL, version INTEGER NOT NULL, modified TEXT NOT NULL)"
        )
        db.execute("CREATE TABLE meta(name TEXT PRIMARY KEY, value TEXT NOT NULL)")
        db.execute(
            "INSERT INTO entity(entity_set, key, version, data) VALUES ('bc/companies', NULL, 1, ?)",
            (_payload(marker),),
        )
        db.execute("INSERT INTO meta VALUES ('version', '1')")
        db.execute("PRAGMA user_version=2")
    return path


def test_a_folder_in_the_old_pickle_format_is_never_unpickled_and_reset_recreates_it(tmp_path: Path) -> None:
    folder, marker = tmp_path / "data", tmp_path / "marker"
    _old_pickle_folder(folder, marker)
    result = _bc_tui("sandbox", "serve", "--port", "0", "--data", str(folder))
    _assert_one_sentence(result, folder, "was made by an older bc-tui")
    assert not marker.exists()
    assert _customers_after_reset(folder) == _CUSTOMERS
    assert not marker.exists()


def test_any_command_on_the_embedded_sandbox_gets_the_sentence_for_an_old_folder(tmp_path: Path) -> None:
    data, marker = tmp_path / "bc-tui-data", tmp_path / "marker"
    _old_pickle_folder(data / "sandbox", marker)
    env = {
        "BC_TUI_DATA_DIR": str(data),
        "BC_TUI_CONFIG": str(tmp_path / "no-config.toml"),
        "BC_TUI_PROFILE": "",
        "BC_TUI_DATABASE_URL": "",
    }
    result = _bc_tui("status", env=env)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    [note, line] = result.stderr.splitlines()  # the "Using the built-in sandbox" note, then the sentence
    assert "built-in sandbox" in note
    assert line.startswith(f"bc-tui: The sandbox data folder {data / 'sandbox'} was made by an older bc-tui")
    assert f"bc-tui sandbox reset --data {data / 'sandbox'}" in line
    assert not marker.exists()


# ------------------------------------------------------------ corruption


def _garbage(path: Path) -> None:
    path.write_bytes(b"this is not a database, just some text " * 100)


def _truncated(path: Path) -> None:
    os.truncate(path, path.stat().st_size // 2)


def _chunk_not_json(path: Path) -> None:
    with closing(sqlite3.connect(path, timeout=10.0)) as db, db:
        db.execute("UPDATE entity SET data = '[[\"cut off' WHERE key IS NULL AND entity_set = 'dv/accounts'")


def _chunk_wrong_shape(path: Path) -> None:
    with closing(sqlite3.connect(path, timeout=10.0)) as db, db:
        db.execute(
            'UPDATE entity SET data = \'[[["_version", "_modified"], ["a", "b"], [[1], [2]]]]\' '
            "WHERE key IS NULL AND entity_set = 'bc/contacts'"
        )


def _row_not_json(path: Path) -> None:
    with closing(sqlite3.connect(path, timeout=10.0)) as db, db:
        db.execute("INSERT INTO entity(entity_set, key, version, data) VALUES ('bc/customers', 'x', 999, '{\"_ver')")


def _folder_for_file(path: Path) -> None:
    path.unlink()
    (path / "something").mkdir(parents=True)


def _folder_for_wal(path: Path) -> None:
    wal = path.with_name(path.name + "-wal")
    wal.unlink(missing_ok=True)
    wal.mkdir()


_CORRUPTIONS: dict[str, tuple[Callable[[Path], None], str]] = {
    "garbage file": (_garbage, "sandbox.sqlite is damaged: SQLite says file is not a database"),
    "truncated file": (_truncated, "sandbox.sqlite is damaged: SQLite says"),
    "chunk not JSON": (_chunk_not_json, "a chunk of rows is not valid JSON"),
    "chunk of another shape": (_chunk_wrong_shape, "a chunk of rows is not in the expected shape"),
    "row not JSON": (_row_not_json, "a row is not valid JSON"),
    "folder for the file": (_folder_for_file, "sandbox.sqlite is a folder, not a file"),
    "folder for the write-ahead log": (_folder_for_wal, "sandbox.sqlite-wal is a folder, not a file"),
}


@pytest.mark.parametrize("name", list(_CORRUPTIONS))
def test_a_corrupt_folder_gets_one_sentence_from_serve_and_edit_and_reset_repairs_it(tmp_path: Path, name: str) -> None:
    corrupt, cause = _CORRUPTIONS[name]
    folder = tmp_path / "data"
    corrupt(_seeded_folder(folder))

    line = _assert_one_sentence(_bc_tui("sandbox", "serve", "--port", "0", "--data", str(folder)), folder, cause)
    edit = _bc_tui_here("sandbox", "edit", "--side", "bc", "--data", str(folder))
    assert _assert_one_sentence(edit, folder) == line
    assert _customers_after_reset(folder) == _CUSTOMERS


def test_a_missing_data_file_is_made_again_even_with_a_stale_log_beside_it(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    path = _seeded_folder(folder)
    store = EntityStore(path)
    store.update("bc/customers", next(iter(store.rows("bc/customers")))["id"], {"city": "Oslo"})
    shutil.copy(path.with_name("sandbox.sqlite-wal"), tmp_path / "stale-wal")
    store.close()
    path.unlink()
    shutil.copy(tmp_path / "stale-wal", path.with_name("sandbox.sqlite-wal"))

    result = _bc_tui_here("sandbox", "edit", "--side", "bc", "--data", str(folder), "--seed", "1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Changed BC customer ")
    store = EntityStore(path)
    assert store.count("bc/customers") == SandboxSettings().customers  # seeded again, with the default size
    store.close()


@pytest.fixture
def shared_folder() -> Iterator[Path]:
    """A folder outside pytest's private temp tree, so that another user can reach it."""
    top = Path(tempfile.mkdtemp(prefix="bc-tui-sbx-"))
    top.chmod(0o755)
    try:
        yield top / "data"
    finally:
        shutil.rmtree(top, ignore_errors=True)


def test_an_unreadable_data_file_gets_one_sentence_and_reset_repairs_it(shared_folder: Path) -> None:
    path = _seeded_folder(shared_folder)
    user = None
    if os.geteuid() == 0:  # root reads anything: run the CLI as an ordinary user instead
        user = _NOBODY
        for item in (shared_folder, path):
            os.chown(item, _NOBODY, _NOBODY)
    path.chmod(0)

    result = _bc_tui("sandbox", "serve", "--port", "0", "--data", str(shared_folder), user=user)
    _assert_one_sentence(result, shared_folder, "no permission to read and write sandbox.sqlite")
    assert _customers_after_reset(shared_folder, user=user) == _CUSTOMERS


def test_a_data_folder_that_is_a_file_gets_a_sentence_without_reset_as_the_fix(tmp_path: Path) -> None:
    # Only through the store: the command line refuses such a --data before (the `input` work).
    folder = tmp_path / "data"
    folder.write_text("not a folder")
    with pytest.raises(SandboxDataError, match="it is a file, not a folder") as raised:
        EntityStore(folder / "sandbox.sqlite")
    assert str(folder) in str(raised.value) and "reset" not in str(raised.value)
    assert folder.read_text() == "not a folder"


# ------------------------------------------------------------ round trips


def _exact(pairs: Any) -> list[Any]:
    """Keys, field order, types and reprs: tells 1 from 1.0 from True, -0.0 from 0.0, and NaN."""
    return [(key, [(name, type(value).__name__, repr(value)) for name, value in row.items()]) for key, row in pairs]


_ODD_ROWS: list[tuple[str, dict[str, Any]]] = [
    (
        f"k{i}",
        {
            "text": [
                "",
                "plain",
                "Zoë \u202e ⚠ 漢字",
                'quote " back\\slash',
                "del \x7f inside",
                "lone \ud800 surrogate",
                "\x00\x1b[2J",
                "x" * 10_000,
            ][i % 8],
            "same": "every row",
            "few": ("a", "b", "c")[i % 3],
            "many": f"value {i // 2 % 300}",  # more distinct values than one byte can number
            "count": 100 + i,
            "big": [2**70, -(2**63), 0, True, False, 7][i % 6],
            "real": [0.1, -0.0, math.inf, -math.inf, math.nan, 5e-324, 1.7976931348623157e308, 3.0][i % 8],
            "floats": [0.5, -0.0, math.nan, 1e-300][i % 4],
            "maybe": [None, "x", None, 1.5][i % 4],
            "nested": {"list": [1, "two", None, [3.5]], "flag": i % 2 == 0} if i % 5 else [],
            "flag": True,
            "nothing": None,
            "_version": i + 1,
            "_modified": f"2026-11-23T22:18:36.{i:06d}Z",
        },
    )
    for i in range(1_200)
]
_ODD_ROWS.insert(17, ("reordered", {"_modified": "2026-01-01T00:00:00.000000Z", "_version": 0, "text": "order kept"}))
_ODD_ROWS.insert(40, ("fewer", {"_version": 1, "_modified": "", "extra": [1, 2]}))


def test_every_stored_value_type_round_trips_exactly_through_a_chunk() -> None:
    assert _exact(decode_chunk(encode_chunk(_ODD_ROWS))) == _exact(_ODD_ROWS)


def test_every_stored_value_type_round_trips_exactly_through_the_file(tmp_path: Path) -> None:
    path = tmp_path / "sandbox.sqlite"
    store = EntityStore(path)
    rows = [
        (key, {k: v for k, v in row.items() if not k.startswith("_")} | {"_version": 0, "_modified": ""})
        for key, row in _ODD_ROWS
    ]
    store.bulk_load("bc/customers", rows)
    one = store.insert("dv/accounts", "single", dict(_ODD_ROWS[5][1]))  # a row written on its own
    keys = [key for key, _ in rows]
    expected = _exact(zip(keys, store.rows("bc/customers"), strict=True))
    store.close()
    reopened = EntityStore(path)
    assert _exact(zip(keys, reopened.rows("bc/customers"), strict=True)) == expected
    assert _exact([("single", reopened.get("dv/accounts", "single"))]) == _exact([("single", one)])
    reopened.close()


_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(st.characters(blacklist_categories=()), max_size=12),
)


@hypothesis_settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.text(max_size=6),
            st.dictionaries(
                st.sampled_from(["a", "b", "c", "_x"]), _scalars | st.lists(_scalars, max_size=3), max_size=4
            ),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_any_json_rows_round_trip_exactly(raw: list[tuple[str, dict[str, Any]]]) -> None:
    pairs = [(key, {**row, "_version": n, "_modified": ""}) for n, (key, row) in enumerate(raw)]
    assert _exact(decode_chunk(encode_chunk(pairs))) == _exact(pairs)


def test_chunks_are_plain_json_text(tmp_path: Path) -> None:
    path = _seeded_folder(tmp_path / "data")
    with closing(sqlite3.connect(path, timeout=10.0)) as db, db:
        chunks = db.execute("SELECT data FROM entity WHERE key IS NULL").fetchall()
    assert chunks and all(isinstance(data, str) and isinstance(json.loads(data), list) for (data,) in chunks)


# ------------------------------------------------------------ start-up


def test_a_sandbox_of_a_few_thousand_customers_starts_and_reopens_with_the_same_rows(tmp_path: Path) -> None:
    settings = SandboxSettings(customers=3_000)
    sets = ("bc/companies", "bc/customers", "bc/contacts", "dv/systemusers", "dv/accounts", "dv/contacts")
    path = tmp_path / "sandbox.sqlite"
    store = EntityStore(path)
    assert demo_data.ensure_seeded(store, settings) is True
    seeded = {s: _exact((str(i), r) for i, r in enumerate(store.rows(s))) for s in sets}
    store.close()
    reopened = EntityStore(path)
    assert demo_data.ensure_seeded(reopened, settings) is False
    assert {s: _exact((str(i), r) for i, r in enumerate(reopened.rows(s))) for s in sets} == seeded
    assert reopened.count("bc/customers") == 3_000
    reopened.close()


async def test_the_terminal_app_shows_the_sentence_as_its_connection_problem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bc_tui.config import load_settings
    from bc_tui.tui.backend import Backend

    data = tmp_path / "bc-tui-data"
    monkeypatch.setenv("BC_TUI_DATA_DIR", str(data))
    monkeypatch.setenv("BC_TUI_CONFIG", str(tmp_path / "no-config.toml"))
    for name in ("BC_TUI_PROFILE", "BC_TUI_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    (data / "sandbox").mkdir(parents=True)
    _garbage(data / "sandbox" / "sandbox.sqlite")
    backend = Backend.from_settings(load_settings())
    try:
        state = await backend.start()
    finally:
        await backend.close()
    assert not state.ok and state.problem is not None
    assert state.problem.startswith(
        f"The sandbox data folder {data / 'sandbox'} cannot be used (sandbox.sqlite is damaged"
    )
    assert f"bc-tui sandbox reset --data {data / 'sandbox'}" in state.problem


async def test_a_file_that_goes_bad_under_a_running_sandbox_answers_500_with_the_sentence(tmp_path: Path) -> None:
    import httpx

    from bc_tui.sandbox.app import create_app, sandbox_info
    from bc_tui.sandbox.inprocess import ORIGIN, asgi_transport

    folder = tmp_path / "data"
    settings = SandboxSettings(data_dir=folder, customers=_CUSTOMERS)
    app = create_app(settings)
    info = sandbox_info(settings, ORIGIN)
    try:
        async with httpx.AsyncClient(transport=asgi_transport(app), base_url=ORIGIN) as http:
            token = (
                await http.post(
                    info["token_url"],
                    data={
                        "grant_type": "client_credentials",
                        "client_id": info["client_id"],
                        "client_secret": info["client_secret"],
                        "scope": info["bc_scope"],
                    },
                )
            ).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            assert (await http.get(info["bc_api"] + "companies", headers=headers)).status_code == 200

            _row_not_json(folder / "sandbox.sqlite")  # another process writes a row that doesn't decode
            response = await http.get(info["bc_api"] + "companies", headers=headers)
            assert response.status_code == 500
            message = response.json()["error"]["message"]
            assert message.startswith(
                f"The sandbox data folder {folder} cannot be used (sandbox.sqlite is damaged: a row is not valid JSON)"
            )
    finally:
        app.state.store.close()
