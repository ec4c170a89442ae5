"""Read-only SQL on an entity set (``GET accounts?sql=SELECT …``), the single-table part of what
the service documents ("Use SQL to query data by using the Dataverse Web API").

``SELECT [TOP n] column [AS alias], … FROM <table> [[AS] a] [WHERE …] [ORDER BY column [ASC|DESC], …]``
with columns optionally qualified by the table or its alias. ``WHERE`` compares a column with a
literal (``= != <> < > <= >=``, ``[NOT] LIKE``, ``[NOT] IN (…)``, ``[NOT] BETWEEN … AND …``,
``IS [NOT] NULL``) joined by ``AND``/``OR`` with parentheses. The statement becomes the FetchXML
it means and runs as FetchXML (``dataverse_fetchxml``). What the service refuses (``SELECT *``,
subqueries, ``EXISTS``, literal-to-literal comparisons, ``OFFSET … FETCH``, another statement) is
400; what it runs but the sandbox does not (joins, ``DISTINCT``, grouping, aggregates, functions)
is 501. See docs/sandbox-fidelity.md, "FetchXML, SQL and saved queries".
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable

from .dataverse_fetchxml import FetchQuery, invalid, parse_fetch_xml
from .dataverse_fetchxml import unsupported as _unsupported
from .dataverse_tables import Table

_TOKEN_RE = re.compile(
    r"\s*(?:(?P<string>'(?:[^']|'')*')|(?P<number>-?\d+(?:\.\d+)?)|(?P<name>[A-Za-z_][A-Za-z0-9_]*|\[[^\]]+\])"
    r"|(?P<op><>|!=|<=|>=|[=<>(),.*;]))"
)
_COMPARISONS = {"=": "eq", "!=": "ne", "<>": "ne", "<": "lt", ">": "gt", "<=": "le", ">=": "ge"}
#: Words that start what the sandbox does not emulate (the service runs them).
_NOT_EMULATED = {
    "JOIN": "JOIN",
    "INNER": "JOIN",
    "LEFT": "JOIN",
    "GROUP": "GROUP BY",
    "DISTINCT": "DISTINCT",
    "HAVING": "HAVING",
    "UNION": "UNION",
}


class _Tokens:
    """The statement's tokens with a cursor; words compare case-insensitively."""

    def __init__(self, text: str) -> None:
        self.items: list[tuple[str, str]] = []
        pos = 0
        while pos < len(text.rstrip()):
            match = _TOKEN_RE.match(text, pos)
            if match is None or match.end() == pos:
                raise invalid(f"The SQL statement has an unexpected character at position {pos}.")
            kind = match.lastgroup or "op"
            value = match.group(kind)
            if kind == "name" and value.startswith("["):
                value = value[1:-1]
            self.items.append((kind, value))
            pos = match.end()
        self.pos = 0

    def peek(self, offset: int = 0) -> tuple[str, str]:
        index = self.pos + offset
        return self.items[index] if index < len(self.items) else ("end", "")

    def word(self, *words: str) -> bool:
        kind, value = self.peek()
        return kind == "name" and value.upper() in words

    def take(self) -> tuple[str, str]:
        item = self.peek()
        self.pos += 1
        return item

    def expect_word(self, word: str) -> None:
        if not self.word(word):
            raise invalid(f"The SQL statement needs {word} where it has '{self.peek()[1] or 'its end'}'.")
        self.pos += 1

    def expect_op(self, op: str) -> None:
        if self.peek() != ("op", op):
            raise invalid(f"The SQL statement needs '{op}' where it has '{self.peek()[1] or 'its end'}'.")
        self.pos += 1


def parse_sql(text: str, table: Table) -> FetchQuery:
    """Read a ``?sql=`` statement for ``table`` as the FetchXML query it means."""
    tokens = _Tokens(text)
    if not tokens.word("SELECT"):
        raise invalid("The SQL statement must be a single SELECT statement; other statements are not supported.")
    tokens.take()
    _refuse_not_emulated(tokens)
    fetch = ElementTree.Element("fetch")
    if tokens.word("TOP"):
        tokens.take()
        kind, value = tokens.take()
        if kind != "number" or "." in value or value.startswith("-"):
            raise invalid("TOP needs a whole number of rows.")
        fetch.set("top", value)
    entity = ElementTree.SubElement(fetch, "entity", name=table.logical_name)
    items = _select_list(tokens)
    tokens.expect_word("FROM")
    kind, name = tokens.take()
    if kind != "name" or name.lower() != table.logical_name:
        raise invalid(f"The SQL statement reads '{name}', not the entity set's table '{table.logical_name}'.")
    qualifiers = {table.logical_name}
    if tokens.word("AS"):
        tokens.take()
    if tokens.peek()[0] == "name" and not tokens.word("WHERE", "ORDER", "OFFSET", *_NOT_EMULATED):
        qualifiers.add(tokens.take()[1].lower())
    _refuse_not_emulated(tokens)
    for qualifier, column, alias in items:
        _check_qualifier(qualifier, qualifiers)
        attribute = ElementTree.SubElement(entity, "attribute", name=column)
        if alias:
            attribute.set("alias", alias)
    if tokens.word("WHERE"):
        tokens.take()
        condition = _or(tokens, qualifiers)
        entity.append(condition if condition.tag == "filter" else _wrap("and", [condition]))
    _refuse_not_emulated(tokens)
    if tokens.word("ORDER"):
        tokens.take()
        tokens.expect_word("BY")
        while True:
            qualifier, column = _column(tokens)
            _check_qualifier(qualifier, qualifiers)
            descending = "false"
            if tokens.word("ASC", "DESC"):
                descending = "true" if tokens.take()[1].upper() == "DESC" else "false"
            ElementTree.SubElement(entity, "order", attribute=column, descending=descending)
            if tokens.peek() != ("op", ","):
                break
            tokens.take()
    if tokens.word("OFFSET", "FETCH"):
        raise invalid("OFFSET … FETCH is not supported in queries; use Prefer: odata.maxpagesize to page.")
    if tokens.peek() == ("op", ";"):
        tokens.take()
    if tokens.peek()[0] != "end":
        raise invalid("Commands with more than one statement or result set are not supported.")
    return parse_fetch_xml(ElementTree.tostring(fetch, encoding="unicode"), table)


def unsupported(what: str) -> Exception:
    """A 501 for SQL the real service runs but the sandbox does not emulate."""
    return _unsupported(what, "SQL")


def _refuse_not_emulated(tokens: _Tokens) -> None:
    kind, value = tokens.peek()
    if kind == "name" and value.upper() in _NOT_EMULATED:
        raise unsupported(_NOT_EMULATED[value.upper()])


def _select_list(tokens: _Tokens) -> list[tuple[str | None, str, str | None]]:
    items: list[tuple[str | None, str, str | None]] = []
    while True:
        if tokens.peek() == ("op", "*"):
            raise invalid("SELECT * is not supported; name each column to read.")
        if tokens.peek()[0] == "name" and tokens.peek(1) == ("op", "("):
            raise unsupported(f"functions and aggregates ({tokens.peek()[1].upper()})")
        qualifier, column = _column(tokens)
        alias = None
        if tokens.word("AS"):
            tokens.take()
            kind, alias = tokens.take()
            if kind != "name":
                raise invalid(f"The column alias after AS must be a name, not '{alias}'.")
        items.append((qualifier, column, alias))
        if tokens.peek() != ("op", ","):
            return items
        tokens.take()


def _column(tokens: _Tokens) -> tuple[str | None, str]:
    kind, first = tokens.take()
    if kind != "name":
        raise invalid(f"The SQL statement needs a column name where it has '{first or 'its end'}'.")
    if tokens.peek() == ("op", "."):
        tokens.take()
        kind, second = tokens.take()
        if kind != "name":
            raise invalid(f"The SQL statement needs a column name after '{first}.'.")
        return first.lower(), second.lower()
    return None, first.lower()


def _check_qualifier(qualifier: str | None, qualifiers: set[str]) -> None:
    if qualifier is not None and qualifier not in qualifiers:
        raise unsupported(f"columns of another table ('{qualifier}'), which need a join")


def _wrap(kind: str, parts: list[ElementTree.Element]) -> ElementTree.Element:
    element = ElementTree.Element("filter", type=kind)
    element.extend(parts)
    return element


def _or(tokens: _Tokens, qualifiers: set[str]) -> ElementTree.Element:
    return _joined(tokens, qualifiers, "OR", _and)


def _and(tokens: _Tokens, qualifiers: set[str]) -> ElementTree.Element:
    return _joined(tokens, qualifiers, "AND", _primary)


def _joined(
    tokens: _Tokens, qualifiers: set[str], word: str, operand: Callable[[_Tokens, set[str]], ElementTree.Element]
) -> ElementTree.Element:
    """Operands joined by ``word`` (AND binds tighter than OR), as one FetchXML filter when there are several."""
    parts = [operand(tokens, qualifiers)]
    while tokens.word(word):
        tokens.take()
        parts.append(operand(tokens, qualifiers))
    return parts[0] if len(parts) == 1 else _wrap(word.lower(), parts)


def _primary(tokens: _Tokens, qualifiers: set[str]) -> ElementTree.Element:
    if tokens.peek() == ("op", "("):
        tokens.take()
        inner = _or(tokens, qualifiers)
        tokens.expect_op(")")
        return inner if inner.tag == "filter" else _wrap("and", [inner])
    if tokens.word("EXISTS", "NOT") and (tokens.word("EXISTS") or tokens.peek(1)[1].upper() == "EXISTS"):
        raise invalid("EXISTS and NOT EXISTS are not supported in a WHERE clause.")
    if tokens.word("NOT"):
        raise unsupported("NOT before a condition")
    if tokens.peek()[0] in ("string", "number"):
        raise invalid("Literal-to-literal comparisons are not supported; compare a column with a literal value.")
    qualifier, column = _column(tokens)
    _check_qualifier(qualifier, qualifiers)
    condition = ElementTree.Element("condition", attribute=column)
    negated = False
    if tokens.word("NOT"):
        tokens.take()
        negated = True
    kind, word = tokens.peek()
    if kind == "op" and word in _COMPARISONS and not negated:
        tokens.take()
        if tokens.word("NULL"):  # "= NULL" is no test for null: it matches nothing, as in SQL
            tokens.take()
            return _wrap(
                "and",
                [
                    ElementTree.Element("condition", attribute=column, operator="null"),
                    ElementTree.Element("condition", attribute=column, operator="not-null"),
                ],
            )
        condition.set("operator", _COMPARISONS[word])
        condition.set("value", _literal(tokens))
    elif tokens.word("LIKE"):
        tokens.take()
        condition.set("operator", "not-like" if negated else "like")
        if tokens.peek()[0] != "string":
            raise invalid("LIKE needs a quoted pattern.")
        condition.set("value", _literal(tokens))
    elif tokens.word("IN"):
        tokens.take()
        tokens.expect_op("(")
        if tokens.word("SELECT"):
            raise invalid("Subqueries are not supported in a WHERE clause.")
        condition.set("operator", "not-in" if negated else "in")
        while True:
            ElementTree.SubElement(condition, "value").text = _literal(tokens)
            if tokens.peek() != ("op", ","):
                break
            tokens.take()
        tokens.expect_op(")")
    elif tokens.word("BETWEEN"):
        tokens.take()
        condition.set("operator", "not-between" if negated else "between")
        ElementTree.SubElement(condition, "value").text = _literal(tokens)
        tokens.expect_word("AND")
        ElementTree.SubElement(condition, "value").text = _literal(tokens)
    elif tokens.word("IS") and not negated:
        tokens.take()
        operator = "null"
        if tokens.word("NOT"):
            tokens.take()
            operator = "not-null"
        tokens.expect_word("NULL")
        condition.set("operator", operator)
    else:
        raise invalid(f"The SQL condition on '{column}' is not valid at '{word or 'its end'}'.")
    return condition


def _literal(tokens: _Tokens) -> str:
    kind, value = tokens.take()
    if kind == "string":
        return value[1:-1].replace("''", "'")
    if kind == "number":
        return value
    if kind == "op" and value == "(":
        raise invalid("Expressions and subqueries are not supported; compare a column with a literal value.")
    raise invalid(
        f"The SQL statement needs a literal value where it has '{value or 'its end'}'; expressions are not supported."
    )
