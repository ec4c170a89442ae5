"""FetchXML queries on an entity set (``GET accounts?fetchXml=<url-encoded xml>``).

The sandbox reads the single-table part of FetchXML: ``attribute``/``all-attributes``,
``order``, nested ``filter`` with ``condition`` (the comparison, ``like``, ``null`` and ``in``
operators), and ``top``/``count``/``page``/``returntotalrecordcount``. What the service can do
but the sandbox cannot (``link-entity``, aggregates, other operators) is refused with 501;
what the service itself refuses (an attribute the table lacks, ``top`` with paging) gets its
error. See docs/sandbox-fidelity.md, "FetchXML, SQL and saved queries".
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .dataverse_errors import E_BAD_REQUEST, normalize_guid
from .dataverse_tables import BIGINT, DATETIME, DECIMAL, GUID, INT, Table
from .http import ApiError
from .like_patterns import like_regex

Predicate = Callable[[Mapping[str, Any]], bool]

#: The most rows a FetchXML page (``count``) or ``top`` may ask for.
MAX_FETCH_ROWS = 5000
#: The service's code for a FetchXML that does not parse or breaks the schema.
E_INVALID_ARGUMENT = "0x80040203"
#: The service's code for an attribute the table does not have.
E_NO_ATTRIBUTE = "0x80041103"

_FETCH_ATTRIBUTES = frozenset(
    {
        "top",
        "count",
        "page",
        "returntotalrecordcount",
        "mapping",
        "version",
        "no-lock",
        "output-format",
        "distinct",
        "aggregate",
        "paging-cookie",
    }
)


@dataclass(frozen=True)
class FetchQuery:
    """A parsed FetchXML query over one table."""

    #: Requested columns as the API names them; None for ``all-attributes``.
    columns: tuple[str, ...] | None
    predicate: Predicate | None
    order: tuple[tuple[str, bool], ...]
    top: int | None
    page_size: int
    page: int
    total_count: bool
    #: Column -> the name it is answered under (an ``alias``), for aliased attributes only.
    aliases: tuple[tuple[str, str], ...] = ()


def invalid(message: str) -> ApiError:
    """The service's 400 for a FetchXML it cannot read."""
    return ApiError(400, E_INVALID_ARGUMENT, message)


def unsupported(what: str, language: str = "FetchXML") -> ApiError:
    """A 501 for a query the real service runs but the sandbox does not emulate."""
    return ApiError(501, E_BAD_REQUEST, f"The sandbox does not emulate {what} in {language}.")


def parse_fetch_xml(text: str, table: Table) -> FetchQuery:
    """Read a FetchXML query for ``table``; ApiError when it is malformed or unsupported."""
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError as exc:
        raise invalid(f"The FetchXML is not well-formed XML: {exc}.") from exc
    if root.tag != "fetch":
        raise invalid(f"The root element of a FetchXML query must be 'fetch', not '{root.tag}'.")
    for name in root.attrib:
        if name not in _FETCH_ATTRIBUTES:
            raise invalid(f"The 'fetch' element has no attribute '{name}'.")
    for flag in ("aggregate", "distinct"):
        if root.get(flag, "false").lower() == "true":
            raise unsupported(f"{flag}='true'")
    entities = [child for child in root if child.tag == "entity"]
    if len(entities) != 1 or len(root) != 1:
        raise invalid("A FetchXML query must hold exactly one 'entity' element.")
    entity = entities[0]
    if entity.get("name") != table.logical_name:
        raise invalid(
            f"The FetchXML entity '{entity.get('name')}' does not match the entity set '{table.entity_set}' "
            f"(entity '{table.logical_name}')."
        )
    top = _number(root, "top")
    page_size = _number(root, "count")
    page = _number(root, "page")
    if top is not None and (page_size is not None or page is not None):
        raise invalid("The 'top' attribute can't be used together with the 'count' or 'page' attributes.")
    total_count = root.get("returntotalrecordcount", "false").lower() == "true"
    if top is not None and total_count:
        raise invalid("The 'top' attribute can't be used together with 'returntotalrecordcount'.")
    columns: list[str] | None = []
    aliases: dict[str, str] = {}
    order: list[tuple[str, bool]] = []
    filters: list[Predicate] = []
    for child in entity:
        if child.tag == "attribute":
            if child.get("aggregate") or child.get("groupby"):
                raise unsupported("aggregate attributes")
            column = column_name(table, child.get("name", ""))
            if child.get("alias"):
                aliases[column] = child.get("alias", "")
            if columns is not None:
                columns.append(column)
        elif child.tag == "all-attributes":
            columns = None
        elif child.tag == "order":
            if child.get("alias"):
                raise unsupported("ordering by an alias")
            order.append(
                (column_name(table, child.get("attribute", "")), child.get("descending", "false").lower() == "true")
            )
        elif child.tag == "filter":
            filters.append(_filter(child, table))
        elif child.tag == "link-entity":
            raise unsupported("'link-entity' (joins)")
        else:
            raise invalid(f"The 'entity' element can't contain a '{child.tag}' element.")
    predicate = (lambda row: all(f(row) for f in filters)) if filters else None
    return FetchQuery(
        columns=None if columns is None else tuple(dict.fromkeys(columns)),
        predicate=predicate,
        order=tuple(order),
        top=top,
        page_size=page_size or MAX_FETCH_ROWS,
        page=page or 1,
        total_count=total_count,
        aliases=tuple(aliases.items()),
    )


def column_name(table: Table, logical: str) -> str:
    """The API property of a FetchXML attribute (a lookup ``x`` is ``_x_value``)."""
    for lookup in table.lookups:
        if lookup.name == logical:
            return lookup.value_field
    if logical in table.properties and not logical.startswith("_"):
        return logical
    raise ApiError(
        400,
        E_NO_ATTRIBUTE,
        f"'{table.logical_name}' entity doesn't contain attribute with Name = '{logical}' and NameMapping = 'Logical'.",
    )


def _number(element: ElementTree.Element, name: str) -> int | None:
    text = element.get(name)
    if text is None:
        return None
    if not text.isdigit() or not 1 <= int(text) <= (MAX_FETCH_ROWS if name != "page" else 10**9):
        raise invalid(
            f"The value '{text}' of the '{name}' attribute is not valid; it must be a whole "
            f"number from 1 to {MAX_FETCH_ROWS}."
        )
    return int(text)


def _filter(element: ElementTree.Element, table: Table) -> Predicate:
    kind = element.get("type", "and").lower()
    if kind not in ("and", "or"):
        raise invalid(f"The filter type '{kind}' is not valid; use 'and' or 'or'.")
    parts: list[Predicate] = []
    for child in element:
        if child.tag == "condition":
            parts.append(_condition(child, table))
        elif child.tag == "filter":
            parts.append(_filter(child, table))
        else:
            raise invalid(f"The 'filter' element can't contain a '{child.tag}' element.")
    if kind == "and":
        return lambda row: all(p(row) for p in parts)
    return lambda row: any(p(row) for p in parts)


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "neq": lambda a, b: a != b,
    "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
}


def _condition(element: ElementTree.Element, table: Table) -> Predicate:
    if element.get("entityname"):
        raise unsupported("conditions on linked tables ('entityname')")
    name = column_name(table, element.get("attribute", ""))
    kind = table.properties[name]
    operator = element.get("operator", "")
    if operator == "null":
        return lambda row: row.get(name) is None
    if operator == "not-null":
        return lambda row: row.get(name) is not None
    if operator in ("between", "not-between"):
        bounds = [_comparable(typed_value(kind, v.text or "")) for v in element if v.tag == "value"]
        if len(bounds) != 2:
            raise invalid(f"The '{operator}' condition on '{name}' needs exactly two 'value' elements.")
        low, high = bounds

        def within(row: Mapping[str, Any]) -> bool:
            current = row.get(name)
            if current is None:
                return False
            try:
                inside: bool = low <= _comparable(current) <= high
                return inside == (operator == "between")
            except TypeError:
                return False

        return within
    if operator in ("in", "not-in"):
        values = [typed_value(kind, v.text or "") for v in element if v.tag == "value"]
        if not values:
            raise invalid(f"The '{operator}' condition on '{name}' needs at least one 'value' element.")
        wanted = {_comparable(v) for v in values}
        if operator == "in":
            return lambda row: _comparable(row.get(name)) in wanted
        return lambda row: row.get(name) is not None and _comparable(row.get(name)) not in wanted
    value_text = element.get("value")
    if value_text is None:
        raise invalid(f"The '{operator}' condition on '{name}' has no 'value'.")
    if operator in ("like", "not-like", "begins-with", "ends-with", "not-begin-with", "not-end-with"):
        pattern = {
            "begins-with": f"{value_text}%",
            "not-begin-with": f"{value_text}%",
            "ends-with": f"%{value_text}",
            "not-end-with": f"%{value_text}",
        }.get(operator, value_text)
        regex = re.compile(like_regex(pattern), re.IGNORECASE | re.DOTALL)
        negate = operator.startswith("not")
        return lambda row: row.get(name) is not None and bool(regex.fullmatch(str(row.get(name)))) != negate
    compare = _COMPARE.get(operator)
    if compare is None:
        raise unsupported(f"the condition operator '{operator}'")
    wanted_value = _comparable(typed_value(kind, value_text))

    def matches(row: Mapping[str, Any]) -> bool:
        current = row.get(name)
        if current is None:
            return False  # SQL semantics: a comparison with null is never true
        try:
            return compare(_comparable(current), wanted_value)
        except TypeError:
            return False

    return matches


def typed_value(kind: str, text: str) -> Any:
    """A condition's text value as the column's type; 400 when it is not one."""
    text = text.strip()
    try:
        if kind in (INT, BIGINT):
            return int(text)
        if kind == DECIMAL:
            return float(text)
        if kind == DATETIME:
            return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise invalid(f"The value '{text}' is not valid for a column of type {kind}.") from exc
    if kind == GUID:
        guid = normalize_guid(text)
        if guid is None:
            raise invalid(f"The value '{text}' is not a valid GUID.")
        return guid
    return text


def _comparable(value: Any) -> Any:
    """Strings compare case-insensitively (the service's collation); ISO texts as datetimes."""
    if isinstance(value, str):
        if len(value) >= 19 and value[4:5] == "-" and value[10:11] == "T":
            try:
                moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
                return moment if moment.tzinfo else moment.replace(tzinfo=None)
            except ValueError:
                pass
        return value.casefold()
    if isinstance(value, datetime) and value.tzinfo is None:
        return value
    return value
