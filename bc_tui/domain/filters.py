"""Evaluating a table filter (a tuple of ANDed conditions) against one record, locally.

Used to decide, without a round trip, whether a record is inside a mapping's table filter or
integration table filter (e.g. "blocked customers get no Dataverse actions", "the chosen
Dataverse record must pass the integration table filter").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from bc_tui.domain.mappings import Condition
from bc_tui.domain.values import same_value

OPERATORS = frozenset({"eq", "ne"})


def condition_holds(record: Mapping[str, Any], condition: Condition) -> bool:
    """True when ``record`` satisfies one condition.

    Strings compare trimmed and case-insensitively, as BC compares codes and options (so BC's
    blank ``" "`` equals ``""`` and a missing field); numbers compare numerically.
    Raises ValueError for an operator other than ``eq``/``ne``.
    """
    if condition.op not in OPERATORS:
        raise ValueError(f"The filter on {condition.field} uses the unsupported operator {condition.op!r}.")
    equal = same_value(record.get(condition.field), condition.value, is_code=True)
    return equal if condition.op == "eq" else not equal


def passes(record: Mapping[str, Any], conditions: Iterable[Condition]) -> bool:
    """True when ``record`` satisfies every condition (an empty filter lets everything pass)."""
    return all(condition_holds(record, condition) for condition in conditions)


def failing_conditions(record: Mapping[str, Any], conditions: Iterable[Condition]) -> tuple[Condition, ...]:
    """The conditions ``record`` does not satisfy, to say *why* a record is filtered out."""
    return tuple(c for c in conditions if not condition_holds(record, c))


def conditions_text(conditions: Iterable[Condition]) -> str:
    """Conditions as a message names them: ``customerTypeCode eq 3, blocked ne 'All'``."""
    return ", ".join(f"{c.field} {c.op} {c.value!r}" for c in conditions)
