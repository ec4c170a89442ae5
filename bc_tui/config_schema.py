"""Every config setting described once: its place, type, default, environment override and meaning.

`bc_tui.config` checks a config file against this description (`check`), the closest-name
suggestion for a misspelt setting comes from it (`unknown_name`), and the reference tables in
docs/configuration.md are printed from it (`reference_markdown`; run
``python -m bc_tui.config_schema docs/configuration.md`` after changing a setting).

Two outcomes, on purpose different:

- a name bc-tui does not know is a *warning* (the setting is ignored, the program goes on): a
  misspelt key must not go unnoticed, but an old or a newer config file should still open;
- a known setting with a value of the wrong type is an *error* (:class:`SchemaError`, one
  sentence): bc-tui would otherwise act on a value the user did not mean.

This module imports nothing of bc-tui, so the CLI stays fast and the TUI's binding ids stay in
the TUI (`unknown_name` is given the valid names by the caller).
"""

from __future__ import annotations

import contextlib
import difflib
import json
import math
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from bc_tui.domain.text import shorten

#: The longest one HTTP request may take by default, answer included (``request_deadline_s``).
DEFAULT_REQUEST_DEADLINE_S = 300.0

#: How long the changes each synchronization job kept (for undo and history) are kept, by default
#: (``history_days``; docs/undo-and-history.md).
DEFAULT_HISTORY_DAYS = 90.0

#: How a profile signs in (``sign_in``): the app with its secret or its certificate, or a person
#: with a device code. The connectors accept the same words (see "Sign-in" in docs/configuration.md).
SIGN_IN_WAYS = ("client_secret", "client_certificate", "device_code")


class SchemaError(Exception):
    """A setting has a value of the wrong type; ``str(exc)`` is one sentence naming the key."""


class Kind(Enum):
    """The type of a setting's value, with the words a sentence uses for it."""

    TEXT = "text"
    NUMBER = "number"
    TABLE = "table"
    TABLES = "table of tables"


@dataclass(frozen=True)
class Setting:
    """One key of the config file."""

    name: str
    kind: Kind
    doc: str
    default: str = "none"  # as the reference table shows it
    env: str | None = None  # the environment variable that overrides the file
    required: bool = False
    #: A number's allowed range and unit (``request_deadline_s``: 1 to 3600 seconds).
    low: float | None = None
    high: float | None = None
    unit: str = ""
    #: Known but refused (``client_secret``): it gets its own sentence where it is used.
    refused: bool = False
    #: The only values a text setting may have (``sign_in``); empty for any text.
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Section:
    """A ``[table]`` of the config file: fixed settings, or names the user chooses."""

    name: str  # "" for the top of the file; "profiles.NAME" for one table per chosen name
    doc: str
    settings: tuple[Setting, ...] = ()
    #: For sections keyed by names the user (or the TUI) chooses: the type of each value.
    free_values: Kind | None = None


TOP = Section(
    "",
    "Settings at the top of the file, before any `[section]` header.",
    (
        Setting(
            "database_url",
            Kind.TEXT,
            "The coupling database: `sqlite:///path/file.sqlite` or `postgresql://user@host/db`.",
            default="`sqlite:///<data folder>/coupling.sqlite`",
            env="BC_TUI_DATABASE_URL",
        ),
        Setting(
            "profile",
            Kind.TEXT,
            "Which `[profiles.NAME]` to use when `--profile` is not given.",
            default="the only profile, else the built-in sandbox",
            env="BC_TUI_PROFILE",
        ),
        Setting(
            "request_deadline_s",
            Kind.NUMBER,
            "The longest one HTTP request may take, answer included, in seconds.",
            default=f"{DEFAULT_REQUEST_DEADLINE_S:g}",
            env="BC_TUI_REQUEST_DEADLINE_S",
            low=1.0,
            high=3600.0,
            unit="seconds",
        ),
        Setting(
            "history_days",
            Kind.NUMBER,
            "How long what each synchronization job overwrote is kept for undo and history, in days.",
            default=f"{DEFAULT_HISTORY_DAYS:g}",
            env="BC_TUI_HISTORY_DAYS",
            low=1.0,
            high=3650.0,
            unit="days",
        ),
        Setting("profiles", Kind.TABLES, "Connection profiles, one `[profiles.NAME]` table each."),
        Setting("keys", Kind.TABLE, "The terminal app's key map: binding id = keys."),
        Setting("mappings", Kind.TABLES, "Table and field mapping overrides, one `[mappings.NAME]` table each."),
    ),
)

PROFILE = Section(
    "profiles.NAME",
    "One connection profile: where Business Central and Dataverse are, and how to sign in.",
    (
        Setting("tenant", Kind.TEXT, "The Microsoft Entra tenant, e.g. `contoso.onmicrosoft.com`.", required=True),
        Setting("client_id", Kind.TEXT, "The app registration's application (client) id.", required=True),
        Setting(
            "sign_in",
            Kind.TEXT,
            "How bc-tui signs in: as the app with its secret (`client_secret`) or its certificate "
            "(`client_certificate`), or as a person who enters a code in a browser on any device (`device_code`).",
            default="`client_secret`",
            choices=SIGN_IN_WAYS,
        ),
        Setting(
            "client_secret_env",
            Kind.TEXT,
            "The environment variable holding the client secret (else the OS keyring).",
            default="`BC_TUI_CLIENT_SECRET`",
        ),
        Setting(
            "client_certificate",
            Kind.TEXT,
            'With `sign_in = "client_certificate"`: the path of one PEM file holding the app certificate\'s '
            "private key (unencrypted) and the certificate registered for the app.",
        ),
        Setting("bc_environment", Kind.TEXT, "The Business Central environment, e.g. `production`.", required=True),
        Setting("bc_company_id", Kind.TEXT, "The Business Central company id.", required=True),
        Setting(
            "dataverse_url",
            Kind.TEXT,
            "The Dataverse organization, e.g. `https://contoso.crm.dynamics.com`.",
            required=True,
        ),
        Setting(
            "token_url",
            Kind.TEXT,
            "The token endpoint.",
            default="`https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token`",
        ),
        Setting(
            "bc_api_url",
            Kind.TEXT,
            "The Business Central API root.",
            default="`https://api.businesscentral.dynamics.com/v2.0/<tenant>/<bc_environment>/api/v2.0/`",
        ),
        Setting(
            "dataverse_api_url", Kind.TEXT, "The Dataverse Web API root.", default="`<dataverse_url>/api/data/v9.2/`"
        ),
        Setting(
            "bc_scope",
            Kind.TEXT,
            "The scope asked for Business Central.",
            default="`https://api.businesscentral.dynamics.com/.default`",
        ),
        Setting("dataverse_scope", Kind.TEXT, "The scope asked for Dataverse.", default="`<dataverse_url>/.default`"),
        Setting(
            "client_secret",
            Kind.TEXT,
            "Refused: a secret does not belong in a file. Use `client_secret_env` or the keyring.",
            refused=True,
        ),
    ),
)

KEYS = Section(
    "keys",
    'Binding id = keys, e.g. `"list.mark" = "x"` or `"main.synchronize" = "s,ctrl+s"`. '
    'The ids are checked by the terminal app when it starts (see "`[keys]`: checked by the terminal app" above).',
    free_values=Kind.TEXT,
)

MAPPINGS = Section(
    "mappings.NAME",
    "Overrides of one table mapping (`CUSTOMER`, `CONTACT`): `direction`, `sync_only_coupled`, "
    "`resolve_update_conflicts`, `resolve_deletion_conflicts`, and per field mapping "
    '`[mappings.NAME.fields."Label"]` (`direction`, `enabled`, the matching settings, and `bc_field` / '
    "`dataverse_field`: the fields' API names; a new label with both adds a field mapping, e.g. for a custom "
    "field). Checked when the coupling database opens (see above); the fields are checked against the "
    'services at connect (see "Schema check at connect" in docs/coupling-and-sync.md).',
    free_values=Kind.TABLE,
)

SECTIONS: tuple[Section, ...] = (TOP, PROFILE, KEYS, MAPPINGS)

#: Environment variables that are not the override of a file setting.
ENVIRONMENT: tuple[tuple[str, str], ...] = (
    (
        "BC_TUI_CONFIG",
        "The config file (default: `config.toml` in the platform's config folder, "
        "`~/.config/bc-tui/` on Linux). `--config` wins over it.",
    ),
    (
        "BC_TUI_DATA_DIR",
        "bc-tui's data folder: the default coupling database, the built-in sandbox's data, crash logs.",
    ),
    ("BC_TUI_CLIENT_SECRET", "The client secret, unless the profile names another variable in `client_secret_env`."),
    ("BC_TUI_DEBUG", "Set to show the traceback of an unexpected error instead of one sentence."),
)


# --- checking -----------------------------------------------------------------------------------


def check(data: Mapping[str, Any], path: Path | str) -> list[str]:
    """Check a parsed config file; return the warnings (unknown names), or raise SchemaError.

    Only the first wrong type is reported: the sentence names it, the user fixes it, runs again.
    """
    warnings: list[str] = []
    _check_settings(data, TOP, path, "", warnings)
    profiles = data.get("profiles", {})
    for name, profile in profiles.items():
        _check_settings(profile, PROFILE, path, f"[profiles.{shorten(name, 60)}]", warnings)
    for binding_id, keys in data.get("keys", {}).items():
        if not isinstance(keys, str):
            raise SchemaError(
                f'In {path}, "{shorten(binding_id, 60)}" in [keys] must be a text in quotes naming keys, '
                f'not {_shown(keys)}; write it as "{shorten(binding_id, 60)}" = "ctrl+y" and try again.'
            )
    return warnings


def number(setting: Setting, raw: Any, where: str, *, from_env: bool = False) -> float:
    """``raw`` as a number in the setting's range, or SchemaError naming ``where``.

    In the file a number must be a TOML number (``"300"`` in quotes is a wrong type); an
    environment variable is always text, so there the text is read as a number.
    """
    low = -math.inf if setting.low is None else setting.low
    high = math.inf if setting.high is None else setting.high
    value = math.nan
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        value = float(raw)
    elif from_env and isinstance(raw, str):
        with contextlib.suppress(ValueError):  # not a number: stays NaN, which the range check rejects
            value = float(raw)
    if not low <= value <= high:  # NaN fails too
        raise SchemaError(
            f"{where} is {_shown(raw)}, but it must be a number of {setting.unit or 'units'} "
            f"from {low:g} to {high:g}. Correct it and try again."
        )
    return value


def unknown_name(
    name: str,
    valid: Iterable[str],
    path: Path | str,
    section: str = "",
    *,
    noun: str = "a setting bc-tui knows",
    elsewhere: str | None = None,
) -> str:
    """The warning for a name bc-tui does not know, naming the closest valid one if any.

    ``section`` is the table it was found in (``[profiles.contoso]``, ``[keys]``; "" for the top
    of the file); ``noun`` what a valid name is (the TUI says "a binding id of the terminal app").
    Without a close name the warning lists the valid ones, or says ``elsewhere`` where to find
    them (there are too many binding ids for one sentence).
    """
    valid = sorted(set(valid))
    where = f"{shorten(name, 60)} in {section}" if section else shorten(name, 60)
    close = difflib.get_close_matches(name, valid, n=1)
    hint = f"did you mean {close[0]}?" if close else elsewhere or f"known: {', '.join(valid)}"
    return f"In {path}, {where} is not {noun} ({hint}); it is ignored."


def _check_settings(
    table: Mapping[str, Any], section: Section, path: Path | str, header: str, warnings: list[str]
) -> None:
    by_name = {setting.name: setting for setting in section.settings}
    for name, value in table.items():
        setting = by_name.get(name)
        if setting is None:
            warnings.append(_unknown(name, section, path, header))
            continue
        key = f"{header[1:-1]}.{name}" if header else name
        _check_type(setting, key, value, path)


def _unknown(name: str, section: Section, path: Path | str, header: str) -> str:
    # A setting written in the wrong place (a top-level key after a [profiles.x] header, which
    # TOML files under that header) is more likely than a misspelling: say where it belongs.
    for other in (TOP, PROFILE):
        if other is not section and any(s.name == name for s in other.settings):
            place = (
                "at the top of the file, before any [section] header" if other is TOP else "in a [profiles.NAME] table"
            )
            where = f"{shorten(name, 60)} in {header}" if header else shorten(name, 60)
            return f"In {path}, {where} is misplaced: it belongs {place}; it is ignored here."
    return unknown_name(name, (s.name for s in section.settings if not s.refused), path, header)


def _check_type(setting: Setting, key: str, value: Any, path: Path | str) -> None:
    if setting.kind is Kind.TEXT and not isinstance(value, str):
        raise SchemaError(
            f"In {path}, {key} must be a text in quotes, not {_shown(value)}; "
            f'write it as {setting.name} = "…" and try again.'
        )
    if setting.choices and value not in setting.choices:
        raise SchemaError(
            f"In {path}, {key} is {_shown(value)}, but it must be one of {', '.join(setting.choices)}. "
            "Correct it and try again."
        )
    if setting.kind is Kind.NUMBER:
        number(setting, value, f"{key} in {path}")
    if setting.kind in (Kind.TABLE, Kind.TABLES) and not isinstance(value, dict):
        example = f"[{setting.name}.NAME]" if setting.kind is Kind.TABLES else f"[{setting.name}]"
        raise SchemaError(
            f"In {path}, {key} must be a table ({example}), not {_shown(value)}; "
            "write its settings under that header and try again."
        )
    if setting.kind is Kind.TABLES:
        for name, inner in value.items():
            if not isinstance(inner, dict):
                raise SchemaError(
                    f"In {path}, {key}.{shorten(name, 60)} must be a table ([{key}.{shorten(name, 60)}]), "
                    f"not {_shown(inner)}; write its settings under that header and try again."
                )


def _shown(value: Any) -> str:
    """A value as the user wrote it in TOML, shortened (``true``, ``5``, ``"soon"``, ``[1, 2]``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return shorten(json.dumps(value, default=str, ensure_ascii=False), 40)
    return shorten(value, 40)


# --- reference ----------------------------------------------------------------------------------

BEGIN = "<!-- reference: generated by python -m bc_tui.config_schema docs/configuration.md -->"
END = "<!-- end of reference -->"


def reference_markdown() -> str:
    """The reference tables of docs/configuration.md, printed from the sections above."""
    lines = [BEGIN, ""]
    for section in SECTIONS:
        lines.append(f"### {'Top of the file' if not section.name else f'[{section.name}]'}")
        lines += ["", section.doc, ""]
        if section.settings:
            lines += ["| Key | Type | Default | Environment | Meaning |", "|---|---|---|---|---|"]
            for s in section.settings:
                default = "required" if s.required else s.default
                kind = s.kind.value if s.low is None else f"number, {s.low:g} to {s.high:g} {s.unit}"
                if s.choices:
                    kind = "one of " + ", ".join(f"`{choice}`" for choice in s.choices)
                lines.append(f"| `{s.name}` | {kind} | {default} | {f'`{s.env}`' if s.env else '—'} | {s.doc} |")
        else:
            lines.append(f"Each value: {section.free_values.value if section.free_values else 'any'}.")
        lines.append("")
    lines += ["### Environment only", "", "| Variable | Meaning |", "|---|---|"]
    lines += [f"| `{name}` | {doc} |" for name, doc in ENVIRONMENT]
    lines += ["", END]
    return "\n".join(lines)


def _rewrite(doc: Path) -> None:
    text = doc.read_text(encoding="utf-8")
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    doc.write_text(head + reference_markdown() + tail, encoding="utf-8")


if __name__ == "__main__":
    if len(sys.argv) == 2:
        _rewrite(Path(sys.argv[1]))
    else:
        print(reference_markdown())
