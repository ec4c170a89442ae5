"""log, errors and retry after a real conflict, and the exit codes of failures and bad setups."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest

from bc_tui.commands.common import SANDBOX_NOTE
from bc_tui.commands.output import EXIT_FAILURES, EXIT_OK, EXIT_USAGE
from bc_tui.sandbox.server import start_in_thread
from bc_tui.sandbox.settings import SandboxSettings
from tests.cli.conflicts import make_conflict


def test_conflict_is_logged_skipped_and_retried(cli, sandbox) -> None:
    account_id = make_conflict(cli, sandbox)
    first = cli("sync", "--modified", "--mapping", "CUSTOMER", "--json")
    assert first.code == EXIT_FAILURES
    (job,) = first.json["jobs"]
    conflicts = [r for r in job["results"] if r["outcome"] == "conflict"]
    assert conflicts and conflicts[0]["number"] == "10000" and "Phone No." in conflicts[0]["message"]

    errors = cli("errors", "--json").json
    assert errors["conflict"] == 1 and errors["couplings"][0]["number"] == "10000"
    assert "Phone No." in errors["couplings"][0]["error"]
    assert "10000" in cli("errors").out

    # The same conflict again marks the coupling Skipped (as a repeatable failure does).
    assert cli("sync", "--modified", "--mapping", "CUSTOMER").code == EXIT_FAILURES
    assert cli("errors", "--json").json["skipped"] == 1

    retried = cli("retry", "10000", "--json")
    assert retried.code == EXIT_OK and retried.json["retried"] == 1
    after = cli("errors", "--json").json
    assert after["skipped"] == 0 and after["conflict"] == 1  # still a conflict until a side wins

    # Send wins: both sides hold the BC phone number again, and nothing needs attention any more.
    assert cli("sync", "10000", "--direction", "to-dataverse").code == EXIT_OK
    assert sandbox.account(account_id)["telephone1"] == "+1 111 111 1111"
    assert cli("errors", "--json").json["total"] == 0
    assert cli("sync", "--modified").code == EXIT_OK

    log = cli("log", "--json").json["jobs"]
    assert log[0]["type"] == "synchronization" and log[-1]["type"] == "coupling"
    failed_job = next(j for j in log if j["conflicts"])
    detail = cli("log", "--job", str(failed_job["id"]), "--json").json
    assert detail["job"]["id"] == failed_job["id"] and any("Phone No." in e["message"] for e in detail["errors"])
    text = cli("log", "--job", str(failed_job["id"]))
    assert text.code == EXIT_OK and "Phone No." in text.out


def test_merge_of_a_conflict_fails_with_exit_code_1(cli, sandbox) -> None:
    make_conflict(cli, sandbox)
    result = cli("sync", "10000", "--direction", "merge", "--json")
    assert result.code == EXIT_FAILURES
    assert result.json["results"][0]["outcome"] == "conflict"


def test_a_conflict_without_direction_or_prefer_stays_amake_conflict(cli, sandbox) -> None:
    account_id = make_conflict(cli, sandbox)
    result = cli("sync", "10000", "--json")
    recommendation = result.json["recommendation"]
    assert recommendation["direction"] == "to-dataverse" and "merge" not in recommendation["offered"]
    assert recommendation["warning"] and "Phone No." in " ".join(recommendation["conflicts"])
    # Nothing is written: the user has not said who wins.
    assert result.code == EXIT_FAILURES
    assert [c["fields"] for c in result.json["conflicts"]] == [["Phone No."]]
    assert sandbox.customer("10000")["phoneNumber"] == "+1 111 111 1111"
    assert sandbox.account(account_id)["telephone1"] == "+1 222 222 2222"


# --- exit code 2: one sentence on stderr, nothing on stdout, no traceback -----------------------


def _usage_error(result: Any, *words: str) -> None:
    assert result.code == EXIT_USAGE, (result.out, result.err)
    assert result.out == ""
    lines = result.err.strip().splitlines()
    assert lines[-1].startswith("bc-tui: ") and "Traceback" not in result.err
    for word in words:
        assert word in lines[-1]


def test_unknown_number_names_it(cli) -> None:
    _usage_error(cli("sync", "99999", "--direction", "to-dataverse", "--json"), "99999")
    _usage_error(cli("couple", "CT000001", "--to", "x"), "CT000001", "--mapping CONTACT")


def test_malformed_config_file(cli, tmp_path: Path) -> None:
    config = tmp_path / "broken.toml"
    config.write_text("profile = [unclosed\n", encoding="utf-8")
    _usage_error(cli("status", "--config", str(config)), str(config), "not valid TOML")


def test_unknown_profile(cli) -> None:
    _usage_error(cli("status", "--profile", "nope"), "no profile 'nope'")


def _profile(path: Path, info: dict[str, Any], secret_env: str) -> Path:
    origin = info["token_url"].split("/", 3)[:3]
    lines = [
        'profile = "tenant"',
        "[profiles.tenant]",
        'tenant = "sandbox-tenant"',
        f'client_id = "{info["client_id"]}"',
        f'client_secret_env = "{secret_env}"',
        f'bc_environment = "{info["environment"]}"',
        f'bc_company_id = "{info["company_id"]}"',
        f'dataverse_url = "{"/".join(origin)}"',
        f'token_url = "{info["token_url"]}"',
        f'bc_api_url = "{info["bc_api"]}"',
        f'dataverse_api_url = "{info["dataverse_api"]}"',
        f'bc_scope = "{info["bc_scope"]}"',
        f'dataverse_scope = "{info["dataverse_scope"]}"',
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_wrong_secret_is_a_clear_sentence(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with start_in_thread(SandboxSettings(data_dir=None, customers=5)) as running:
        config = _profile(tmp_path / "tenant.toml", running.info, "TENANT_SECRET")
        monkeypatch.setenv("TENANT_SECRET", "not-the-secret")
        result = cli("couple", "10000", "--to", "Adatum", "--config", str(config))
        _usage_error(result, "Signing in to Business Central failed", "client secret")
        assert SANDBOX_NOTE not in result.err  # the configured profile is used, not the built-in sandbox
        status = cli("status", "--config", str(config), "--json")
        assert status.code == EXIT_USAGE and status.json["business_central"]["ok"] is False
        # stderr says it in the app's one "not connected" sentence; the JSON keeps the bare problem.
        from bc_tui.domain.words import not_connected

        assert f"bc-tui: {not_connected(status.json['business_central']['error'])}" in status.err.splitlines()

        monkeypatch.setenv("TENANT_SECRET", running.info["client_secret"])
        good = cli("status", "--config", str(config), "--json")
        assert good.code == EXIT_OK and good.json["sandbox"] is False and good.json["connection"] == "tenant"


def test_missing_secret_says_which_variable(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    info = {
        "token_url": "http://127.0.0.1:9/token",
        "client_id": "c",
        "environment": "production",
        "company_id": "x",
        "bc_api": "http://127.0.0.1:9/bc/",
        "dataverse_api": "http://127.0.0.1:9/dv/",
        "bc_scope": "s",
        "dataverse_scope": "s",
    }
    monkeypatch.delenv("UNSET_SECRET_FOR_TEST", raising=False)
    config = _profile(tmp_path / "tenant.toml", info, "UNSET_SECRET_FOR_TEST")
    monkeypatch.setattr("bc_tui.config._keyring_secret", lambda name: None)
    _usage_error(cli("status", "--config", str(config)), "UNSET_SECRET_FOR_TEST")


def test_unreachable_service(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    info = {
        "token_url": f"{base}/token",
        "client_id": "c",
        "environment": "production",
        "company_id": "x",
        "bc_api": f"{base}/bc/api/v2.0/",
        "dataverse_api": f"{base}/api/data/v9.2/",
        "bc_scope": "s",
        "dataverse_scope": "s",
    }
    monkeypatch.setenv("TENANT_SECRET", "s")
    config = _profile(tmp_path / "tenant.toml", info, "TENANT_SECRET")
    _usage_error(cli("sync", "10000", "--direction", "to-dataverse", "--config", str(config)), "Cannot reach")


def test_usage_errors_before_connecting(cli) -> None:
    _usage_error(cli("sync", "10000", "20000", "--direction", "merge"), "one record at a time")
    _usage_error(cli("sync", "--modified", "--direction", "to-dataverse"), "--modified")
    _usage_error(cli("sync"), "--modified")
    _usage_error(cli("uncouple"), "--all")
    _usage_error(cli("retry"), "--all")
    bad_field = cli("match", "--field", "Name:high")
    assert bad_field.code == EXIT_USAGE and "high" in bad_field.err


def test_json_documents_of_log_and_uncouple_all(cli) -> None:
    assert cli("couple", "10000", "--to", "Adatum Corporation").code == EXIT_OK
    removed = cli("uncouple", "--all", "--json").json
    assert removed["counters"]["uncoupled"] == 1 and removed["results"][0]["outcome"] == "uncoupled"
    jobs = cli("log", "--limit", "1", "--json").json["jobs"]
    assert len(jobs) == 1 and jobs[0]["type"] == "uncoupling" and jobs[0]["uncoupled"] == 1
    _usage_error(cli("log", "--job", "999"), "999")
