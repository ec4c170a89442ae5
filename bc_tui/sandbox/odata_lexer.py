"""The ``$filter`` tokenizer: text to tokens, literals already converted to Python values.

Part of the sandbox's OData query options (see ``odata_query`` for the whole contract).
Positions in error messages are 0-based character offsets into the ``$filter`` text (as in
Microsoft.OData's "Syntax error at position N" messages).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


class QueryError(ValueError):
    """A malformed or unsupported query option; ``str(exc)`` is the message for the client."""


NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# A literal must not run straight into a name character ("2026-01-01x", "12abc").
_END = r"(?![A-Za-z0-9_.])"
_GUID_TEXT = r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"
_GUID_RE = re.compile(_GUID_TEXT + _END)
_GUID_FULL_RE = re.compile(_GUID_TEXT)
_DATETIME_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?" + _END)
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}" + _END)
_BAD_LITERAL_RE = re.compile(r"-?[\w.:+-]*")
_NUMBER_RE = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?[mMdDfFlL]?" + _END)


@dataclass(frozen=True)
class Token:
    kind: str  # name | string | number | datetime | date | guid | ( | ) | , | end
    text: str  # the source text of the token
    pos: int
    value: Any = None


def syntax_error(pos: int, detail: str) -> QueryError:
    return QueryError(f"Syntax error at position {pos} in $filter: {detail}.")


def _scan_string(text: str, start: int) -> tuple[str, int]:
    """Read a quoted literal opening at ``text[start]``; return (value, index after it)."""
    parts: list[str] = []
    i = start + 1
    while True:
        close = text.find("'", i)
        if close < 0:
            raise syntax_error(start, "unterminated string literal (a quote inside a string is written '')")
        parts.append(text[i:close])
        if text.startswith("'", close + 1):  # '' is one escaped quote, not the end
            parts.append("'")
            i = close + 2
            continue
        return "".join(parts), close + 1


def tokenize(text: str) -> list[Token]:
    """Split a $filter expression into tokens, converting literals to Python values."""
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        if ch in "(),":
            tokens.append(Token(ch, ch, i))
            i += 1
            continue
        if ch == "'":
            value, end = _scan_string(text, i)
            tokens.append(Token("string", text[i:end], i, value))
            i = end
            continue
        if found := _literal(text, i):
            tokens.append(found)
            i += len(found.text)
            continue
        if m := NAME_RE.match(text, i):
            name = m.group()
            if name.lower() == "guid" and text.startswith("'", m.end()):
                inner, end = _scan_string(text, m.end())
                if not _GUID_FULL_RE.fullmatch(inner):
                    raise syntax_error(i, f"'{inner}' is not a valid GUID")
                tokens.append(Token("guid", text[i:end], i, inner.lower()))
                i = end
                continue
            tokens.append(Token("name", name, i))
            i = m.end()
            continue
        if ch.isdigit() or ch == "-":
            bad = _BAD_LITERAL_RE.match(text, i)
            literal = bad.group() if bad else ch  # it always matches at least ch
            raise syntax_error(i, f"'{literal}' is not a valid number, date, datetime or GUID")
        raise syntax_error(i, f"unexpected character '{ch}'")
    tokens.append(Token("end", "", n))
    return tokens


def _literal(text: str, i: int) -> Token | None:
    """The datetime, GUID, date or number literal at ``i``, if one is there."""
    for kind, pattern, value_of in _LITERALS:
        if m := pattern.match(text, i):
            try:
                return Token(kind, m.group(), i, value_of(m.group()))
            except ValueError:
                raise syntax_error(i, f"'{m.group()}' is not a valid {kind}") from None
    return None


def _moment(text: str) -> datetime:
    return aware(datetime.fromisoformat(text))


def _number(text: str) -> int | float:
    """An OData numeric literal; type suffixes (``M`` decimal, ``d``, ``f``, ``L``) are dropped."""
    body = text.rstrip("mMdDfFlL")
    if any(c in body for c in ".eE"):
        return float(body)
    return int(body)


#: The literals read by their pattern alone, in the order they are tried (a datetime before the
#: date it starts with, a GUID before the number it may start with).
_LITERALS: tuple[tuple[str, re.Pattern[str], Callable[[str], Any]], ...] = (
    ("datetime", _DATETIME_RE, _moment),
    ("guid", _GUID_RE, str.lower),
    ("date", _DATE_RE, _moment),
    ("number", _NUMBER_RE, _number),
)


def aware(value: datetime) -> datetime:
    # Both services store UTC; a value without an offset is read as UTC so it stays comparable.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
