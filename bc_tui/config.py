"""Settings: a TOML config file, environment overrides, and connection profiles.

The config file lives in the platformdirs config dir (``~/.config/bc-tui/config.toml`` on
Linux) unless ``--config`` or ``BC_TUI_CONFIG`` names another. A missing file is fine: bc-tui
then works on the embedded sandbox. Example::

    database_url = "postgresql://bc:…@db.internal/bc_tui"   # default: a SQLite file
    profile = "contoso"                                      # which profile to use

    [profiles.contoso]
    tenant = "contoso.onmicrosoft.com"
    client_id = "00000000-0000-0000-0000-000000000000"
    client_secret_env = "CONTOSO_BC_SECRET"      # or store it: keyring set bc-tui contoso
    bc_environment = "production"
    bc_company_id = "…"
    dataverse_url = "https://contoso.crm.dynamics.com"

    [keys]                                       # remap TUI keys by binding id
    "list.mark" = "x"

    [mappings.CUSTOMER]                          # table/field mapping overrides
    direction = "to-dataverse"

The client secret is read from an environment variable or the OS keyring, never from the file,
and never written to logs or to the database.

Every key is described once in `bc_tui.config_schema` (type, default, environment variable);
docs/configuration.md says what happens with an unknown key (a warning) or a wrong type (one
sentence, exit 2).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bc_tui import config_schema
from bc_tui.domain.text import shorten

APP_NAME = "bc-tui"
BC_SCOPE = "https://api.businesscentral.dynamics.com/.default"
DEFAULT_SECRET_ENV = "BC_TUI_CLIENT_SECRET"
#: One HTTP request, answer included, may take this long; a slow answer then fails in one
#: sentence instead of hanging the command (the per-read timeout does not bound a trickle).
DEFAULT_REQUEST_DEADLINE_S = config_schema.DEFAULT_REQUEST_DEADLINE_S
#: What each job overwrote is kept this long for undo and history (docs/undo-and-history.md).
DEFAULT_HISTORY_DAYS = config_schema.DEFAULT_HISTORY_DAYS
#: A config file is a few dozen lines; anything this large is the wrong file.
MAX_CONFIG_BYTES = 1024 * 1024


class ConfigError(Exception):
    """The configuration cannot be used; ``str(exc)`` is one plain sentence with the fix."""


@dataclass(frozen=True)
class ConnectionProfile:
    """Where the two services are and how to sign in to them."""

    name: str
    token_url: str
    client_id: str
    client_secret: str = field(repr=False)
    bc_api_url: str  # .../api/v2.0/ with a trailing slash
    bc_company_id: str
    bc_environment: str
    dataverse_api_url: str  # .../api/data/v9.2/ with a trailing slash
    bc_scope: str = BC_SCOPE
    dataverse_scope: str = ""
    is_sandbox: bool = False
    #: The longest one HTTP request may take, answer included.
    request_deadline_s: float = DEFAULT_REQUEST_DEADLINE_S
    #: How long what each job overwrote is kept for undo and history (``history_days``).
    history_days: float = DEFAULT_HISTORY_DAYS
    #: How bc-tui signs in (one of ``config_schema.SIGN_IN_WAYS``); ``client_secret`` is "" otherwise.
    sign_in: str = "client_secret"
    #: ``sign_in = "client_certificate"``: the PEM file with the private key and the certificate.
    client_certificate: Path | None = None
    #: ``sign_in = "device_code"``: where the person's tokens are kept between runs (mode 0600).
    token_cache: Path | None = None

    @property
    def dataverse_org(self) -> str:
        """The Dataverse host, for the header line (``contoso.crm.dynamics.com``)."""
        return urlsplit(self.dataverse_api_url).netloc


@dataclass(frozen=True)
class Settings:
    """Everything read from the config file and the environment."""

    config_path: Path
    database_url: str | None = None
    profile_name: str | None = None
    profiles: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    keys: Mapping[str, str] = field(default_factory=dict)
    mappings: Mapping[str, Any] = field(default_factory=dict)
    #: The longest one HTTP request may take, answer included (``request_deadline_s``).
    request_deadline_s: float = DEFAULT_REQUEST_DEADLINE_S
    #: How long what each job overwrote is kept for undo and history (``history_days``).
    history_days: float = DEFAULT_HISTORY_DAYS
    #: Names in the file that bc-tui does not know (each one sentence); shown once by the caller.
    warnings: tuple[str, ...] = ()

    @property
    def has_profile(self) -> bool:
        return bool(self.profile_name or self.profiles)


def default_config_path() -> Path:
    """``BC_TUI_CONFIG`` or the platform's config dir."""
    if env := os.environ.get("BC_TUI_CONFIG"):
        return Path(env).expanduser()
    from platformdirs import user_config_dir

    return Path(user_config_dir(APP_NAME)) / "config.toml"


def default_data_dir() -> Path:
    """Where bc-tui keeps its own data (the coupling database, the sandbox's data)."""
    if env := os.environ.get("BC_TUI_DATA_DIR"):
        return Path(env).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME))


def default_database_url() -> str:
    """The coupling database next to bc-tui's other data (honours ``BC_TUI_DATA_DIR``)."""
    return f"sqlite:///{default_data_dir() / 'coupling.sqlite'}"


def load_settings(path: Path | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Read the config file (missing is fine) and apply ``BC_TUI_*`` environment overrides.

    The file is checked against `bc_tui.config_schema`: a value of the wrong type raises
    ConfigError (one sentence naming the key and the expected type); a name bc-tui does not
    know lands in ``Settings.warnings`` for the caller to show once.
    """
    env = os.environ if env is None else env
    path = path or default_config_path()
    data = _read_config(path)
    try:
        warnings = config_schema.check(data, path)
        deadline = _number("request_deadline_s", path, data, env, DEFAULT_REQUEST_DEADLINE_S)
        history_days = _number("history_days", path, data, env, DEFAULT_HISTORY_DAYS)
    except config_schema.SchemaError as exc:
        raise ConfigError(str(exc)) from None
    top = {setting.name: setting for setting in config_schema.TOP.settings}
    return Settings(
        config_path=path,
        database_url=_text(top["database_url"], data, env),
        profile_name=_text(top["profile"], data, env),
        request_deadline_s=deadline,
        history_days=history_days,
        profiles=data.get("profiles", {}),
        keys=dict(data.get("keys", {})),
        mappings=data.get("mappings", {}),
        warnings=tuple(warnings),
    )


def _text(setting: config_schema.Setting, data: Mapping[str, Any], env: Mapping[str, str]) -> str | None:
    """A text setting: its environment variable (when set and not empty), else the file."""
    return (env.get(setting.env) if setting.env else None) or data.get(setting.name)


def _read_config(path: Path) -> dict[str, Any]:
    """The config file as a dict (missing is fine), or ConfigError with one sentence."""
    if not path.exists():
        return {}
    if path.is_dir():
        raise ConfigError(f"The config file {path} is a folder, not a file. Pass --config with a .toml file.")
    if not path.is_file():
        # A device or a pipe (/dev/zero, /dev/stdin) could be read for ever.
        raise ConfigError(f"The config file {path} is not a regular file. Pass --config with a .toml file.")
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"Cannot read the config file {path}: {exc.strerror}. Check its permissions.") from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(
            f"The config file {path} is larger than {MAX_CONFIG_BYTES // 1024:,} kB, far more than any bc-tui "
            "config; check that --config names the right file."
        )
    try:
        # utf-8-sig: Windows editors put a byte order mark in front, which TOML does not allow.
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"The config file {path} is not UTF-8 text (byte {exc.start + 1} cannot be read). "
            "Save it as UTF-8 and try again."
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"The config file {path} is not valid TOML ({shorten(exc, 120)}). Fix it or move it aside."
        ) from None


def _number(name: str, path: Path, data: Mapping[str, Any], env: Mapping[str, str], default: float) -> float:
    """The top-level number ``name`` from its environment variable or the file, checked for range."""
    setting = next(s for s in config_schema.TOP.settings if s.name == name)
    assert setting.env is not None
    if text := env.get(setting.env):
        return config_schema.number(setting, text, setting.env, from_env=True)
    if setting.name in data:
        return config_schema.number(setting, data[setting.name], f"{setting.name} in {path}")
    return default


_REQUIRED = tuple(setting.name for setting in config_schema.PROFILE.settings if setting.required)


def resolve_profile(
    settings: Settings, name: str | None = None, env: Mapping[str, str] | None = None
) -> ConnectionProfile:
    """Build the named (or default) profile, reading its secret from the environment or keyring."""
    env = os.environ if env is None else env
    name = name or settings.profile_name or (next(iter(settings.profiles)) if len(settings.profiles) == 1 else None)
    if name is None:
        raise ConfigError(
            f"{settings.config_path} has several profiles and none is chosen. "
            'Set profile = "…" in it, or pass --profile.'
        )
    raw = settings.profiles.get(name)
    if raw is None:
        known = shorten(", ".join(sorted(settings.profiles)) or "none", 120)
        raise ConfigError(f"There is no profile '{shorten(name, 60)}' in {settings.config_path} (known: {known}).")
    missing = [key for key in _REQUIRED if not raw.get(key)]
    if missing:
        raise ConfigError(
            f"Profile '{name}' in {settings.config_path} lacks {', '.join(missing)}. Add them and try again."
        )
    tenant = str(raw["tenant"])
    environment = str(raw["bc_environment"])
    sign_in = str(raw.get("sign_in") or "client_secret")
    certificate = raw.get("client_certificate")
    if sign_in == "client_certificate" and not certificate:
        raise ConfigError(
            f"Profile '{name}' in {settings.config_path} signs in with a client certificate but names none. "
            'Add client_certificate = "path of the PEM file with its private key and certificate" and try again.'
        )
    dataverse_url = str(raw["dataverse_url"]).rstrip("/")
    return ConnectionProfile(
        name=name,
        token_url=str(raw.get("token_url") or f"https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"),
        client_id=str(raw["client_id"]),
        client_secret=_client_secret(name, raw, env) if sign_in == "client_secret" else _no_secret(name, raw),
        bc_api_url=_with_slash(
            str(
                raw.get("bc_api_url")
                or f"https://api.businesscentral.dynamics.com/v2.0/{tenant}/{environment}/api/v2.0/"
            )
        ),
        bc_company_id=str(raw["bc_company_id"]),
        bc_environment=environment,
        dataverse_api_url=_with_slash(str(raw.get("dataverse_api_url") or f"{dataverse_url}/api/data/v9.2/")),
        bc_scope=str(raw.get("bc_scope") or BC_SCOPE),
        dataverse_scope=str(raw.get("dataverse_scope") or f"{dataverse_url}/.default"),
        request_deadline_s=settings.request_deadline_s,
        history_days=settings.history_days,
        sign_in=sign_in,
        client_certificate=Path(str(certificate)).expanduser() if certificate else None,
        token_cache=default_data_dir() / "sign-in" / f"{_file_name(name)}.json" if sign_in == "device_code" else None,
    )


def _file_name(profile: str) -> str:
    """A profile name made safe as a file name (it is the user's text: no path separators)."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in profile).strip(".") or "profile"


def profile_from_sandbox_info(info: Mapping[str, str]) -> ConnectionProfile:
    """The profile for a running sandbox, from the JSON line ``bc-tui sandbox serve`` prints."""
    return ConnectionProfile(
        name="sandbox",
        token_url=info["token_url"],
        client_id=info["client_id"],
        client_secret=info["client_secret"],
        bc_api_url=info["bc_api"],
        bc_company_id=info["company_id"],
        bc_environment=info["environment"],
        dataverse_api_url=info["dataverse_api"],
        bc_scope=info["bc_scope"],
        dataverse_scope=info["dataverse_scope"],
        is_sandbox=True,
    )


def _no_secret(name: str, raw: Mapping[str, Any]) -> str:
    """A profile that signs in without a secret: none is read, and none may be in the file either."""
    _refuse_secret_in_file(name, raw)
    return ""


def _refuse_secret_in_file(name: str, raw: Mapping[str, Any]) -> None:
    if "client_secret" in raw:
        raise ConfigError(
            f"Profile '{name}' holds a client_secret in the config file; secrets do not belong there. "
            f"Remove it and set the environment variable {raw.get('client_secret_env', DEFAULT_SECRET_ENV)} "
            f"or run: keyring set {APP_NAME} {name}"
        )


def _client_secret(name: str, raw: Mapping[str, Any], env: Mapping[str, str]) -> str:
    _refuse_secret_in_file(name, raw)
    variable = str(raw.get("client_secret_env") or DEFAULT_SECRET_ENV)
    if secret := env.get(variable):
        return secret
    secret = _keyring_secret(name)
    if secret:
        return secret
    raise ConfigError(
        f"No client secret for profile '{name}': set the environment variable {variable} "
        f"or store it with: keyring set {APP_NAME} {name}"
    )


def _keyring_secret(name: str) -> str | None:
    try:
        import keyring
        from keyring.errors import KeyringError
    except ImportError:  # keyring is a dependency, but a stripped install should still work
        return None
    try:
        return keyring.get_password(APP_NAME, name)
    except (KeyringError, RuntimeError):  # headless machines have no keyring backend
        return None


def _with_slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"
