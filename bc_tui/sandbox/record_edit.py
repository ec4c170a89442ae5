"""``bc-tui sandbox edit --number NO | --id GUID | --name NAME --set FIELD=VALUE``: change one record
of one side as a colleague would, e.g. to make a conflict on purpose (README, "Make a conflict on
purpose").

The fields are the side's own API names (``city`` on a Business Central customer,
``address1_city`` on a Dataverse account) and the values are checked as the service would check
them (length, type, options), so that the sandbox never holds what the service could not. Bad
input is one sentence (:class:`EditError`).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .bc_entities import CUSTOMERS, FieldDef
from .dataverse_tables import ACCOUNTS, DECIMAL, INT, STRING
from .store import EntityStore


class EditError(ValueError):
    """Bad input to ``sandbox edit``: the message is the one sentence shown."""


@dataclass(frozen=True)
class Target:
    """Which record to change: by one of number, id or name."""

    number: str | None = None
    record_id: str | None = None
    name: str | None = None


@dataclass(frozen=True)
class _Side:
    label: str  # "BC customer"
    entity_set: str
    key: str
    number: str
    name: str


_SIDES = {
    "bc": _Side("BC customer", CUSTOMERS.entity_set, "id", "number", "displayName"),
    "dataverse": _Side("Dataverse account", ACCOUNTS.store_set, ACCOUNTS.primary_key, "accountnumber", "name"),
}


def edit_record(store: EntityStore, side: str, target: Target, settings: Sequence[str]) -> str:
    """Set ``settings`` (``FIELD=VALUE`` each) on the one record ``target`` names; what changed, as a line.

    Raises :class:`EditError` for an unknown or ambiguous record, an unknown or read-only field, or
    a value the field cannot hold; nothing is written then."""
    where = _SIDES[side]
    row = _find(store, where, target)
    changes = {field: value for field, value in (_setting(side, text) for text in settings)}
    store.update(where.entity_set, str(row[where.key]), changes)
    return f"Changed {_describe(where, row)}: " + ", ".join(
        f"{field} {row.get(field)!r} -> {value!r}" for field, value in changes.items()
    )


def find_record(store: EntityStore, side: str, target: Target) -> dict[str, Any]:
    """The one record of ``side`` that ``target`` names; :class:`EditError` when none or several."""
    return _find(store, _SIDES[side], target)


def _describe(where: _Side, row: Mapping[str, Any]) -> str:
    number = row.get(where.number)
    return f"{where.label} {number or row[where.key]} {row.get(where.name)!r}"


def _find(store: EntityStore, where: _Side, target: Target) -> dict[str, Any]:
    rows = list(store.rows(where.entity_set))
    if target.record_id is not None:
        wanted = target.record_id.strip().strip("{}").lower()
        found = [r for r in rows if str(r[where.key]).lower() == wanted]
        what = f"the id {target.record_id}"
    elif target.number is not None:
        # BC numbers are Code fields: BC keeps and compares them upper-case.
        wanted = target.number.strip().upper()
        found = [r for r in rows if str(r.get(where.number) or "").upper() == wanted]
        what = f"the number {target.number}"
    else:
        wanted = (target.name or "").strip()
        found = [r for r in rows if str(r.get(where.name) or "") == wanted]
        what = f"the name {target.name!r}"
    if not found:
        raise EditError(f"There is no {where.label} with {what} in the sandbox.")
    if len(found) > 1:
        ids = ", ".join(str(r[where.key]) for r in found[:5])
        raise EditError(f"{len(found)} {where.label}s have {what}; choose one with --id ({ids}).")
    return found[0]


def _setting(side: str, text: str) -> tuple[str, Any]:
    field, equals, value = text.partition("=")
    field = field.strip()
    if not equals or not field:
        raise EditError(f"--set takes FIELD=VALUE (e.g. --set city=Oslo), not {text!r}.")
    return (field, _bc_value(field, value)) if side == "bc" else (field, _dataverse_value(field, value))


def _unknown(label: str, field: str, known: Sequence[str]) -> EditError:
    # "city" on the Dataverse side means address1_city: a field that holds the word is closest.
    holding = sorted((name for name in known if field.lower() in name.lower()), key=len)
    close = difflib.get_close_matches(field, known, n=1) or holding[:1]
    hint = f"; did you mean {close[0]}?" if close else f"; the fields are {', '.join(sorted(known))}."
    return EditError(f"A {label} has no field {field!r}{hint}")


def _bc_value(field: str, text: str) -> Any:
    fdef: FieldDef | None = CUSTOMERS.fields.get(field)
    writable = [name for name, d in CUSTOMERS.fields.items() if not d.read_only and d.kind != "guid"]
    if fdef is None:
        raise _unknown("BC customer", field, writable)
    if fdef.read_only or fdef.kind == "guid":
        raise EditError(f"The BC customer's field {field} cannot be set here; choose one of {', '.join(writable)}.")
    if fdef.kind == "decimal":
        return _number(field, text, float)
    if fdef.kind == "bool":
        if text.lower() not in ("true", "false"):
            raise EditError(f"The BC customer's field {field} is true or false, not {text!r}.")
        return text.lower() == "true"
    if fdef.kind == "option" and text not in fdef.options:
        options = ", ".join(map(repr, fdef.options))
        raise EditError(f"The BC customer's field {field} is one of {options}, not {text!r}.")
    if fdef.length is not None and len(text) > fdef.length:
        raise EditError(f"The BC customer's field {field} holds at most {fdef.length} characters, not {len(text)}.")
    return text.upper() if fdef.kind == "code" else text


def _dataverse_value(field: str, text: str) -> Any:
    kind = ACCOUNTS.columns.get(field)
    if kind is None:
        raise _unknown("Dataverse account", field, list(ACCOUNTS.columns))
    if kind == DECIMAL:
        return _number(field, text, float) if text else None
    if kind == INT:
        value = _number(field, text, int) if text else None
        choice = ACCOUNTS.choices.get(field)
        if value is not None and choice is not None and value not in dict(choice.options):
            shown = ", ".join(str(v) for v, _ in choice.options)
            raise EditError(f"The Dataverse account's field {field} is one of {shown}, not {value}.")
        return value
    assert kind == STRING
    limit = ACCOUNTS.max_lengths.get(field)
    if limit is not None and len(text) > limit:
        raise EditError(f"The Dataverse account's field {field} holds at most {limit} characters, not {len(text)}.")
    return text or None  # Dataverse keeps no empty text: a blank column is null


def _number(field: str, text: str, kind: type[int] | type[float]) -> Any:
    try:
        return kind(text)
    except ValueError:
        raise EditError(f"The field {field} takes a number, not {text!r}.") from None
