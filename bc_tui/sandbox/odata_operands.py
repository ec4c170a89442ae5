"""Compiled ``$filter`` sub-expressions: comparisons, functions, constants and properties.

Each is an ``Operand`` whose ``fn(row)`` gives its value; the parser (``odata_filter``) builds
them. Comparison rules (case-insensitive text, datetime coercion, null) are the services'.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from . import like_patterns
from .odata_lexer import aware, syntax_error

COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "gt": operator.gt,
    "ge": operator.ge,
    "lt": operator.lt,
    "le": operator.le,
}
KEYWORDS = frozenset({"and", "or", "not", "true", "false", "null", *COMPARISONS})


Getter = Callable[[Mapping[str, Any]], Any]


@dataclass(frozen=True)
class Operand:
    """A compiled sub-expression: ``fn(row)`` gives its value; ``kind`` drives coercion."""

    fn: Getter
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
    #: A GUID literal: compared ignoring case even where text is compared exactly (a GUID is no text).
    guid: bool = False


def _casefold(value: Any) -> Any:
    # Dataverse compares text under a case-insensitive SQL collation (its default
    # Latin1_General_CI_AI), so `name eq 'contoso'` matches "Contoso"; we fold case on both
    # sides of every string comparison to behave the same. Business Central compares exactly
    # unless told otherwise (``fold=False``; docs/sandbox-fidelity.md, "Business Central API v2.0").
    return value.casefold() if isinstance(value, str) else value


def _as_is(value: Any) -> Any:
    return value


_UNCOMPARABLE = object()  # a value that cannot be coerced: eq is false, ne is true


def _to_datetime(value: Any) -> Any:
    """Coerce a field value to an aware datetime for comparison with a date/time literal."""
    if value is None or isinstance(value, datetime):
        return None if value is None else aware(value)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, str):
        try:
            return aware(datetime.fromisoformat(value))
        except ValueError:
            return _UNCOMPARABLE
    return _UNCOMPARABLE


def compile_comparison(op: str, left: Operand, right: Operand, *, fold: bool = True) -> Operand:
    """``left op right``; text compared ignoring case when ``fold`` (or either side is a GUID literal)."""
    compare = COMPARISONS[op]
    temporal = "datetime" in (left.kind, right.kind)
    fold = fold or left.guid or right.guid
    coerce = _to_datetime if temporal else (_casefold if fold else _as_is)
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

        return Operand(equality, "bool", left.pos)

    def ordering(row: Mapping[str, Any]) -> bool:
        a, b = values(row)
        if a is None or b is None or a is _UNCOMPARABLE or b is _UNCOMPARABLE:
            return False  # ordering against null (or a mismatched type) is never true
        try:
            return compare(a, b)
        except TypeError:
            return False

    return Operand(ordering, "bool", left.pos)


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


def _fn_contains_exact(a: Any, b: Any) -> bool:
    a, b = _text_arg(a), _text_arg(b)
    return a is not None and b is not None and b in a


def _fn_startswith_exact(a: Any, b: Any) -> bool:
    a, b = _text_arg(a), _text_arg(b)
    return a is not None and b is not None and a.startswith(b)


def _fn_endswith_exact(a: Any, b: Any) -> bool:
    a, b = _text_arg(a), _text_arg(b)
    return a is not None and b is not None and a.endswith(b)


#: The text functions where a service compares text exactly (``fold=False``).
_EXACT = {"contains": _fn_contains_exact, "startswith": _fn_startswith_exact, "endswith": _fn_endswith_exact}
#: The text functions where a service reads the text as a LIKE pattern (``like=True``: Dataverse).
_LIKE = {"contains": like_patterns.contains, "startswith": like_patterns.startswith, "endswith": like_patterns.endswith}


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
FUNCTIONS: dict[str, tuple[Callable[..., Any], int, str]] = {
    "contains": (_fn_contains, 2, "bool"),
    "startswith": (_fn_startswith, 2, "bool"),
    "endswith": (_fn_endswith, 2, "bool"),
    "tolower": (_fn_tolower, 1, "string"),
    "toupper": (_fn_toupper, 1, "string"),
    "trim": (_fn_trim, 1, "string"),
    "length": (_fn_length, 1, "number"),
    "concat": (_fn_concat, 2, "string"),
}


def compile_call(name: str, args: list[Operand], pos: int, *, fold: bool = True, like: bool = False) -> Operand:
    """A call of one of ``FUNCTIONS``; text functions compare exactly unless ``fold``, and read
    their text as a LIKE pattern when ``like``."""
    impl, arity, kind = FUNCTIONS[name]
    if not fold:
        impl = _EXACT.get(name, impl)
    elif like:
        impl = _LIKE.get(name, impl)
    if len(args) != arity:
        plural = "argument" if arity == 1 else "arguments"
        raise syntax_error(pos, f"function '{name}' takes {arity} {plural}, got {len(args)}")
    if arity == 1:
        only = args[0].fn
        return Operand(lambda row: impl(only(row)), kind, pos)
    first, second = args[0].fn, args[1].fn
    return Operand(lambda row: impl(first(row), second(row)), kind, pos)


def constant(value: Any, kind: str, pos: int, *, guid: bool = False) -> Operand:
    return Operand(lambda row: value, kind, pos, text=value if kind == "string" else None, guid=guid)


def field_operand(name: str, pos: int) -> Operand:
    return Operand(lambda row: row.get(name), "field", pos, field_name=name)


def one_of_operand(name: str, values: frozenset[str], pos: int) -> Operand:
    """``name`` equals (case-insensitively) one of ``values``: the fast form of an eq/or chain."""

    def member(row: Mapping[str, Any]) -> bool:
        value = row.get(name)
        return isinstance(value, str) and value.casefold() in values

    return Operand(member, "bool", pos, one_of=(name, values))
