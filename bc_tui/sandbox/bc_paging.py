"""Ordering and server-driven paging for the emulated Business Central API.

A list is ordered by ``$orderby`` (default: ``number``) with the id as the final tie-break,
so the order is total. A page's ``@odata.nextLink`` carries a ``$skiptoken`` that encodes the
sort values and id of the last row returned (keyset paging): the next page starts right after
that key even if rows were inserted or deleted meanwhile, and finding it is a binary search in
the ordered list rather than a rescan.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from .http import ApiError

#: BC's largest (and default) server-driven page.
MAX_PAGE_SIZE = 20_000

Getter = Callable[[Mapping[str, Any]], Any]
Ranked = tuple[int, Any]
_Row = TypeVar("_Row", bound=Mapping[str, Any])

_MAXPAGESIZE_RE = re.compile(r"(?:^|[,;\s])odata\.maxpagesize\s*=\s*\"?(\d+)\"?", re.IGNORECASE)


def _ranked_by(getter: Getter) -> Callable[[Mapping[str, Any]], Ranked]:
    """The sort key ranking what ``getter`` reads from a row (one function per pass)."""
    return lambda row: rank(getter(row))


def rank(value: Any) -> Ranked:
    """A sort key for one value: None first, then numbers, then text (case-insensitively)."""
    if value is None:
        return (0, 0)
    if isinstance(value, (bool, int, float)):
        return (1, value)
    if isinstance(value, str):
        return (2, value.casefold())  # BC's SQL collation is case-insensitive
    return (4, str(value))


@dataclass(frozen=True)
class Ordering:
    """A total order over rows: ``keys`` as ``(getter, descending)``, then the id ascending."""

    keys: tuple[tuple[Getter, bool], ...]

    def sort(self, rows: list[_Row]) -> None:
        """Sort ``rows`` in place (stable multi-pass: least significant key first)."""
        rows.sort(key=lambda row: row.get("id") or "")
        for getter, descending in reversed(self.keys):
            rows.sort(key=_ranked_by(getter), reverse=descending)

    def values(self, row: Mapping[str, Any]) -> list[Any]:
        """The raw sort values of ``row`` (what a skiptoken stores)."""
        return [getter(row) for getter, _ in self.keys]

    def key(self, values: Sequence[Any], row_id: str) -> _Position:
        return _Position(tuple(rank(v) for v in values), tuple(d for _, d in self.keys), row_id)

    def row_key(self, row: Mapping[str, Any]) -> _Position:
        return self.key(self.values(row), row.get("id") or "")


class _Position:
    """A comparable position in an :class:`Ordering` (used only for binary search)."""

    __slots__ = ("ranked", "descending", "row_id")

    def __init__(self, ranked: tuple[Ranked, ...], descending: tuple[bool, ...], row_id: str) -> None:
        self.ranked = ranked
        self.descending = descending
        self.row_id = row_id

    def __lt__(self, other: _Position) -> bool:
        for mine, theirs, desc in zip(self.ranked, other.ranked, self.descending, strict=True):
            if mine == theirs:
                continue
            try:
                return mine > theirs if desc else mine < theirs
            except TypeError:  # same rank, incomparable payloads: order by text
                return str(mine) > str(theirs) if desc else str(mine) < str(theirs)
        return self.row_id < other.row_id


@dataclass(frozen=True)
class SkipToken:
    """Where the previous page ended, and how many rows were returned so far (for $top)."""

    values: tuple[Any, ...]
    row_id: str
    returned: int

    def encode(self) -> str:
        payload = json.dumps({"k": list(self.values), "i": self.row_id, "n": self.returned}, separators=(",", ":"))
        return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str, key_count: int) -> SkipToken:
        """Read a token from a nextLink; raise ApiError(400) when it is not one of ours."""
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            data = json.loads(raw)
            values, row_id, returned = data["k"], data["i"], data["n"]
            if not (
                isinstance(values, list)
                and len(values) == key_count
                and isinstance(row_id, str)
                and isinstance(returned, int)
                and returned >= 0
            ):
                raise ValueError("bad shape")
        except (ValueError, KeyError, TypeError, binascii.Error):
            raise ApiError(
                400,
                "BadRequest",
                "The $skiptoken is not valid for this request; follow @odata.nextLink exactly as returned.",
            ) from None
        return cls(tuple(values), row_id, returned)


def max_page_size(prefer: str | None) -> int | None:
    """The ``odata.maxpagesize`` a ``Prefer`` header asks for (capped), or None."""
    if not prefer:
        return None
    m = _MAXPAGESIZE_RE.search(prefer)
    if not m:
        return None
    return max(1, min(int(m.group(1)), MAX_PAGE_SIZE))


@dataclass(frozen=True)
class Page:
    rows: list[Mapping[str, Any]]
    next_token: SkipToken | None


def take_page(
    ordered: Sequence[Mapping[str, Any]],
    ordering: Ordering,
    *,
    token: SkipToken | None,
    skip: int | None,
    top: int | None,
    page_size: int,
) -> Page:
    """Cut one page out of the fully ordered rows.

    ``$skip`` applies only to the first page; a token resumes right after its key. ``$top``
    bounds the total over all pages.
    """
    if token is not None:
        start = bisect.bisect_right(ordered, ordering.key(token.values, token.row_id), key=ordering.row_key)
        returned = token.returned
    else:
        start = min(skip or 0, len(ordered))
        returned = 0
    limit = page_size if top is None else max(0, min(page_size, top - returned))
    rows = list(ordered[start : start + limit])
    end = start + len(rows)
    more = end < len(ordered) and (top is None or returned + len(rows) < top)
    if not more or not rows:
        return Page(rows, None)
    last = rows[-1]
    return Page(rows, SkipToken(tuple(ordering.values(last)), last.get("id") or "", returned + len(rows)))
