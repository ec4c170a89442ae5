"""Server-driven paging for the Dataverse emulation: sort keys and the ``$skiptoken`` cookie.

Pages are keyset pages, as Dataverse's paging cookie makes them: the token records the
ordering values of the last row served (always ending with the primary key, so the order is
total), and the next page is every row that sorts after it. Rows inserted or deleted between
pages therefore never make another row appear twice or go missing.

The token looks like the real one: an XML ``<cookie pagenumber="2" pagingcookie="…"
istracking="False" />`` whose ``pagingcookie`` holds the URL-encoded inner cookie
``<cookie page="1"><name last="…" /><accountid last="{GUID}" first="{GUID}" /></cookie>``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote
from xml.sax.saxutils import quoteattr

OrderKey = tuple[str, bool]


class SkipTokenError(ValueError):
    """The ``$skiptoken`` was not produced by this service (or for another ordering)."""


def value_key(value: Any) -> tuple[int, Any]:
    """A comparable key for one value, matching ``odata_query.sort_rows``.

    None ranks lowest (first ascending, last descending); numbers before text; text compares
    case-insensitively, like the service's SQL collation.
    """
    kind = type(value)
    if kind is str:
        return (2, value.casefold())
    if value is None:
        return (0, 0)
    if kind is int or kind is float or kind is bool:
        return (1, value)
    return (4, str(value))


RowKey = Callable[[Mapping[str, Any]], Any]


class OrderKeys:
    """Sort keys for one request's ``order`` (which must end with the primary key).

    Keys are plain tuples that Python compares in C. A descending column becomes the
    negated rank of its value among the values present (plus the cursor's), because text
    cannot simply be negated. The primary key closing the order is compared as stored
    (lower-case GUID text). ``stored_name`` maps an API property to the store's field where
    they differ (``versionnumber`` -> ``_version``), or to a function of the stored row for a
    property the API computes (``modifiedon``).
    """

    def __init__(
        self,
        order: Sequence[OrderKey],
        stored_name: Mapping[str, str | RowKey],
        rows: Sequence[Mapping[str, Any]],
        cursor_values: Sequence[Any] | None = None,
    ) -> None:
        readers = [_reader(stored_name.get(name, name)) for name, _ in order]
        self._parts: list[RowKey] = []
        self._value_parts: list[Callable[[Any], Any]] = []
        for index, ((_, descending), read) in enumerate(zip(order, readers, strict=True)):
            last = index == len(order) - 1
            if descending:
                extra = () if cursor_values is None else (cursor_values[index],)
                ranks = _descending_ranks([read(row) for row in rows], extra)
                self._value_parts.append(ranks.__getitem__)
            elif last:
                self._value_parts.append(_identity)
            else:
                self._value_parts.append(value_key)
            self._parts.append(_field_part(read, self._value_parts[-1]))
        if len(self._parts) == 1:
            self.of_row: RowKey = self._parts[0]
        elif len(self._parts) == 2:
            first, second = self._parts
            self.of_row = lambda row: (first(row), second(row))
        else:
            parts = self._parts
            self.of_row = lambda row: tuple([part(row) for part in parts])

    def of_values(self, values: Sequence[Any]) -> Any:
        """The sort key of a row whose ordering values are ``values`` (e.g. from a token)."""
        keys = [convert(value) for convert, value in zip(self._value_parts, values, strict=True)]
        return keys[0] if len(keys) == 1 else tuple(keys)


def _identity(value: Any) -> Any:
    return value


def _reader(source: str | RowKey) -> RowKey:
    """How to read one ordering value from a stored row: a stored field's name, or a function
    for a property the API computes from stored fields (``modifiedon`` in whole seconds)."""
    if callable(source):
        return source
    return lambda row: row.get(source)


def _field_part(read: RowKey, convert: Callable[[Any], Any]) -> RowKey:
    if convert is _identity:
        return read
    return lambda row: convert(read(row))


def _descending_ranks(values: Sequence[Any], extra: Sequence[Any]) -> dict[Any, int]:
    """Raw value -> negated rank, equal (case-insensitively) values sharing a rank."""
    distinct = sorted(set(values).union(extra), key=value_key)
    ranks: dict[Any, int] = {}
    rank, previous = 0, object()
    for value in distinct:
        key = value_key(value)
        if key != previous:
            rank, previous = rank + 1, key
        ranks[value] = -rank
    return ranks


@dataclass(frozen=True)
class PageCursor:
    """Where the next page starts: after the row with these ordering values."""

    page_number: int
    values: tuple[Any, ...]


def _typed_attributes(value: Any) -> str:
    if value is None:
        return ' type="null"'
    if isinstance(value, bool):
        return f' last={quoteattr(str(value).lower())} type="bool"'
    if isinstance(value, int):
        return f' last={quoteattr(str(value))} type="int"'
    if isinstance(value, float):
        return f' last={quoteattr(repr(value))} type="float"'
    return f" last={quoteattr(str(value))}"


def encode_skiptoken(order: Sequence[OrderKey], last_values: Sequence[Any], first_key: str, page_number: int) -> str:
    """The ``$skiptoken`` for page ``page_number + 1`` after a row with ``last_values``.

    ``order``'s last entry is the primary key; ``first_key`` is the first row of the page
    just served (informational, as in the real cookie).
    """
    elements = []
    for (name, _), value in zip(order[:-1], last_values[:-1], strict=True):
        elements.append(f"<{name}{_typed_attributes(value)} />")
    pk_name = order[-1][0]
    elements.append(
        f"<{pk_name} last={quoteattr('{' + str(last_values[-1]).upper() + '}')} "
        f"first={quoteattr('{' + first_key.upper() + '}')} />"
    )
    inner = f'<cookie page="{page_number}">{"".join(elements)}</cookie>'
    return (
        f'<cookie pagenumber="{page_number + 1}" pagingcookie={quoteattr(quote(inner, safe=""))} istracking="False" />'
    )


def _typed_value(element: ElementTree.Element) -> Any:
    kind = element.get("type")
    raw = element.get("last")
    if kind == "null":
        return None
    if raw is None:
        raise SkipTokenError("a cookie element has no 'last' value")
    if kind == "int":
        return int(raw)
    if kind == "float":
        return float(raw)
    if kind == "bool":
        return raw == "true"
    return raw


def decode_skiptoken(token: str, order: Sequence[OrderKey]) -> PageCursor:
    """Read a ``$skiptoken`` produced by ``encode_skiptoken`` for the same ``order``."""
    try:
        outer = ElementTree.fromstring(token)
        page_number = int(outer.get("pagenumber", ""))
        inner = ElementTree.fromstring(unquote(outer.get("pagingcookie", "")))
        children = list(inner)
        if [c.tag for c in children] != [name for name, _ in order]:
            raise SkipTokenError("the paging cookie was made for another $orderby")
        values = [_typed_value(c) for c in children[:-1]]
        values.append(str(children[-1].get("last", "")).strip("{}").lower())
    except SkipTokenError:
        raise
    except (ElementTree.ParseError, ValueError, TypeError) as exc:
        raise SkipTokenError(str(exc)) from exc
    return PageCursor(page_number - 1, tuple(values))
