"""Dataverse's text patterns: SQL ``LIKE`` wildcards, as its ``like`` conditions and its OData
``contains``/``startswith``/``endswith`` read them (docs/sandbox-fidelity.md, "contains on
Dataverse text").

``%`` is any text, ``_`` one character, ``[abc]``/``[a-c]`` one character of a set or range and
``[^abc]`` one character outside it; a wildcard stands for itself inside brackets (``[%]``,
``[_]``, ``[[]``). Text is compared without regard to case, as under Dataverse's default collation.
"""

from __future__ import annotations

import re
from functools import lru_cache


def like_regex(pattern: str) -> str:
    """A LIKE ``pattern`` as a regular expression (for ``fullmatch``)."""
    out, pos = [], 0
    while pos < len(pattern):
        char = pattern[pos]
        if char == "[":
            end = pattern.find("]", pos + 2)  # "[]…]" keeps a ] as the set's first member
            if end != -1:
                out.append(_char_set(pattern[pos + 1 : end]))
                pos = end + 1
                continue
        out.append(".*" if char == "%" else "." if char == "_" else re.escape(char))
        pos += 1
    return "".join(out)


def _char_set(inside: str) -> str:
    negated = inside.startswith("^") and len(inside) > 1
    members = inside[1:] if negated else inside
    parts = []
    for index, char in enumerate(members):
        between = 0 < index < len(members) - 1
        # A dash between two characters is a range; anywhere else it is a dash.
        parts.append("-" if char == "-" and between else re.escape(char))
    return f"[{'^' if negated else ''}{''.join(parts)}]"


@lru_cache(maxsize=256)
def compiled(pattern: str) -> re.Pattern[str]:
    """``pattern`` compiled once, ignoring case; a filter uses the same literal for every row."""
    return re.compile(like_regex(pattern), re.IGNORECASE | re.DOTALL)


def contains(value: object, pattern: object) -> bool:
    """``value LIKE '%pattern%'``."""
    return isinstance(value, str) and isinstance(pattern, str) and compiled(f"%{pattern}%").fullmatch(value) is not None


def startswith(value: object, pattern: object) -> bool:
    """``value LIKE 'pattern%'``."""
    return isinstance(value, str) and isinstance(pattern, str) and compiled(f"{pattern}%").fullmatch(value) is not None


def endswith(value: object, pattern: object) -> bool:
    """``value LIKE '%pattern'``."""
    return isinstance(value, str) and isinstance(pattern, str) and compiled(f"%{pattern}").fullmatch(value) is not None
