"""OData v4 system query options as the two services implement them (server side).

CONTRACT (implemented by the odata-query work; used by bc_api.py and dataverse_api.py):

    parse_filter(text) -> Predicate          # Callable[[Mapping[str, Any]], bool]
    parse_orderby(text) -> list[OrderKey]    # [(field, descending)]
    parse_select(text) -> list[str]
    sort_rows(rows, order) -> list[row]      # stable; None sorts first ascending
    parse_query(params, allow_skip=True, max_top=None) -> Query

All raise QueryError (message in the services' style) on syntax errors, unknown functions,
``$skip`` where it is not allowed, negative ``$top``, etc. The API modules turn QueryError
into a 400 OData error.

$filter grammar: ``eq ne gt ge lt le``, ``and or not``, parentheses, ``contains(f,'x')``,
``startswith(f,'x')``, ``endswith(f,'x')``, ``tolower(f)``/``toupper(f)``; literals: strings in
single quotes with ``''`` as an escaped quote, integers, decimals, ``true``/``false``/``null``,
datetimes (``2026-01-01T00:00:00Z``, with optional fraction and offset), dates, and GUIDs
(bare ``00000000-0000-0000-0000-000000000000`` or ``guid'…'``). Property paths are simple
names (Dataverse lookups appear as ``_parentcustomerid_value``). Comparison coerces: a
datetime literal against an ISO string field compares as datetimes; a GUID compares
case-insensitively; string ``eq`` is case-insensitive as on both real services (SQL collation).
A missing field is null.

Also provided: ``apply_select(row, select) -> dict`` and the string functions ``trim``,
``length`` and ``concat``. Positions in error messages are 0-based character offsets into the
``$filter`` text (as in Microsoft.OData's "Syntax error at position N" messages).
"""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any, Callable, Iterable, Mapping

Predicate = Callable[[Mapping[str, Any]], bool]
OrderKey = tuple[str, bool]


class QueryError(ValueError):
    """A malformed or unsupported query option; ``str(exc)`` is the message for the client."""


@dataclass(frozen=True)
class Query:
    """The parsed system query options of one request (``None``/empty when absent)."""

    filter: Predicate | None = None
    orderby: tuple[OrderKey, ...] = ()
    select: tuple[str, ...] | None = None
    top: int | None = None
    skip: int | None = None
    count: bool = False
    skiptoken: str | None = None


# --------------------------------------------------------------------------- tokenizer

_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# A literal must not run straight into a name character ("2026-01-01x", "12abc").
_END = r"(?![A-Za-z0-9_.])"
_GUID_TEXT = r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"
_GUID_RE = re.compile(_GUID_TEXT + _END)
_GUID_FULL_RE = re.compile(_GUID_TEXT)
_DATETIME_RE = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?" + _END
)
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}" + _END)
_BAD_LITERAL_RE = re.compile(r"-?[\w.:+-]*")
_NUMBER_RE = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?[mMdDfFlL]?" + _END)

_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "gt": operator.gt,
    "ge": operator.ge,
    "lt": operator.lt,
    "le": operator.le,
}
_KEYWORDS = frozenset({"and", "or", "not", "true", "false", "null", *_COMPARISONS})


@dataclass(frozen=True)
class _Token:
    kind: str  # name | string | number | datetime | date | guid | ( | ) | , | end
    text: str  # the source text of the token
    pos: int
    value: Any = None


def _syntax_error(pos: int, detail: str) -> QueryError:
    return QueryError(f"Syntax error at position {pos} in $filter: {detail}.")


def _scan_string(text: str, start: int) -> tuple[str, int]:
    """Read a quoted literal opening at ``text[start]``; return (value, index after it)."""
    parts: list[str] = []
    i = start + 1
    while True:
        close = text.find("'", i)
        if close < 0:
            raise _syntax_error(start, "unterminated string literal (a quote inside a string is written '')")
        parts.append(text[i:close])
        if text.startswith("'", close + 1):  # '' is one escaped quote, not the end
            parts.append("'")
            i = close + 2
            continue
        return "".join(parts), close + 1


def _tokenize(text: str) -> list[_Token]:
    """Split a $filter expression into tokens, converting literals to Python values."""
    tokens: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        if ch in "(),":
            tokens.append(_Token(ch, ch, i))
            i += 1
            continue
        if ch == "'":
            value, end = _scan_string(text, i)
            tokens.append(_Token("string", text[i:end], i, value))
            i = end
            continue
        if m := _DATETIME_RE.match(text, i):
            try:
                value = _aware(datetime.fromisoformat(m.group()))
            except ValueError:
                raise _syntax_error(i, f"'{m.group()}' is not a valid datetime") from None
            tokens.append(_Token("datetime", m.group(), i, value))
            i = m.end()
            continue
        if m := _GUID_RE.match(text, i):
            tokens.append(_Token("guid", m.group(), i, m.group().lower()))
            i = m.end()
            continue
        if m := _DATE_RE.match(text, i):
            try:
                value = _aware(datetime.fromisoformat(m.group()))
            except ValueError:
                raise _syntax_error(i, f"'{m.group()}' is not a valid date") from None
            tokens.append(_Token("date", m.group(), i, value))
            i = m.end()
            continue
        if m := _NUMBER_RE.match(text, i):
            tokens.append(_Token("number", m.group(), i, _number(m.group())))
            i = m.end()
            continue
        if m := _NAME_RE.match(text, i):
            name = m.group()
            if name.lower() == "guid" and text.startswith("'", m.end()):
                inner, end = _scan_string(text, m.end())
                if not _GUID_FULL_RE.fullmatch(inner):
                    raise _syntax_error(i, f"'{inner}' is not a valid GUID")
                tokens.append(_Token("guid", text[i:end], i, inner.lower()))
                i = end
                continue
            tokens.append(_Token("name", name, i))
            i = m.end()
            continue
        if ch.isdigit() or ch == "-":
            literal = _BAD_LITERAL_RE.match(text, i).group()  # always matches at least ch
            raise _syntax_error(i, f"'{literal}' is not a valid number, date, datetime or GUID")
        raise _syntax_error(i, f"unexpected character '{ch}'")
    tokens.append(_Token("end", "", n))
    return tokens


def _number(text: str) -> int | float:
    """An OData numeric literal; type suffixes (``M`` decimal, ``d``, ``f``, ``L``) are dropped."""
    body = text.rstrip("mMdDfFlL")
    if any(c in body for c in ".eE"):
        return float(body)
    return int(body)


def _aware(value: datetime) -> datetime:
    # Both services store UTC; a value without an offset is read as UTC so it stays comparable.
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)


# --------------------------------------------------------------------------- compiled nodes

_Getter = Callable[[Mapping[str, Any]], Any]


@dataclass(frozen=True)
class _Operand:
    """A compiled sub-expression: ``fn(row)`` gives its value; ``kind`` drives coercion."""

    fn: _Getter
    # bool (a predicate), string, number, datetime, null, field (type known only per row)
    kind: str
    pos: int
    #: For a bare property: its name. For a string constant: its value. For a condition of the
    #: form ``p eq 'a' or p eq 'b' …``: (p, {'a', 'b', …}) casefolded. Lets `_or` turn a long
    #: key list (``id eq … or id eq …``, what clients send to fetch records by id) into one
    #: set lookup per row instead of a chain of comparisons.
    field_name: str | None = None
    text: str | None = None
    one_of: tuple[str, frozenset[str]] | None = None


def _casefold(value: Any) -> Any:
    # Both services compare text under a case-insensitive SQL collation (BC's SQL Server
    # database and Dataverse's default Latin1_General_CI_AI), so `name eq 'contoso'` matches
    # "Contoso"; we fold case on both sides of every string comparison to behave the same.
    return value.casefold() if isinstance(value, str) else value


_UNCOMPARABLE = object()  # a value that cannot be coerced: eq is false, ne is true


def _to_datetime(value: Any) -> Any:
    """Coerce a field value to an aware datetime for comparison with a date/time literal."""
    if value is None or isinstance(value, datetime):
        return None if value is None else _aware(value)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=timezone.utc)
    if isinstance(value, str):
        try:
            return _aware(datetime.fromisoformat(value))
        except ValueError:
            return _UNCOMPARABLE
    return _UNCOMPARABLE


def _compile_comparison(op: str, left: _Operand, right: _Operand) -> _Operand:
    compare = _COMPARISONS[op]
    temporal = "datetime" in (left.kind, right.kind)
    coerce = _to_datetime if temporal else _casefold
    lfn, rfn = left.fn, right.fn

    def values(row: Mapping[str, Any]) -> tuple[Any, Any]:
        return coerce(lfn(row)), coerce(rfn(row))

    if op in ("eq", "ne"):
        want_equal = op == "eq"

        def equality(row: Mapping[str, Any]) -> bool:
            a, b = values(row)
            if a is None or b is None:  # null eq null is true; null eq 'x' is false
                return (a is b) == want_equal
            if a is _UNCOMPARABLE or b is _UNCOMPARABLE:
                return not want_equal
            # bool is an int in Python; keep true from equalling 1.
            if isinstance(a, bool) != isinstance(b, bool):
                return not want_equal
            return compare(a, b)

        return _Operand(equality, "bool", left.pos)

    def ordering(row: Mapping[str, Any]) -> bool:
        a, b = values(row)
        if a is None or b is None or a is _UNCOMPARABLE or b is _UNCOMPARABLE:
            return False  # ordering against null (or a mismatched type) is never true
        try:
            return compare(a, b)
        except TypeError:
            return False

    return _Operand(ordering, "bool", left.pos)


def _text_arg(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _fn_contains(a: Any, b: Any) -> bool:
    a, b = _text_arg(a), _text_arg(b)
    return a is not None and b is not None and b.casefold() in a.casefold()


def _fn_startswith(a: Any, b: Any) -> bool:
    a, b = _text_arg(a), _text_arg(b)
    return a is not None and b is not None and a.casefold().startswith(b.casefold())


def _fn_endswith(a: Any, b: Any) -> bool:
    a, b = _text_arg(a), _text_arg(b)
    return a is not None and b is not None and a.casefold().endswith(b.casefold())


def _fn_tolower(a: Any) -> Any:
    return a.lower() if isinstance(a, str) else a


def _fn_toupper(a: Any) -> Any:
    return a.upper() if isinstance(a, str) else a


def _fn_trim(a: Any) -> Any:
    return a.strip() if isinstance(a, str) else a


def _fn_length(a: Any) -> Any:
    return len(a) if isinstance(a, str) else None


def _fn_concat(a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    return f"{a}{b}"


# name -> (implementation, arity, result kind)
_FUNCTIONS: dict[str, tuple[Callable[..., Any], int, str]] = {
    "contains": (_fn_contains, 2, "bool"),
    "startswith": (_fn_startswith, 2, "bool"),
    "endswith": (_fn_endswith, 2, "bool"),
    "tolower": (_fn_tolower, 1, "string"),
    "toupper": (_fn_toupper, 1, "string"),
    "trim": (_fn_trim, 1, "string"),
    "length": (_fn_length, 1, "number"),
    "concat": (_fn_concat, 2, "string"),
}


def _compile_call(name: str, args: list[_Operand], pos: int) -> _Operand:
    impl, arity, kind = _FUNCTIONS[name]
    if len(args) != arity:
        plural = "argument" if arity == 1 else "arguments"
        raise _syntax_error(pos, f"function '{name}' takes {arity} {plural}, got {len(args)}")
    if arity == 1:
        only = args[0].fn
        return _Operand(lambda row: impl(only(row)), kind, pos)
    first, second = args[0].fn, args[1].fn
    return _Operand(lambda row: impl(first(row), second(row)), kind, pos)


def _constant(value: Any, kind: str, pos: int) -> _Operand:
    return _Operand(lambda row: value, kind, pos, text=value if kind == "string" else None)


def _field(name: str, pos: int) -> _Operand:
    return _Operand(lambda row: row.get(name), "field", pos, field_name=name)


def _one_of(name: str, values: frozenset[str], pos: int) -> _Operand:
    """``name`` equals (case-insensitively) one of ``values``: the fast form of an eq/or chain."""

    def member(row: Mapping[str, Any]) -> bool:
        value = row.get(name)
        return isinstance(value, str) and value.casefold() in values

    return _Operand(member, "bool", pos, one_of=(name, values))


# --------------------------------------------------------------------------- parser


class _Parser:
    """Recursive descent over the token list; each rule returns a compiled ``_Operand``.

    Precedence, loosest first: ``or``, ``and``, ``not``, comparison, primary.
    """

    def __init__(self, text: str) -> None:
        self.tokens = _tokenize(text)
        self.i = 0

    @property
    def tok(self) -> _Token:
        return self.tokens[self.i]

    def _is_keyword(self, word: str) -> bool:
        return self.tok.kind == "name" and self.tok.text == word

    def _expect(self, kind: str, what: str) -> _Token:
        tok = self.tok
        if tok.kind != kind:
            raise _syntax_error(tok.pos, f"expected {what} but found {_describe(tok)}")
        self.i += 1
        return tok

    def parse(self) -> Predicate:
        node = self._or()
        if self.tok.kind != "end":
            raise _syntax_error(self.tok.pos, f"unexpected {_describe(self.tok)} after a complete expression")
        predicate = _as_predicate(node)
        if node.one_of is not None:
            predicate = _KeyListPredicate(predicate, node.one_of)
        return predicate

    def _or(self) -> _Operand:
        node = self._and()
        while self._is_keyword("or"):
            self.i += 1
            right_node = self._and()
            if node.one_of and right_node.one_of and node.one_of[0] == right_node.one_of[0]:
                node = _one_of(node.one_of[0], node.one_of[1] | right_node.one_of[1], node.pos)
                continue
            left, right = _as_predicate(node), _as_predicate(right_node)
            node = _Operand(lambda row, l=left, r=right: l(row) or r(row), "bool", node.pos)
        return node

    def _and(self) -> _Operand:
        node = self._not()
        while self._is_keyword("and"):
            self.i += 1
            left, right = _as_predicate(node), _as_predicate(self._not())
            node = _Operand(lambda row, l=left, r=right: l(row) and r(row), "bool", node.pos)
        return node

    def _not(self) -> _Operand:
        if self._is_keyword("not"):
            pos = self.tok.pos
            self.i += 1
            inner = _as_predicate(self._not())
            return _Operand(lambda row: not inner(row), "bool", pos)
        return self._comparison()

    def _comparison(self) -> _Operand:
        left = self._primary()
        tok = self.tok
        if tok.kind == "name" and tok.text in _COMPARISONS:
            self.i += 1
            right = self._primary()
            compiled = _compile_comparison(tok.text, left, right)
            if tok.text == "eq" and left.field_name and right.text is not None:
                return _one_of(left.field_name, frozenset({right.text.casefold()}), compiled.pos)
            return compiled
        return left

    def _primary(self) -> _Operand:
        tok = self.tok
        if tok.kind == "(":
            self.i += 1
            node = self._or()
            if self.tok.kind != ")":
                raise _syntax_error(
                    self.tok.pos,
                    f"expected ')' to close the '(' at position {tok.pos} but found {_describe(self.tok)}",
                )
            self.i += 1
            return node
        if tok.kind in ("string", "guid"):
            self.i += 1
            return _constant(tok.value, "string", tok.pos)
        if tok.kind == "number":
            self.i += 1
            return _constant(tok.value, "number", tok.pos)
        if tok.kind in ("datetime", "date"):
            self.i += 1
            return _constant(tok.value, "datetime", tok.pos)
        if tok.kind == "name":
            return self._name()
        raise _syntax_error(tok.pos, f"expected a value but found {_describe(tok)}")

    def _name(self) -> _Operand:
        tok = self.tok
        word = tok.text
        if word == "true" or word == "false":
            self.i += 1
            return _constant(word == "true", "bool", tok.pos)
        if word == "null":
            self.i += 1
            return _constant(None, "null", tok.pos)
        if word in _KEYWORDS:
            raise _syntax_error(tok.pos, f"expected a value but found the operator '{word}'")
        self.i += 1
        if self.tok.kind != "(":
            return _field(word, tok.pos)
        if word not in _FUNCTIONS:
            known = ", ".join(sorted(_FUNCTIONS))
            raise _syntax_error(tok.pos, f"unknown function '{word}' (supported: {known})")
        self.i += 1  # the '('
        args: list[_Operand] = []
        if self.tok.kind != ")":
            args.append(self._or())
            while self.tok.kind == ",":
                self.i += 1
                args.append(self._or())
        self._expect(")", f"',' or ')' in the call to '{word}'")
        return _compile_call(word, args, tok.pos)


class _KeyListPredicate:
    """A filter that is only ``p eq 'a' or p eq 'b' …``: callable like any predicate, and it
    tells `key_candidates` its values so a table can look the rows up by key instead of
    scanning (clients fetch records by id in chunks this way)."""

    __slots__ = ("_test", "field", "values")

    def __init__(self, test: Predicate, one_of: tuple[str, frozenset[str]]) -> None:
        self._test = test
        self.field, self.values = one_of

    def __call__(self, row: Mapping[str, Any]) -> bool:
        return self._test(row)


def key_candidates(predicate: Predicate | None, field: str) -> frozenset[str] | None:
    """The casefolded values when ``predicate`` is exactly ``field eq … or field eq …``, else None."""
    if isinstance(predicate, _KeyListPredicate) and predicate.field == field:
        return predicate.values
    return None


def _describe(tok: _Token) -> str:
    return "the end of the expression" if tok.kind == "end" else f"'{tok.text}'"


def _as_predicate(node: _Operand) -> Predicate:
    """Use ``node`` where a condition is required (operand of and/or/not, or the whole filter)."""
    if node.kind == "bool":
        return node.fn
    if node.kind == "field":
        get = node.fn
        return lambda row: get(row) is True  # a boolean property used bare, e.g. `blocked`
    raise _syntax_error(node.pos, f"expected a condition but found a {node.kind} value")


# --------------------------------------------------------------------------- public API


def parse_filter(text: str) -> Predicate:
    """Compile a ``$filter`` expression once into a predicate over rows (mappings).

    A field missing from a row is null. Raises QueryError on any syntax error or unknown
    function, naming the 0-based position in ``text``.
    """
    if not text.strip():
        raise QueryError("The $filter expression is empty.")
    return _Parser(text).parse()


def parse_orderby(text: str) -> list[OrderKey]:
    """Parse ``$orderby`` (``name asc, city desc``) into ``[(field, descending)]``."""
    keys: list[OrderKey] = []
    for item in text.split(","):
        words = item.split()
        if not words or len(words) > 2 or not _NAME_RE.fullmatch(words[0]):
            raise QueryError(
                f"The $orderby clause '{item.strip()}' is not a property name"
                " optionally followed by asc or desc."
            )
        direction = words[1].lower() if len(words) == 2 else "asc"
        if direction not in ("asc", "desc"):
            raise QueryError(f"The $orderby direction '{words[1]}' is not valid; use asc or desc.")
        keys.append((words[0], direction == "desc"))
    return keys


def parse_select(text: str) -> list[str]:
    """Parse ``$select`` (``name,city``) into property names; ``*`` is kept as-is."""
    names = [part.strip() for part in text.split(",")]
    for name in names:
        if name != "*" and not _NAME_RE.fullmatch(name):
            raise QueryError(f"The $select item '{name}' is not a property name.")
    return names


def _sort_key(value: Any) -> tuple[int, Any]:
    # Rank types so a column mixing numbers and text still sorts instead of raising;
    # None ranks lowest, so it comes first ascending and last descending.
    if value is None:
        return (0, 0)
    if isinstance(value, (bool, int, float)):
        return (1, value)
    if isinstance(value, str):
        return (2, value.casefold())  # case-insensitive collation, as on the services
    if isinstance(value, datetime):
        return (3, _aware(value))
    return (4, str(value))


def sort_rows(rows: Iterable[Mapping[str, Any]], order: Iterable[OrderKey]) -> list[Any]:
    """Sort rows by several keys, stably; strings case-insensitively; None first ascending."""
    result = list(rows)
    # Stable sorts applied from the least to the most significant key give a multi-key sort.
    for name, descending in reversed(list(order)):
        result.sort(key=lambda row: _sort_key(row.get(name)), reverse=descending)
    return result


def apply_select(row: Mapping[str, Any], select: Iterable[str] | None) -> dict[str, Any]:
    """Project a row onto the selected properties, keeping annotations such as ``@odata.etag``.

    A selected property the row lacks comes back as null, as the services do for a
    property that is empty. ``None`` or ``*`` selects everything.
    """
    if select is None:
        return dict(row)
    names = list(select)
    if "*" in names:
        return dict(row)
    projected = {key: value for key, value in row.items() if key.startswith("@")}
    for name in names:
        projected[name] = row.get(name)
    return projected


_KNOWN_OPTIONS = frozenset({"$filter", "$orderby", "$select", "$top", "$skip", "$count", "$skiptoken"})


def _non_negative_int(option: str, text: str) -> int:
    stripped = text.strip()
    if not stripped.isdigit():  # rejects "-1", "1.5", "" and "ten" alike
        raise QueryError(f"The value '{text}' of {option} is not valid; it must be a non-negative integer.")
    return int(stripped)


def parse_query(
    params: Mapping[str, str], *, allow_skip: bool = True, max_top: int | None = None
) -> Query:
    """Read the system query options (``$…``) of a request; other parameters are ignored.

    ``allow_skip=False`` refuses ``$skip`` as Dataverse does; ``max_top`` refuses a larger
    ``$top``. Unknown ``$`` options (``$expand``, ``$apply``…) raise QueryError.
    """
    for key in params:
        if key.startswith("$") and key not in _KNOWN_OPTIONS:
            raise QueryError(f"The query parameter {key} is not supported")
    filter_ = parse_filter(params["$filter"]) if "$filter" in params else None
    orderby = tuple(parse_orderby(params["$orderby"])) if "$orderby" in params else ()
    select: tuple[str, ...] | None = None
    if "$select" in params:
        names = parse_select(params["$select"])
        select = None if "*" in names else tuple(names)
    top = _non_negative_int("$top", params["$top"]) if "$top" in params else None
    if top is not None and max_top is not None and top > max_top:
        raise QueryError(f"The value {top} of $top is larger than the maximum of {max_top}.")
    skip: int | None = None
    if "$skip" in params:
        if not allow_skip:
            raise QueryError("The query parameter $skip is not supported")
        skip = _non_negative_int("$skip", params["$skip"])
    count = False
    if "$count" in params:
        flag = params["$count"].strip().lower()
        if flag not in ("true", "false"):
            raise QueryError(f"The value '{params['$count']}' of $count is not valid; use true or false.")
        count = flag == "true"
    return Query(
        filter=filter_,
        orderby=orderby,
        select=select,
        top=top,
        skip=skip,
        count=count,
        skiptoken=params.get("$skiptoken"),
    )
