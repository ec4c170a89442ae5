"""Config file, environment overrides and connection profiles."""

from __future__ import annotations

from pathlib import Path

import pytest

from bc_tui.config import ConfigError, load_settings, profile_from_sandbox_info, resolve_profile
from tests.config.config_files import CONTOSO_PROFILE, write

PROFILE = (
    '\nprofile = "contoso"\ndatabase_url = "sqlite:///tmp/x.sqlite"\n' + CONTOSO_PROFILE + '\n[keys]\nsync = "ctrl+y"\n'
)


def test_missing_file_means_no_profile(tmp_path: Path) -> None:
    settings = load_settings(tmp_path / "absent.toml", env={})
    assert not settings.has_profile
    assert settings.database_url is None


def test_profile_is_built_with_real_service_urls(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, PROFILE), env={})
    profile = resolve_profile(settings, env={"CONTOSO_SECRET": "s3cret"})
    assert profile.token_url == "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"
    assert (
        profile.bc_api_url
        == "https://api.businesscentral.dynamics.com/v2.0/contoso.onmicrosoft.com/production/api/v2.0/"
    )
    assert profile.dataverse_api_url == "https://contoso.crm.dynamics.com/api/data/v9.2/"
    assert profile.dataverse_scope == "https://contoso.crm.dynamics.com/.default"
    assert profile.dataverse_org == "contoso.crm.dynamics.com"
    assert settings.keys == {"sync": "ctrl+y"}


def test_secret_never_appears_in_repr(tmp_path: Path) -> None:
    profile = resolve_profile(load_settings(write(tmp_path, PROFILE), env={}), env={"CONTOSO_SECRET": "s3cret"})
    assert "s3cret" not in repr(profile)


def test_environment_overrides_file(tmp_path: Path) -> None:
    settings = load_settings(
        write(tmp_path, PROFILE), env={"BC_TUI_DATABASE_URL": "postgresql://db/x", "BC_TUI_PROFILE": "other"}
    )
    assert settings.database_url == "postgresql://db/x"
    with pytest.raises(ConfigError, match="no profile 'other'.*known: contoso"):
        resolve_profile(settings, env={})


def test_missing_secret_says_how_to_provide_it(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, PROFILE), env={})
    with pytest.raises(ConfigError, match="CONTOSO_SECRET.*keyring set bc-tui contoso"):
        resolve_profile(settings, env={})


def test_secret_in_file_is_refused(tmp_path: Path) -> None:
    text = PROFILE.replace('client_secret_env = "CONTOSO_SECRET"', 'client_secret = "oops"')
    with pytest.raises(ConfigError, match="secrets do not belong there"):
        resolve_profile(load_settings(write(tmp_path, text), env={}), env={})


def test_malformed_toml_is_one_sentence(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"is not valid TOML .*Fix it or move it aside\."):
        load_settings(write(tmp_path, "profile = [unclosed"), env={})


def test_incomplete_profile_names_missing_keys(tmp_path: Path) -> None:
    text = "[profiles.p]\ntenant = 't'\n"
    with pytest.raises(ConfigError, match="lacks client_id, bc_environment, bc_company_id, dataverse_url"):
        resolve_profile(load_settings(write(tmp_path, text), env={}), env={"BC_TUI_CLIENT_SECRET": "x"})


def test_sandbox_profile_from_info() -> None:
    info = {
        "bc_api": "http://127.0.0.1:1/v2.0/t/production/api/v2.0/",
        "dataverse_api": "http://127.0.0.1:1/api/data/v9.2/",
        "token_url": "http://127.0.0.1:1/t/oauth2/v2.0/token",
        "bc_scope": "https://api.businesscentral.dynamics.com/.default",
        "dataverse_scope": "http://127.0.0.1:1/.default",
        "tenant": "t",
        "environment": "production",
        "company_id": "c",
        "client_id": "id",
        "client_secret": "secret",
        "organization": "sandbox",
    }
    profile = profile_from_sandbox_info(info)
    assert profile.is_sandbox and profile.bc_company_id == "c" and profile.dataverse_org == "127.0.0.1:1"
