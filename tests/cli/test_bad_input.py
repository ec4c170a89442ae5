"""Bad input of every class: one plain sentence on stderr, exit code 2, nothing written.

Each test runs the real ``bc-tui`` against files and servers the test makes hostile. See
docs/bad-input.md. Where the point is the sentence and the exit code, ``cli(...)`` runs the CLI's
entry function in this process (a new Python process costs most of a second of imports). Where
the process boundary is the point (stream encodings, a full or closed stdout, a file size limit,
an uncaught traceback) and once for each kind of bad input (bad config, unreachable service,
corrupt database, a bug), ``cli.process(...)`` runs ``bc-tui`` in a subprocess, as a user would.
"""

from __future__ import annotations

import hashlib
import os
import resource
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bc_tui.cli import main
from bc_tui.commands.common import SANDBOX_NOTE
from bc_tui.sandbox.server import start_in_thread
from bc_tui.sandbox.settings import SandboxSettings

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from hostile_server import HostileServer, echo_token, token, trickle

EXIT_USAGE = 2


class Cli:
    """Runs ``bc-tui`` with its own data folder and no config file, in this process or in a new one."""

    def __init__(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
        self.data = tmp_path / "data"
        self.monkeypatch = monkeypatch
        self.capsys = capsys
        self.settings = {"BC_TUI_DATA_DIR": str(self.data), "BC_TUI_CONFIG": str(tmp_path / "no-config.toml")}
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("BC_TUI_")}
        self.env.update(self.settings, PYTHONUTF8="1", LC_ALL="C.UTF-8")

    def __call__(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        """Run the CLI's entry function in this process; what it printed and returned."""
        self.capsys.readouterr()  # what earlier steps printed is not this run's output
        with self.monkeypatch.context() as patch:
            for name in [k for k in os.environ if k.startswith("BC_TUI_")]:
                patch.delenv(name)
            for name, value in {**self.settings, **(env or {})}.items():
                patch.setenv(name, value)
            try:
                code = main(list(args))
            except SystemExit as exc:  # argparse usage errors
                code = exc.code if isinstance(exc.code, int) else 1
        captured = self.capsys.readouterr()
        return subprocess.CompletedProcess(["bc-tui", *args], code, captured.out, captured.err)

    def process(
        self, *args: str, env: dict[str, str] | None = None, preexec: Callable[[], None] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run ``bc-tui`` in a subprocess, with real streams, encodings and exit code."""
        return subprocess.run(
            [sys.executable, "-m", "bc_tui.cli", *args],
            capture_output=True,
            text=True,
            timeout=120,
            env={**self.env, **(env or {})},
            preexec_fn=preexec,
            errors="replace",
        )


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(tmp_path, monkeypatch, capsys)


def one_sentence(result: subprocess.CompletedProcess[str], *words: str) -> str:
    """Assert exit 2, nothing on stdout, one ``bc-tui: …`` line on stderr (after the sandbox
    note, when the built-in sandbox was started), no traceback, no "please report"; return it."""
    assert result.returncode == EXIT_USAGE, (result.returncode, result.stdout, result.stderr)
    assert result.stdout == ""
    lines = [line for line in result.stderr.splitlines() if line != SANDBOX_NOTE]
    assert len(lines) == 1, result.stderr
    sentence = lines[0]
    assert sentence.startswith("bc-tui: ") and len(sentence) < 700, sentence
    assert "Traceback" not in result.stderr and "please report" not in result.stderr
    for word in words:
        assert word in sentence, sentence
    return sentence


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def files_in(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) if folder.exists() else []


# --- encodings ----------------------------------------------------------------------------------


def test_config_file_that_is_not_utf8(cli: Cli, tmp_path: Path) -> None:
    config = tmp_path / "latin1.toml"
    config.write_bytes('profile = "café"\n'.encode("latin-1"))
    one_sentence(cli.process("status", "--config", str(config)), str(config), "not UTF-8", "Save it as UTF-8")
    assert not cli.data.exists()  # nothing was started or written


def test_config_file_with_a_byte_order_mark_is_read(cli: Cli, tmp_path: Path) -> None:
    config = tmp_path / "bom.toml"
    database = tmp_path / "from-config.sqlite"
    config.write_bytes(b"\xef\xbb\xbf" + f'database_url = "sqlite:///{database}"\n'.encode())
    result = cli("status", "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert database.exists()  # the setting in the file with a BOM was used


def test_non_ascii_output_on_an_ascii_only_stdout(cli: Cli, tmp_path: Path) -> None:
    # Demo cities such as München and København are printed by `sandbox edit` (fresh demo data).
    for n, env in enumerate(({"PYTHONIOENCODING": "ascii"}, {"LC_ALL": "C", "PYTHONUTF8": "0", "LANG": ""})):
        sandbox = tmp_path / f"sandbox-{n}"
        result = cli.process(
            "sandbox", "edit", "--side", "bc", "-n", "1000", "--seed", "1", "--data", str(sandbox), env=env
        )
        assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stderr and "?" in result.stdout
        assert result.stdout.isascii()


def test_non_ascii_json_on_an_ascii_only_stdout_stays_exact(cli: Cli, tmp_path: Path) -> None:
    import json

    config = tmp_path / "with-db.toml"
    config.write_text('database_url = "sqlite:///%s"\n' % (tmp_path / "c.sqlite"), encoding="utf-8")
    result = cli.process(
        "couple",
        "10000",
        "--to",
        "Adatum Corporation",
        "--json",
        "--config",
        str(config),
        env={"PYTHONIOENCODING": "ascii"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.isascii()
    assert json.loads(result.stdout)  # \u escapes, not "?" in the middle of a string


def test_non_ascii_argument_under_a_c_locale(cli: Cli) -> None:
    c_locale = {"LC_ALL": "C", "PYTHONUTF8": "0", "LANG": ""}
    utf8 = cli.process("couple", "10000", "--to", "Müller ☃ GmbH", env=c_locale)
    one_sentence(utf8, "does not exist in Dataverse")
    not_text = subprocess.run(
        [sys.executable, "-m", "bc_tui.cli", "couple", "10000", "--to", b"M\xfcller"],
        capture_output=True,
        env={**cli.env, **c_locale},
        timeout=120,
    )
    decoded = subprocess.CompletedProcess(
        not_text.args, not_text.returncode, not_text.stdout.decode(), not_text.stderr.decode("ascii", "replace")
    )
    one_sentence(decoded, "Argument 4", "not valid UTF-8 text")


# --- file system --------------------------------------------------------------------------------


def test_config_path_is_a_folder(cli: Cli, tmp_path: Path) -> None:
    one_sentence(cli("status", "--config", str(tmp_path)), str(tmp_path), "is a folder")


def test_named_config_file_that_does_not_exist(cli: Cli, tmp_path: Path) -> None:
    missing = tmp_path / "typo.toml"
    one_sentence(cli("status", "--config", str(missing)), str(missing), "does not exist", "--config")
    assert not cli.data.exists()


def test_config_that_is_a_device_or_far_too_large(cli: Cli, tmp_path: Path) -> None:
    one_sentence(cli("status", "--config", "/dev/zero"), "/dev/zero", "not a regular file")
    huge = tmp_path / "huge.toml"
    huge.write_bytes(b"# " + b"x" * 2_000_000 + b"\n")
    one_sentence(cli("status", "--config", str(huge)), str(huge), "larger than", "right file")
    assert not cli.data.exists()


def test_output_to_a_full_disk(cli: Cli) -> None:
    with open("/dev/full", "w") as full:
        result = subprocess.run(
            [sys.executable, "-m", "bc_tui.cli", "status"],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            env=cli.env,
            timeout=120,
        )
    result.stdout = ""
    one_sentence(result, "could not write its output", "No space left on device", "free some disk space")
    assert not (cli.data / "logs").exists()  # not a bug: no error log


def test_reader_that_goes_away(cli: Cli, tmp_path: Path) -> None:
    """`bc-tui … | head -1`: the command stops quietly (exit 141, as for SIGPIPE), no traceback, no error log."""
    # 3,000 changed customers print far more than a pipe holds, so the writer meets the closed end.
    assert cli("sandbox", "reset", "--customers", "3000", "--data", str(tmp_path / "s")).returncode == 0
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bc_tui.cli",
            "sandbox",
            "edit",
            "--side",
            "bc",
            "-n",
            "3000",
            "--seed",
            "1",
            "--data",
            str(tmp_path / "s"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=cli.env,
    )
    assert process.stdout is not None and process.stderr is not None
    assert process.stdout.readline().startswith(b"Changed")
    process.stdout.close()
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=120) == 141
    assert stderr == "" and not (cli.data / "logs").exists()


@pytest.fixture
def coupling_db(cli: Cli, tmp_path: Path) -> Path:
    """A real coupling database holding one coupling (made by the CLI itself)."""
    path = tmp_path / "kept" / "coupling.sqlite"
    result = cli("couple", "10000", "--to", "Adatum Corporation", "--database", f"sqlite:///{path}")
    assert result.returncode == 0, result.stderr
    return path


def _unchanged_after(cli: Cli, database: Path, *words: str) -> None:
    folder = database.parent
    before_files, before = files_in(folder), (digest(database) if database.is_file() else None)
    sandbox_before = files_in(cli.data / "sandbox")
    one_sentence(cli("uncouple", "--all", "--database", f"sqlite:///{database}"), str(database), *words)
    assert files_in(folder) == before_files  # no -wal, -shm or -journal file either
    if before is not None:
        assert digest(database) == before
    assert files_in(cli.data / "sandbox") == sandbox_before  # the built-in sandbox did not start


def test_database_file_that_is_not_sqlite(cli: Cli, tmp_path: Path) -> None:
    database = tmp_path / "notes.sqlite"
    database.write_text("these are my notes, not a database\n" * 20, encoding="utf-8")
    _unchanged_after(cli, database, "not an SQLite file", "move it aside")


def test_truncated_database(cli: Cli, coupling_db: Path, tmp_path: Path) -> None:
    truncated = tmp_path / "truncated.sqlite"
    truncated.write_bytes(coupling_db.read_bytes()[:5000])
    result = cli.process("uncouple", "--all", "--database", f"sqlite:///{truncated}")
    one_sentence(result, str(truncated), "malformed", "restore it from a backup")


def test_read_only_database_file(cli: Cli, coupling_db: Path) -> None:
    coupling_db.chmod(0o444)
    try:
        _unchanged_after(cli, coupling_db, "read-only", "chmod u+w")
    finally:
        coupling_db.chmod(0o644)


def test_read_only_database_folder(cli: Cli, coupling_db: Path) -> None:
    folder = coupling_db.parent
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP)
    try:
        _unchanged_after(cli, coupling_db, "read-only", "journal files")
    finally:
        folder.chmod(0o755)


def test_database_path_is_a_folder(cli: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "a-folder"
    folder.mkdir()
    _unchanged_after(cli, folder, "is a folder, not a file")


def test_database_folder_is_a_file(cli: Cli, tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("x", encoding="utf-8")
    result = cli("status", "--database", f"sqlite:///{blocker}/coupling.sqlite")
    one_sentence(result, "is a file, not a folder")
    assert blocker.read_text(encoding="utf-8") == "x"


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("postgresql://bc:pw-1234@db.example:abc/x", ("not a valid URL", "database_url")),
        ("postgresql://bc:pw-1234@[::1/x", ("not a valid URL",)),
        ("mysql://bc:pw-1234@db.example/x", ("not supported", "sqlite:///path")),
        ("sqlite://", ("names no file",)),
    ],
)
def test_unusable_database_urls(cli: Cli, url: str, words: tuple[str, ...]) -> None:
    sentence = one_sentence(cli("status", "--database", url), *words)
    assert "pw-1234" not in sentence
    assert not cli.data.exists()


def test_data_folder_is_a_file(cli: Cli, tmp_path: Path) -> None:
    blocker = tmp_path / "data-file"
    blocker.write_text("x", encoding="utf-8")
    one_sentence(cli("status", env={"BC_TUI_DATA_DIR": str(blocker)}), str(blocker), "is a file")
    for command in (["reset"], ["edit", "--side", "bc"], ["serve"]):
        one_sentence(cli("sandbox", *command, "--data", str(blocker)), str(blocker), "is a file, not a folder")
    assert blocker.read_text(encoding="utf-8") == "x"


def test_read_only_sandbox_data_folder(cli: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        for target in (folder, folder / "sandbox"):
            one_sentence(cli("sandbox", "edit", "--side", "bc", "--data", str(target)), str(folder), "is read-only")
        assert files_in(folder) == []
    finally:
        folder.chmod(0o755)


def _profile(
    path: Path,
    info: dict[str, Any],
    *,
    secret_env: str = "TENANT_SECRET",
    extra: str = "",
    token_url: str | None = None,
    bc_api: str | None = None,
) -> Path:
    origin = "/".join(info["token_url"].split("/", 3)[:3])
    path.write_text(
        f'{extra}\nprofile = "tenant"\n[profiles.tenant]\ntenant = "t"\nclient_id = "{info["client_id"]}"\n'
        f'client_secret_env = "{secret_env}"\nbc_environment = "{info["environment"]}"\n'
        f'bc_company_id = "{info["company_id"]}"\ndataverse_url = "{origin}"\n'
        f'token_url = "{token_url or info["token_url"]}"\nbc_api_url = "{bc_api or info["bc_api"]}"\n'
        f'dataverse_api_url = "{info["dataverse_api"]}"\nbc_scope = "{info["bc_scope"]}"\n'
        f'dataverse_scope = "{info["dataverse_scope"]}"\n',
        encoding="utf-8",
    )
    return path


@pytest.fixture
def tenant() -> Iterator[dict[str, Any]]:
    """A sandbox in this process, standing in for a real tenant reached through a profile."""
    with start_in_thread(SandboxSettings(data_dir=None, customers=200)) as running:
        yield running.info


def test_disk_full_during_a_job_is_one_sentence_and_leaves_the_database_consistent(
    cli: Cli, tmp_path: Path, tenant: dict[str, Any]
) -> None:
    config = _profile(tmp_path / "tenant.toml", tenant)
    env = {"TENANT_SECRET": tenant["client_secret"]}
    database = tmp_path / "c.sqlite"
    url = f"sqlite:///{database}"
    assert cli("status", "--config", str(config), "--database", url, env=env).returncode == 0

    # In WAL mode the file that grows during the job is the write-ahead log, which starts empty:
    # a fixed limit makes the disk fill in the same place whatever the size of the schema (tied to
    # the database file's size, a new table moved it to a step too small to leave room for
    # closing the job as crashed). Couplings and job errors are written in multi-row INSERTs since
    # match-based coupling was measured at 100,000 records: 50,000-70,000 fill the disk during the
    # job and leave room to close it (108,000 filled it while the job was being closed).
    limit = 60_000

    def small_disk() -> None:
        # No file of the process may grow past the limit: writes beyond fail as on a full disk.
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    result = cli.process(
        "match", "--create-new", "--config", str(config), "--database", url, env=env, preexec=small_disk
    )
    one_sentence(result, str(database), "rolled back", "free some disk space")
    with sqlite3.connect(database) as check:
        assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        couplings = check.execute("SELECT count(*) FROM couplings").fetchone()[0]
        ((status, message),) = check.execute("SELECT status, message FROM sync_jobs").fetchall()
    # The job log names the first cause, not the failed ROLLBACK that SQLite's own rollback causes.
    assert status == "crashed" and "disk" in message and "rollback" not in message.lower()
    # What was committed before the disk filled up is still there and usable.
    listed = cli("errors", "--config", str(config), "--database", url, env=env)
    assert listed.returncode == 0, listed.stderr
    assert couplings < 200


# --- numbers ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["sandbox", "serve", "--port", "70000"], ("--port", "70000", "from 0 to 65535")),
        (["sandbox", "serve", "--port", "-1"], ("--port", "-1", "out of range")),
        (["sandbox", "serve", "--customers", str(10**12)], ("--customers", "1,000,000")),
        (["sandbox", "serve", "--latency-ms", str(10**9)], ("--latency-ms", "60000")),
        (["sandbox", "reset", "--customers", "-5"], ("--customers", "out of range")),
        (["sandbox", "edit", "--side", "bc", "--count", str(10**12)], ("--count", "out of range")),
        (["sandbox", "edit", "--side", "bc", "--count", "0"], ("--count", "from 1")),
        (["sandbox", "serve", "--port", "1e3"], ("--port", "not a whole number")),
        (["log", "--job", str(10**30)], ("--job", "out of range")),
        (["log", "--limit", "0"], ("--limit", "out of range")),
        (["sandbox", "serve", "--host", "8.8.8.8"], ("--host", "not a loopback address")),
        (["sandbox", "serve", "--host", "example.com"], ("--host", "127.0.0.1, ::1 or localhost")),
    ],
)
def test_out_of_range_numbers_and_hosts(cli: Cli, tmp_path: Path, args: list[str], words: tuple[str, ...]) -> None:
    data = tmp_path / "sandbox-data"
    if args[0] == "sandbox":
        args = [*args, "--data", str(data)]
    one_sentence(cli(*args), *words, "--help")
    assert not data.exists() and not cli.data.exists()


def test_busy_port_is_exit_2(cli: Cli, tenant: dict[str, Any], tmp_path: Path) -> None:
    port = tenant["token_url"].split(":")[2].split("/")[0]
    one_sentence(cli("sandbox", "serve", "--port", port, "--data", str(tmp_path / "s")), port, "Choose another --port")


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ("request_deadline_s = -5", ("request_deadline_s", "-5", "from 1 to 3600")),
        ("request_deadline_s = 1e300", ("request_deadline_s", "from 1 to 3600")),
        ('request_deadline_s = "soon"', ("request_deadline_s", "soon")),
        ("request_deadline_s = nan", ("request_deadline_s", "nan")),
        ("database_url = 5", ("database_url", "text in quotes")),
        ("profile = true", ("profile", "text in quotes")),
    ],
)
def test_numbers_in_the_config_file(cli: Cli, tmp_path: Path, line: str, words: tuple[str, ...]) -> None:
    config = tmp_path / "numbers.toml"
    config.write_text(line + "\n", encoding="utf-8")
    one_sentence(cli("status", "--config", str(config)), str(config), *words)
    assert not cli.data.exists()


# --- long values --------------------------------------------------------------------------------


def test_a_10000_character_value_is_shortened_and_nothing_is_written(cli: Cli, coupling_db: Path) -> None:
    before, files = digest(coupling_db), files_in(coupling_db.parent)
    result = cli("sync", "7" * 10_000, "--direction", "to-dataverse", "--database", f"sqlite:///{coupling_db}")
    sentence = one_sentence(result, "(10,000 characters)", "check the number")
    assert "7" * 300 not in sentence
    assert digest(coupling_db) == before and files_in(coupling_db.parent) == files


def test_control_characters_in_an_echoed_value_are_made_visible(cli: Cli) -> None:
    sentence = one_sentence(cli("couple", "10000", "--to", "Evil\x1b]0;owned\x07Name"), "does not exist")
    assert "\x1b" not in sentence and "\x07" not in sentence and "␛" in sentence


# --- servers ------------------------------------------------------------------------------------


def test_a_trickling_service_ends_at_the_request_deadline(cli: Cli, tmp_path: Path, tenant: dict[str, Any]) -> None:
    with HostileServer({"/": trickle(0.3)}) as slow:
        config = _profile(
            tmp_path / "slow.toml", tenant, extra="request_deadline_s = 2", bc_api=f"{slow.origin}/bc/api/v2.0/"
        )
        database = tmp_path / "c.sqlite"
        result = cli.process(
            "sync",
            "10000",
            "--direction",
            "to-dataverse",
            "--config",
            str(config),
            "--database",
            f"sqlite:///{database}",
            env={"TENANT_SECRET": tenant["client_secret"]},
        )
    one_sentence(result, "Business Central", "within 2 seconds", "request_deadline_s")


def test_a_token_endpoint_echoing_the_secret_does_not_print_it(
    cli: Cli, tmp_path: Path, tenant: dict[str, Any]
) -> None:
    secret = "Very$ecret+Value/42=="
    with HostileServer({"/": echo_token(400)}) as echo:
        config = _profile(tmp_path / "echo.toml", tenant, token_url=f"{echo.origin}/tenant/oauth2/v2.0/token")
        result = cli(
            "sync",
            "10000",
            "--direction",
            "to-dataverse",
            "--config",
            str(config),
            "--database",
            f"sqlite:///{tmp_path / 'c.sqlite'}",
            env={"TENANT_SECRET": secret},
        )
        assert any(b"client_secret=" in r.body for r in echo.requests)  # the secret really went there
    sentence = one_sentence(result, "Signing in to Business Central failed", "client_secret=***")
    assert secret not in sentence and "Value" not in sentence and "42" not in sentence


def test_a_healthy_token_endpoint_and_a_hostile_api_with_the_default_deadline(cli: Cli, tmp_path: Path) -> None:
    """A wrong content type at the API: one sentence, not a traceback (MalformedResponse)."""
    from hostile_server import answer

    with HostileServer({"/tenant": token(), "/": answer(200, "<html>proxy</html>", "text/html")}) as proxy:
        info = {
            "token_url": f"{proxy.origin}/tenant/oauth2/v2.0/token",
            "client_id": "c",
            "environment": "e",
            "company_id": "x",
            "bc_api": f"{proxy.origin}/bc/api/v2.0/",
            "dataverse_api": f"{proxy.origin}/api/data/v9.2/",
            "bc_scope": "s",
            "dataverse_scope": "s",
        }
        config = _profile(tmp_path / "proxy.toml", info)
        result = cli(
            "sync",
            "10000",
            "--direction",
            "to-dataverse",
            "--config",
            str(config),
            "--database",
            f"sqlite:///{tmp_path / 'c.sqlite'}",
            env={"TENANT_SECRET": "s"},
        )
    one_sentence(result, "not JSON", "text/html")


# --- a bug ----------------------------------------------------------------------------------------


def test_an_unexpected_error_is_one_sentence_and_a_log_file(cli: Cli) -> None:
    # A subcommand whose handler fails like a bug would; the top-level handling is what is tested.
    script = (
        "import argparse, sys\n"
        "import bc_tui.cli as cli\n"
        "build = cli.build_parser\n"
        "def with_bug():\n"
        "    parser = build()\n"
        "    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))\n"
        "    sub.add_parser('buggy').set_defaults(func=lambda args: {}['missing'])\n"
        "    return parser\n"
        "cli.build_parser = with_bug\n"
        "sys.exit(cli.main(['buggy']))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, env=cli.env)
    sentence = one_sentence(result, "The command 'buggy' stopped on an unexpected error (KeyError", "BC_TUI_DEBUG=1")
    (log,) = (cli.data / "logs").iterdir()
    assert str(log) in sentence and "Traceback" in log.read_text(encoding="utf-8")
    debug = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, env={**cli.env, "BC_TUI_DEBUG": "1"}
    )
    assert debug.returncode != 0 and "Traceback" in debug.stderr
