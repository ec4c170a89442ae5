"""Business Central's own limits on ``$filter``, beyond OData's grammar.

BC turns a filter into per-field table filters, so an ``or`` can only join conditions on one and
the same field (``city eq 'A' or city eq 'B'``); across two fields it answers 400 "The 'OR'
operator is not supported on distinct fields on an OData filter." (docs/sandbox-fidelity.md,
"Business Central API v2.0"). The check is behind ``SandboxSettings.bc_refuse_or_across_fields``.
"""

from __future__ import annotations

from .odata_lexer import Token, tokenize
from .odata_operands import KEYWORDS

#: BC's answer to an ``or`` across two fields.
OR_ACROSS_FIELDS_MESSAGE = "The 'OR' operator is not supported on distinct fields on an OData filter."


def or_across_fields(text: str) -> bool:
    """True when ``text`` (a syntactically valid ``$filter``) joins conditions on different fields with ``or``."""
    scan = _Scan(tokenize(text))
    _fields, crossing = scan.or_expression()
    return crossing


class _Scan:
    """Walks the tokens by the grammar's levels (or, and, not, primary), collecting field names."""

    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.i = 0

    def _word(self, word: str) -> bool:
        tok = self.tokens[self.i]
        return tok.kind == "name" and tok.text == word

    def or_expression(self) -> tuple[frozenset[str], bool]:
        fields, crossing = self._and_expression()
        while self._word("or"):
            self.i += 1
            right, right_crossing = self._and_expression()
            fields = fields | right
            crossing = crossing or right_crossing or len(fields) > 1
        return fields, crossing

    def _and_expression(self) -> tuple[frozenset[str], bool]:
        fields, crossing = self._condition()
        while self._word("and"):
            self.i += 1
            right, right_crossing = self._condition()
            fields, crossing = fields | right, crossing or right_crossing
        return fields, crossing

    def _condition(self) -> tuple[frozenset[str], bool]:
        """One condition: up to the next ``and``/``or``/``)`` outside brackets."""
        if self._word("not"):
            self.i += 1
            return self._condition()
        fields: set[str] = set()
        crossing = False
        while True:
            tok = self.tokens[self.i]
            if tok.kind in ("end", ")") or self._word("and") or self._word("or"):
                return frozenset(fields), crossing
            if tok.kind == "(":
                self.i += 1
                inner, inner_crossing = self.or_expression()
                fields |= inner
                crossing = crossing or inner_crossing
                if self.tokens[self.i].kind == ")":
                    self.i += 1
                continue
            if tok.kind == "name" and tok.text not in KEYWORDS and self.tokens[self.i + 1].kind != "(":
                fields.add(tok.text)
            self.i += 1
