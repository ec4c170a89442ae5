"""Signing in from the command line: certificate, device code (sentence on stderr), approve-device."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import httpx
import pytest

from bc_tui.sandbox.server import start_in_thread
from bc_tui.sandbox.settings import SandboxSettings
from tests.app_certificates import new_key_and_certificate

EXIT_USAGE = 2


def _profile(path: Path, info: dict[str, Any], sign_in: str) -> Path:
    origin = "/".join(info["token_url"].split("/", 3)[:3])
    path.write_text(
        f'profile = "tenant"\n[profiles.tenant]\ntenant = "t"\nclient_id = "{info["client_id"]}"\n{sign_in}\n'
        f'bc_environment = "{info["environment"]}"\nbc_company_id = "{info["company_id"]}"\n'
        f'dataverse_url = "{origin}"\ntoken_url = "{info["token_url"]}"\nbc_api_url = "{info["bc_api"]}"\n'
        f'dataverse_api_url = "{info["dataverse_api"]}"\nbc_scope = "{info["bc_scope"]}"\n'
        f'dataverse_scope = "{info["dataverse_scope"]}"\n',
        encoding="utf-8",
    )
    return path


def _one_sentence(result: Any, *parts: str) -> str:
    assert result.code == EXIT_USAGE, (result.code, result.out, result.err)
    (line,) = [line for line in result.err.splitlines() if line.startswith("bc-tui: ")]
    assert "Traceback" not in result.err
    for part in parts:
        assert part in line, line
    return line


def test_a_profile_signs_in_with_its_certificate(cli, tmp_path: Path) -> None:
    key, certificate = new_key_and_certificate("bc-tui app")
    pem = tmp_path / "app.pem"
    pem.write_bytes(key + certificate)
    settings = SandboxSettings(customers=5, client_certificates=(certificate.decode(),))
    with start_in_thread(settings) as running:
        good = _profile(
            tmp_path / "good.toml", running.info, f'sign_in = "client_certificate"\nclient_certificate = "{pem}"'
        )
        result = cli("status", "--config", str(good), "--json")
        assert result.code == 0, result.err
        assert result.json["business_central"]["ok"] and result.json["dataverse"]["ok"]

        stranger = tmp_path / "stranger.pem"
        stranger.write_bytes(b"".join(new_key_and_certificate("someone else")))
        wrong = _profile(
            tmp_path / "wrong.toml", running.info, f'sign_in = "client_certificate"\nclient_certificate = "{stranger}"'
        )
        _one_sentence(
            cli("couple", "10000", "--to", "Adatum", "--config", str(wrong)),
            "Signing in to Business Central failed (invalid_client): AADSTS700027",
            "client certificate",
        )


def test_device_code_prints_where_to_sign_in_on_stderr_once(cli, tmp_path: Path, data_dir: Path) -> None:
    settings = SandboxSettings(customers=5, device_code_interval_s=1, device_code_approve_after=1)
    with start_in_thread(settings) as running:
        config = _profile(tmp_path / "person.toml", running.info, 'sign_in = "device_code"')
        first = cli("status", "--config", str(config), "--json")
        assert first.code == 0, first.err
        assert first.json["business_central"]["ok"] and first.json["dataverse"]["ok"]
        (sentence,) = [line for line in first.err.splitlines() if "To sign in" in line]
        assert sentence.startswith("bc-tui: To sign in, use a web browser to open the page http://127.0.0.1:")
        assert "/devicelogin and enter the code " in sentence and "To sign in" not in first.out
        cache = data_dir / "sign-in" / "tenant.json"
        assert stat.S_IMODE(cache.stat().st_mode) == 0o600

        again = cli("status", "--config", str(config), "--json")
        assert again.code == 0 and "To sign in" not in again.err


@pytest.mark.parametrize(
    ("lines", "words"),
    [
        ('sign_in = "password"', "must be one of client_secret, client_certificate, device_code"),
        ('sign_in = "client_certificate"', "signs in with a client certificate but names none"),
    ],
)
def test_a_sign_in_the_profile_cannot_do_is_one_sentence(cli, tmp_path: Path, lines: str, words: str) -> None:
    info = {
        "token_url": "http://127.0.0.1:9/t/oauth2/v2.0/token",
        "client_id": "c",
        "environment": "production",
        "company_id": "x",
        "bc_api": "http://127.0.0.1:9/bc/",
        "dataverse_api": "http://127.0.0.1:9/api/data/v9.2/",
        "bc_scope": "s/.default",
        "dataverse_scope": "d/.default",
    }
    _one_sentence(cli("status", "--config", str(_profile(tmp_path / "p.toml", info, lines))), words)


def test_a_certificate_file_without_a_key_is_one_sentence(cli, tmp_path: Path) -> None:
    pem = tmp_path / "only-certificate.pem"
    pem.write_bytes(new_key_and_certificate("x")[1])
    with start_in_thread(SandboxSettings(customers=5)) as running:
        config = _profile(
            tmp_path / "p.toml", running.info, f'sign_in = "client_certificate"\nclient_certificate = "{pem}"'
        )
        _one_sentence(
            cli("couple", "10000", "--to", "Adatum", "--config", str(config)),
            str(pem),
            "private key",
            "client_certificate",
        )


def test_approve_device_enters_the_code_on_the_sandbox_page(cli) -> None:
    with start_in_thread(SandboxSettings(customers=5)) as running:
        info = running.info
        started = httpx.post(
            info["token_url"].replace("/token", "/devicecode"),
            data={"client_id": info["client_id"], "scope": f"{info['bc_scope']} offline_access"},
        ).json()
        poll = {
            "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
            "client_id": info["client_id"],
            "device_code": started["device_code"],
        }
        assert httpx.post(info["token_url"], data=poll).json()["error"] == "authorization_pending"

        _one_sentence(cli("sandbox", "approve-device", started["verification_uri"], "WRONGCODE"), "not pending")
        _one_sentence(
            cli("sandbox", "approve-device", "http://example.com/devicelogin", started["user_code"]),
            "not a sandbox page on this machine",
        )
        approved = cli("sandbox", "approve-device", started["verification_uri"], started["user_code"])
        assert approved.code == 0 and started["user_code"] in approved.out

        tokens = httpx.post(info["token_url"], data=poll).json()
        assert tokens["access_token"] and tokens["refresh_token"] and tokens["id_token"]
        companies = httpx.get(
            info["bc_api"] + "companies", headers={"Authorization": f"Bearer {tokens['access_token']}"}
        )
        assert companies.status_code == 200


def test_serve_refuses_a_client_certificate_file_without_a_certificate(cli, tmp_path: Path) -> None:
    key_only = tmp_path / "key.pem"
    key_only.write_bytes(new_key_and_certificate("x")[0])
    result = cli("sandbox", "serve", "--client-certificate", str(key_only))
    assert result.code == EXIT_USAGE and "holds no PEM certificate" in result.err
