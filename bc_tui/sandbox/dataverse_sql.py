"""Read-only SQL on an entity set (``GET accounts?sql=SELECT …``), the subset the sandbox reads.

``SELECT [TOP n] column, … FROM <table> [WHERE …] [ORDER BY column [ASC|DESC], …]``, where the
``WHERE`` clause is conditions (``= != <> > >= < <=``, ``LIKE``, ``IS [NOT] NULL``, ``IN (…)``)
joined all by ``AND`` or all by ``OR``. The statement is turned into the FetchXML it means and
run as FetchXML (``dataverse_fetchxml``). Joins, grouping, aggregates, ``SELECT *`` and the
rest are refused; see docs/sandbox-fidelity.md, "FetchXML, SQL and saved queries".
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree

from .dataverse_fetchxml import FetchQuery, invalid, parse_fetch_xml, unsupported
from .dataverse_tables import Table

_STATEMENT_RE = re.compile(
    r"^\s*SELECT\s+(?:TOP\s+(?P<top>\d+)\s+)?(?P<columns>.+?)\s+FROM\s+(?P<table>[A-Za-z_][A-Za-z0-9_]*)"
    r"(?:\s+WHERE\s+(?P<where>.+?))?(?:\s+ORDER\s+BY\s+(?P<order>.+?))?\s*;?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_LITERAL = r"(?:'(?:[^']|'')*'|-?\d+(?:\.\d+)?)"
_CONDITION_RE = re.compile(
    rf"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*(?:(?P<op>=|!=|<>|>=|<=|>|<|(?:NOT\s+)?LIKE)\s*(?P<value>{_LITERAL})"
    rf"|\s+(?P<null>IS\s+(?:NOT\s+)?NULL)|\s+(?P<in>(?:NOT\s+)?IN)\s*\((?P<values>{_LITERAL}(?:\s*,\s*{_LITERAL})*)\))$",
    re.IGNORECASE | re.DOTALL,
)
_OPERATORS = {"=": "eq", "!=": "ne", "<>": "ne", ">": "gt", ">=": "ge", "<": "lt", "<=": "le", "like": "like",
              "not like": "not-like"}
#: Words that mean something the subset does not read (joins, grouping, functions…).
_UNSUPPORTED_RE = re.compile(r"\b(JOIN|GROUP\s+BY|HAVING|UNION|DISTINCT|OFFSET|COUNT|SUM|AVG|MIN|MAX|CASE|SELECT\s+.*\bSELECT)\b",
                             re.IGNORECASE | re.DOTALL)


def parse_sql(text: str, table: Table) -> FetchQuery:
    """Read a ``?sql=`` statement for ``table`` as the FetchXML query it means."""
    if _UNSUPPORTED_RE.search(text):
        raise unsupported(f"this SQL statement ({_UNSUPPORTED_RE.search(text).group(1).upper()})")  # type: ignore[union-attr]
    match = _STATEMENT_RE.match(text)
    if match is None:
        raise invalid("The SQL statement is not a SELECT … FROM … statement the service can run.")
    if match.group("table").lower() != table.logical_name:
        raise invalid(
            f"The SQL statement reads '{match.group('table')}', not the entity set's table '{table.logical_name}'."
        )
    fetch = ElementTree.Element("fetch")
    if match.group("top"):
        fetch.set("top", match.group("top"))
    entity = ElementTree.SubElement(fetch, "entity", name=table.logical_name)
    columns = [c.strip() for c in match.group("columns").split(",")]
    if columns == ["*"]:
        raise invalid("SELECT * is not supported; name the columns to read.")
    for column in columns:
        if not _NAME_RE.match(column):
            raise unsupported(f"the SQL select item '{column}'")
        ElementTree.SubElement(entity, "attribute", name=column.lower())
    if match.group("where"):
        entity.append(_where(match.group("where")))
    for item in (match.group("order") or "").split(","):
        words = item.split()
        if not words:
            continue
        if len(words) > 2 or not _NAME_RE.match(words[0]) or (len(words) == 2 and words[1].lower() not in ("asc", "desc")):
            raise invalid(f"The ORDER BY item '{item.strip()}' is not a column with ASC or DESC.")
        descending = "true" if len(words) == 2 and words[1].lower() == "desc" else "false"
        ElementTree.SubElement(entity, "order", attribute=words[0].lower(), descending=descending)
    return parse_fetch_xml(ElementTree.tostring(fetch, encoding="unicode"), table)


def _where(text: str) -> ElementTree.Element:
    if "(" in re.sub(rf"\bIN\s*\({_LITERAL}(?:\s*,\s*{_LITERAL})*\)|'(?:[^']|'')*'", "", text, flags=re.IGNORECASE):
        raise unsupported("parentheses in a SQL WHERE clause")
    parts = _split_outside_quotes(text)
    joins = {word.upper() for word in parts[1::2]}
    if len(joins) > 1:
        raise unsupported("a SQL WHERE clause that mixes AND and OR")
    filter_ = ElementTree.Element("filter", type=(joins.pop().lower() if joins else "and"))
    for condition_text in parts[0::2]:
        match = _CONDITION_RE.match(condition_text.strip())
        if match is None:
            raise invalid(f"The SQL condition '{condition_text.strip()}' is not valid.")
        condition = ElementTree.SubElement(filter_, "condition", attribute=match.group("name").lower())
        if match.group("null"):
            condition.set("operator", "not-null" if "NOT" in match.group("null").upper() else "null")
        elif match.group("in"):
            condition.set("operator", "not-in" if "NOT" in match.group("in").upper() else "in")
            for literal in re.findall(_LITERAL, match.group("values")):
                ElementTree.SubElement(condition, "value").text = _unquote(literal)
        else:
            condition.set("operator", _OPERATORS[" ".join(match.group("op").lower().split())])
            condition.set("value", _unquote(match.group("value")))
    return filter_


def _split_outside_quotes(text: str) -> list[str]:
    """``a = 'x and y' AND b = 1`` -> ``["a = 'x and y'", "AND", "b = 1"]``."""
    pieces = re.split(r"('(?:[^']|'')*')", text)
    out: list[str] = [""]
    for index, piece in enumerate(pieces):
        if index % 2:
            out[-1] += piece
            continue
        words = re.split(r"\s+(AND|OR)\s+", piece, flags=re.IGNORECASE)
        out[-1] += words[0]
        for join, rest in zip(words[1::2], words[2::2]):
            out.extend([join, rest])
    return out


def _unquote(literal: str) -> str:
    return literal[1:-1].replace("''", "'") if literal.startswith("'") else literal
