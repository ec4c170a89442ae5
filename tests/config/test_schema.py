"""The config file checked against its one description: warnings for unknown names (with the
closest valid one), one sentence for a wrong type, and docs printed from the description."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bc_tui import config_schema
from bc_tui.config import ConfigError, load_settings, resolve_profile
from bc_tui.config_schema import PROFILE, TOP, Kind
from tests.config.config_files import CONTOSO_PROFILE, write

ROOT = Path(__file__).resolve().parents[2]

PROFILE_TEXT = '\nprofile = "contoso"\n' + CONTOSO_PROFILE


def test_misspelt_keys_warn_with_the_closest_valid_key(tmp_path: Path) -> None:
    text = PROFILE_TEXT.replace("client_secret_env", "client_secret_envv")
    path = write(tmp_path, 'databse_url = "sqlite:///elsewhere.sqlite"\n' + text + "\n[mapings.CUSTOMER]\n")
    settings = load_settings(path, env={})
    assert list(settings.warnings) == [
        f"In {path}, databse_url is not a setting bc-tui knows (did you mean database_url?); it is ignored.",
        f"In {path}, mapings is not a setting bc-tui knows (did you mean mappings?); it is ignored.",
        f"In {path}, client_secret_envv in [profiles.contoso] is not a setting bc-tui knows "
        "(did you mean client_secret_env?); it is ignored.",
    ]
    # Ignored means ignored: the misspelt database_url and secret variable take no effect.
    assert settings.database_url is None
    with pytest.raises(ConfigError, match="BC_TUI_CLIENT_SECRET"):
        resolve_profile(settings, env={"CONTOSO_SECRET": "s3cret"})


def test_a_name_with_no_close_match_lists_the_valid_keys(tmp_path: Path) -> None:
    path = write(tmp_path, "colour = 'blue'\n")
    (warning,) = load_settings(path, env={}).warnings
    valid = ", ".join(sorted(s.name for s in TOP.settings))
    assert warning == f"In {path}, colour is not a setting bc-tui knows (known: {valid}); it is ignored."


def test_a_key_in_the_wrong_table_says_where_it_belongs(tmp_path: Path) -> None:
    # TOML files a key written after a [profiles.x] header under that profile.
    path = write(tmp_path, PROFILE_TEXT + 'database_url = "sqlite:///x.sqlite"\n' + "[profiles.other]\n")
    path.write_text('tenant = "t"\n' + path.read_text(encoding="utf-8"), encoding="utf-8")
    settings = load_settings(path, env={})
    assert list(settings.warnings) == [
        f"In {path}, tenant is misplaced: it belongs in a [profiles.NAME] table; it is ignored here.",
        f"In {path}, database_url in [profiles.contoso] is misplaced: it belongs at the top of the file, "
        "before any [section] header; it is ignored here.",
    ]
    assert settings.database_url is None


@pytest.mark.parametrize(
    "setting", [s for s in TOP.settings + PROFILE.settings if s.kind is Kind.TEXT], ids=lambda s: s.name
)
def test_every_text_setting_refuses_a_number(tmp_path: Path, setting: config_schema.Setting) -> None:
    in_profile = setting in PROFILE.settings
    line = f"{setting.name} = 5"
    path = write(tmp_path, f"[profiles.contoso]\n{line}\n" if in_profile else line + "\n")
    key = f"profiles.contoso.{setting.name}" if in_profile else setting.name
    with pytest.raises(ConfigError) as caught:
        load_settings(path, env={})
    assert str(caught.value) == (
        f'In {path}, {key} must be a text in quotes, not 5; write it as {setting.name} = "…" and try again.'
    )


@pytest.mark.parametrize(
    "setting", [s for s in TOP.settings if s.kind in (Kind.TABLE, Kind.TABLES)], ids=lambda s: s.name
)
def test_every_table_refuses_a_value(tmp_path: Path, setting: config_schema.Setting) -> None:
    path = write(tmp_path, f'{setting.name} = "x"\n')
    header = f"[{setting.name}.NAME]" if setting.kind is Kind.TABLES else f"[{setting.name}]"
    with pytest.raises(ConfigError, match=re.escape(f"{setting.name} must be a table ({header}), not x;")):
        load_settings(path, env={})


@pytest.mark.parametrize("section", ["profiles", "mappings"])
def test_each_named_table_must_be_a_table(tmp_path: Path, section: str) -> None:
    path = write(tmp_path, f"{section} = {{ CUSTOMER = 1 }}\n")
    with pytest.raises(
        ConfigError, match=re.escape(f"{section}.CUSTOMER must be a table ([{section}.CUSTOMER]), not 1;")
    ):
        load_settings(path, env={})


def test_a_key_map_value_must_be_text(tmp_path: Path) -> None:
    path = write(tmp_path, '[keys]\n"list.mark" = ["x"]\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(path, env={})
    assert str(caught.value) == (
        f'In {path}, "list.mark" in [keys] must be a text in quotes naming keys, not ["x"]; '
        'write it as "list.mark" = "ctrl+y" and try again.'
    )


def test_numbers_are_numbers_in_the_file_and_text_in_the_environment(tmp_path: Path) -> None:
    assert load_settings(write(tmp_path, "request_deadline_s = 12\n"), env={}).request_deadline_s == 12.0
    path = write(tmp_path, 'request_deadline_s = "12"\n')
    with pytest.raises(ConfigError, match=re.escape(f"request_deadline_s in {path} is 12, but it must be a number")):
        load_settings(path, env={})
    assert load_settings(tmp_path / "none.toml", env={"BC_TUI_REQUEST_DEADLINE_S": "12"}).request_deadline_s == 12.0
    with pytest.raises(
        ConfigError, match="^BC_TUI_REQUEST_DEADLINE_S is 0, but it must be a number of seconds from 1 to 3600"
    ):
        load_settings(tmp_path / "none.toml", env={"BC_TUI_REQUEST_DEADLINE_S": "0"})


def test_history_days_keeps_ninety_days_unless_told(tmp_path: Path) -> None:
    assert load_settings(tmp_path / "none.toml", env={}).history_days == 90.0
    assert load_settings(write(tmp_path, "history_days = 30\n"), env={}).history_days == 30.0
    assert load_settings(tmp_path / "none.toml", env={"BC_TUI_HISTORY_DAYS": "7"}).history_days == 7.0
    with pytest.raises(ConfigError, match="^BC_TUI_HISTORY_DAYS is 0, but it must be a number of days from 1 to 3650"):
        load_settings(tmp_path / "none.toml", env={"BC_TUI_HISTORY_DAYS": "0"})


def test_environment_variables_come_from_the_description(tmp_path: Path) -> None:
    env = {s.env: f"value of {s.name}" for s in TOP.settings if s.env and s.kind is Kind.TEXT}
    settings = load_settings(tmp_path / "none.toml", env=env)
    assert (settings.database_url, settings.profile_name) == ("value of database_url", "value of profile")


def _toml_example(markdown: Path) -> str:
    return re.search(r"```toml\n(.*?)```", markdown.read_text(encoding="utf-8"), re.S).group(1)


@pytest.mark.parametrize("document", ["README.md", "docs/configuration.md"])
def test_the_documented_examples_are_valid_without_warnings(tmp_path: Path, document: str) -> None:
    settings = load_settings(write(tmp_path, _toml_example(ROOT / document)), env={})
    assert settings.warnings == ()
    assert settings.profile_name == "contoso" and settings.keys == {"list.mark": "x"}


def test_the_reference_in_the_docs_is_printed_from_the_description() -> None:
    docs = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert config_schema.reference_markdown() in docs, (
        "docs/configuration.md is out of date: run python -m bc_tui.config_schema docs/configuration.md"
    )
    for setting in TOP.settings + PROFILE.settings:
        assert f"| `{setting.name}` |" in docs
