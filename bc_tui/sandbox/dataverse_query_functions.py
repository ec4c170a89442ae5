"""Dataverse query functions in ``$filter`` (``Microsoft.Dynamics.CRM.In(PropertyName='x',PropertyValues=[…])``).

The sandbox answers ``In``, ``NotIn``, ``Between``, ``NotBetween``, ``EqualUserId`` and
``NotEqualUserId`` by rewriting each call into the plain OData comparisons it means before the
filter is parsed. Other documented query functions (dates, hierarchy, fiscal periods…) are
refused with 501, an unknown function with the service's 400, and so is a filter on a related
table's column (``parentcustomerid_account/name``), which the sandbox does not join. See
docs/sandbox-fidelity.md, "Query functions, formatted values, counts and aggregation".
"""

from __future__ import annotations

import re
from collections.abc import Callable

from .dataverse_errors import E_BAD_REQUEST, bad_request, normalize_guid
from .dataverse_tables import BIGINT, DATETIME, DECIMAL, GUID, INT, STRING, TABLES, Table
from .http import ApiError

_PREFIX = "Microsoft.Dynamics.CRM."
_CALL_RE = re.compile(r"Microsoft\.Dynamics\.CRM\.(?P<name>[A-Za-z]+)\s*\(")
_PATH_RE = re.compile(r"\b(?P<nav>[A-Za-z_][A-Za-z0-9_]*)/(?P<prop>[A-Za-z_][A-Za-z0-9_]*)")
_RELATED_RE = re.compile(
    r"(?P<nav>[A-Za-z_][A-Za-z0-9_]*)/(?P<prop>[A-Za-z_][A-Za-z0-9_]*)\s+(?P<op>eq|ne|gt|ge|lt|le)\s+"
    r"(?P<literal>'(?:[^']|'')*'|[^\s()]+)"
)
#: Query functions the service documents but the sandbox does not answer.
_DOCUMENTED = frozenset(
    [
        "Above",
        "AboveOrEqual",
        "ContainValues",
        "DoesNotContainValues",
        "EqualBusinessId",
        "EqualUserLanguage",
        "EqualUserOrUserHierarchy",
        "EqualUserOrUserHierarchyAndTeams",
        "EqualUserOrUserTeams",
        "EqualUserTeams",
        "InFiscalPeriod",
        "InFiscalPeriodAndYear",
        "InFiscalYear",
        "InOrAfterFiscalPeriodAndYear",
        "InOrBeforeFiscalPeriodAndYear",
        "Last7Days",
        "LastFiscalPeriod",
        "LastFiscalYear",
        "LastMonth",
        "LastWeek",
        "LastXDays",
        "LastXFiscalPeriods",
        "LastXFiscalYears",
        "LastXHours",
        "LastXMonths",
        "LastXWeeks",
        "LastXYears",
        "LastYear",
        "Next7Days",
        "NextFiscalPeriod",
        "NextFiscalYear",
        "NextMonth",
        "NextWeek",
        "NextXDays",
        "NextXFiscalPeriods",
        "NextXFiscalYears",
        "NextXHours",
        "NextXMonths",
        "NextXWeeks",
        "NextXYears",
        "NextYear",
        "NotBusinessId",
        "NotUnder",
        "OlderThanXDays",
        "OlderThanXHours",
        "OlderThanXMinutes",
        "OlderThanXMonths",
        "OlderThanXWeeks",
        "OlderThanXYears",
        "On",
        "OnOrAfter",
        "OnOrBefore",
        "ThisFiscalPeriod",
        "ThisFiscalYear",
        "ThisMonth",
        "ThisWeek",
        "ThisYear",
        "Today",
        "Tomorrow",
        "Under",
        "UnderOrEqual",
        "Yesterday",
    ]
)


#: Finds the ids of the rows of an entity set that match a filter (for related-table conditions).
Related = Callable[[str, str], list[str]]


def rewrite_query_functions(text: str, table: Table, user_id: Callable[[], str], related: Related | None = None) -> str:
    """``$filter`` text with the supported query functions replaced by plain comparisons.

    With ``related``, a comparison on a related table's column (``primarycontactid/fullname eq 'x'``)
    becomes a comparison of the lookup with the ids of the related rows that match.
    """
    out: list[str] = []
    pos = 0
    while pos < len(text):
        char = text[pos]
        if char == "'":  # a string literal is data: copy it whole
            end = _literal_end(text, pos)
            out.append(text[pos:end])
            pos = end
            continue
        call = _CALL_RE.match(text, pos)
        if call is not None and (pos == 0 or not (text[pos - 1].isalnum() or text[pos - 1] in "_.")):
            close = _closing_paren(text, call.end() - 1)
            args = _arguments(text[call.end() : close], call.group("name"))
            out.append(_expand(call.group("name"), args, table, user_id))
            pos = close + 1
            continue
        path = _PATH_RE.match(text, pos)
        if path is not None and (pos == 0 or not (text[pos - 1].isalnum() or text[pos - 1] in "_.")):
            comparison = _RELATED_RE.match(text, pos)
            if comparison is None or related is None:
                raise ApiError(
                    501,
                    E_BAD_REQUEST,
                    f"The sandbox does not emulate filters on a related table's column ('{path.group(0)}') "
                    "other than a comparison with a literal.",
                )
            out.append(_related_comparison(comparison, table, related))
            pos = comparison.end()
            continue
        out.append(char)
        pos += 1
    return "".join(out)


def _related_comparison(match: re.Match[str], table: Table, related: Related) -> str:
    """``nav/prop op literal`` as ``(_lookup_value eq <id> or …)`` over the related rows that match.

    A row whose lookup is empty has no related record, so it never matches (an inner join).
    """
    found = table.navigation(match.group("nav"))
    if found is None:
        raise bad_request(f"Could not find a property named '{match.group('nav')}' on type '{table.type_name}'.")
    lookup, target_set = found
    target = TABLES.get(target_set)
    if target is None:
        raise ApiError(
            501, E_BAD_REQUEST, f"The sandbox does not store '{target_set}', so it can't filter on its columns."
        )
    if match.group("prop") not in target.properties:
        raise bad_request(f"Could not find a property named '{match.group('prop')}' on type '{target.type_name}'.")
    ids = related(target_set, f"{match.group('prop')} {match.group('op')} {match.group('literal')}")
    field = lookup.value_field
    if not ids:
        return f"({field} eq null and {field} ne null)"
    return "(" + " or ".join(f"{field} eq {key}" for key in ids) + ")"


def _literal_end(text: str, start: int) -> int:
    pos = start + 1
    while pos < len(text):
        if text[pos] == "'":
            if text[pos + 1 : pos + 2] == "'":
                pos += 2
                continue
            return pos + 1
        pos += 1
    return len(text)  # unterminated: the filter parser reports it


def _closing_paren(text: str, open_pos: int) -> int:
    depth, pos = 0, open_pos
    while pos < len(text):
        char = text[pos]
        if char in "'\"":
            pos = quoted_end(text, pos)
            continue
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
            if depth == 0:
                return pos
        pos += 1
    raise bad_request(f"Syntax error at position {open_pos} in $filter: the query function's ')' is missing.")


def quoted_end(text: str, start: int) -> int:
    """The position after the quoted text that starts at ``start`` (a doubled quote stays inside)."""
    quote, pos = text[start], start + 1
    while pos < len(text):
        if text[pos] == quote:
            if text[pos + 1 : pos + 2] == quote:
                pos += 2
                continue
            return pos + 1
        pos += 1
    return len(text)


def split_outside(text: str, separator: str, *, brackets: str = "()", quotes: str = "") -> list[str]:
    """``text`` split at each ``separator`` that stands outside the pair of ``brackets`` and
    outside text quoted with one of ``quotes`` (none by default); the pieces are not stripped."""
    opening, closing = brackets[0], brackets[1]
    pieces: list[str] = []
    depth, start, pos = 0, 0, 0
    while pos < len(text):
        char = text[pos]
        if char in quotes:
            pos = quoted_end(text, pos)
            continue
        if char == opening:
            depth += 1
        elif char == closing:
            depth -= 1
        elif char == separator and depth == 0:
            pieces.append(text[start:pos])
            start = pos + 1
        pos += 1
    pieces.append(text[start:])
    return pieces


def _arguments(inner: str, function: str) -> dict[str, str]:
    """``PropertyName='x',PropertyValues=[…]`` -> {name: raw value}; commas inside quotes and brackets stay."""
    args: dict[str, str] = {}
    for piece in split_outside(inner, ",", brackets="[]", quotes="'\""):
        name, sep, value = piece.partition("=")
        if not sep or not name.strip():
            raise bad_request(f"The parameters of the function '{_PREFIX}{function}' are not valid: '{inner}'.")
        args[name.strip()] = value.strip()
    return args


def _expand(function: str, args: dict[str, str], table: Table, user_id: Callable[[], str]) -> str:
    supported = {"In", "NotIn", "Between", "NotBetween", "EqualUserId", "NotEqualUserId"}
    if function not in supported:
        if function in _DOCUMENTED:
            raise ApiError(
                501, E_BAD_REQUEST, f"The sandbox does not emulate the query function '{_PREFIX}{function}'."
            )
        raise bad_request(
            f"An unknown function with name '{_PREFIX}{function}' was found. This may also be a function import or "
            "a key lookup on a navigation property, which is not allowed."
        )
    wanted = {"PropertyName"} | ({"PropertyValues"} if function in ("In", "NotIn", "Between", "NotBetween") else set())
    if set(args) != wanted:
        raise bad_request(
            f"The function '{_PREFIX}{function}' takes the parameters "
            f"{', '.join(sorted(wanted))}, not {', '.join(sorted(args))}."
        )
    column, kind = _property(table, _unquote(args["PropertyName"]))
    if function in ("EqualUserId", "NotEqualUserId"):
        if kind != GUID:
            raise bad_request(f"The function '{_PREFIX}{function}' needs a lookup to a user, not '{column}'.")
        operator = "eq" if function == "EqualUserId" else "ne"
        return f"({column} {operator} {user_id()})"
    values = [_literal(kind, value) for value in _values(args["PropertyValues"], function)]
    if function in ("Between", "NotBetween"):
        if len(values) != 2:
            raise bad_request(
                f"The function '{_PREFIX}{function}' needs exactly two PropertyValues, not {len(values)}."
            )
        low, high = values
        if function == "Between":
            return f"({column} ge {low} and {column} le {high})"
        return f"({column} lt {low} or {column} gt {high})"
    if not values:
        raise bad_request(f"The function '{_PREFIX}{function}' needs at least one of PropertyValues.")
    any_of = " or ".join(f"{column} eq {value}" for value in values)
    if function == "In":
        return f"({any_of})"
    return f"({column} ne null and not ({any_of}))"  # NotIn keeps SQL's rule: null is in no list


def _property(table: Table, name: str) -> tuple[str, str]:
    for lookup in table.lookups:
        if name in (lookup.name, lookup.value_field):
            return lookup.value_field, GUID
    kind = table.properties.get(name)
    if kind is None:
        raise bad_request(f"Could not find a property named '{name}' on type '{table.type_name}'.")
    return name, kind


def _values(text: str, function: str) -> list[str]:
    if not (text.startswith("[") and text.endswith("]")):
        raise bad_request(f"PropertyValues of '{_PREFIX}{function}' must be a list such as ['a','b'].")
    inner = text[1:-1].strip()
    values: list[str] = []
    pos = 0
    while pos < len(inner):
        if inner[pos] in " ,":
            pos += 1
            continue
        if inner[pos] not in "'\"":
            raise bad_request(f"PropertyValues of '{_PREFIX}{function}' must hold quoted strings: {text}.")
        end = quoted_end(inner, pos)
        values.append(_unquote(inner[pos:end]))
        pos = end
    return values


def _unquote(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1].replace(text[0] * 2, text[0])
    return text


def _literal(kind: str, value: str) -> str:
    """A PropertyValues string as the OData literal of the column's type."""
    if kind == STRING:
        return "'" + value.replace("'", "''") + "'"
    if kind in (INT, BIGINT) and re.fullmatch(r"-?\d+", value):
        return value
    if kind == DECIMAL and re.fullmatch(r"-?\d+(\.\d+)?", value):
        return value
    if kind == GUID and normalize_guid(value) is not None:
        return str(normalize_guid(value))
    if kind == DATETIME and re.fullmatch(r"\d{4}-\d{2}-\d{2}(T[0-9:.]+(Z|[+-]\d{2}:\d{2})?)?", value):
        return value
    raise bad_request(f"The value '{value}' in PropertyValues is not valid for a column of type {kind}.")
