"""The ``$filter`` parser: recursive descent over the tokens into one predicate over rows.

See ``odata_query`` for the grammar the sandbox understands.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .odata_lexer import QueryError, Token, syntax_error, tokenize
from .odata_operands import (
    COMPARISONS,
    FUNCTIONS,
    KEYWORDS,
    Operand,
    compile_call,
    compile_comparison,
    constant,
    field_operand,
    one_of_operand,
)

Predicate = Callable[[Mapping[str, Any]], bool]


class _Parser:
    """Recursive descent over the token list; each rule returns a compiled ``Operand``.

    Precedence, loosest first: ``or``, ``and``, ``not``, comparison, primary.
    """

    def __init__(self, text: str, *, case_sensitive: bool = False, like_patterns: bool = False) -> None:
        self.tokens = tokenize(text)
        self.i = 0
        self.fold = not case_sensitive
        self.like = like_patterns

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def _is_keyword(self, word: str) -> bool:
        return self.tok.kind == "name" and self.tok.text == word

    def _expect(self, kind: str, what: str) -> Token:
        tok = self.tok
        if tok.kind != kind:
            raise syntax_error(tok.pos, f"expected {what} but found {_describe(tok)}")
        self.i += 1
        return tok

    def parse(self) -> Predicate:
        node = self._or()
        if self.tok.kind != "end":
            raise syntax_error(self.tok.pos, f"unexpected {_describe(self.tok)} after a complete expression")
        predicate = _as_predicate(node)
        if node.one_of is not None:
            predicate = _KeyListPredicate(predicate, node.one_of)
        return predicate

    def _or(self) -> Operand:
        node = self._and()
        while self._is_keyword("or"):
            self.i += 1
            right_node = self._and()
            if node.one_of and right_node.one_of and node.one_of[0] == right_node.one_of[0]:
                node = one_of_operand(node.one_of[0], node.one_of[1] | right_node.one_of[1], node.pos)
                continue
            left, right = _as_predicate(node), _as_predicate(right_node)
            node = Operand(_either(left, right), "bool", node.pos)
        return node

    def _and(self) -> Operand:
        node = self._not()
        while self._is_keyword("and"):
            self.i += 1
            left, right = _as_predicate(node), _as_predicate(self._not())
            node = Operand(_both(left, right), "bool", node.pos)
        return node

    def _not(self) -> Operand:
        if self._is_keyword("not"):
            pos = self.tok.pos
            self.i += 1
            inner = _as_predicate(self._not())
            return Operand(lambda row: not inner(row), "bool", pos)
        return self._comparison()

    def _comparison(self) -> Operand:
        left = self._primary()
        tok = self.tok
        if tok.kind == "name" and tok.text in COMPARISONS:
            self.i += 1
            right = self._primary()
            compiled = compile_comparison(tok.text, left, right, fold=self.fold)
            # The fast key-list form folds case: only where the comparison does too.
            if tok.text == "eq" and left.field_name and right.text is not None and (self.fold or right.guid):
                return one_of_operand(left.field_name, frozenset({right.text.casefold()}), compiled.pos)
            return compiled
        return left

    def _primary(self) -> Operand:
        tok = self.tok
        if tok.kind == "(":
            self.i += 1
            node = self._or()
            if self.tok.kind != ")":
                raise syntax_error(
                    self.tok.pos,
                    f"expected ')' to close the '(' at position {tok.pos} but found {_describe(self.tok)}",
                )
            self.i += 1
            return node
        if tok.kind in ("string", "guid"):
            self.i += 1
            return constant(tok.value, "string", tok.pos, guid=tok.kind == "guid")
        if tok.kind == "number":
            self.i += 1
            return constant(tok.value, "number", tok.pos)
        if tok.kind in ("datetime", "date"):
            self.i += 1
            return constant(tok.value, "datetime", tok.pos)
        if tok.kind == "name":
            return self._name()
        raise syntax_error(tok.pos, f"expected a value but found {_describe(tok)}")

    def _name(self) -> Operand:
        tok = self.tok
        word = tok.text
        if word == "true" or word == "false":
            self.i += 1
            return constant(word == "true", "bool", tok.pos)
        if word == "null":
            self.i += 1
            return constant(None, "null", tok.pos)
        if word in KEYWORDS:
            raise syntax_error(tok.pos, f"expected a value but found the operator '{word}'")
        self.i += 1
        if self.tok.kind != "(":
            return field_operand(word, tok.pos)
        if word not in FUNCTIONS:
            known = ", ".join(sorted(FUNCTIONS))
            raise syntax_error(tok.pos, f"unknown function '{word}' (supported: {known})")
        self.i += 1  # the '('
        args: list[Operand] = []
        if self.tok.kind != ")":
            args.append(self._or())
            while self.tok.kind == ",":
                self.i += 1
                args.append(self._or())
        self._expect(")", f"',' or ')' in the call to '{word}'")
        return compile_call(word, args, tok.pos, fold=self.fold, like=self.like)


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


def _describe(tok: Token) -> str:
    return "the end of the expression" if tok.kind == "end" else f"'{tok.text}'"


def _either(left: Predicate, right: Predicate) -> Predicate:
    """``left or right``, asking ``right`` only when ``left`` is false."""
    return lambda row: left(row) or right(row)


def _both(left: Predicate, right: Predicate) -> Predicate:
    """``left and right``, asking ``right`` only when ``left`` is true."""
    return lambda row: left(row) and right(row)


def _as_predicate(node: Operand) -> Predicate:
    """Use ``node`` where a condition is required (operand of and/or/not, or the whole filter)."""
    if node.kind == "bool":
        return node.fn
    if node.kind == "field":
        get = node.fn
        return lambda row: get(row) is True  # a boolean property used bare, e.g. `blocked`
    raise syntax_error(node.pos, f"expected a condition but found a {node.kind} value")


def parse_filter(text: str, *, case_sensitive: bool = False, like_patterns: bool = False) -> Predicate:
    """Compile a ``$filter`` expression once into a predicate over rows (mappings).

    ``case_sensitive`` compares text exactly in ``eq``/``ne``/ordering and ``contains``/
    ``startswith``/``endswith`` (as Business Central does); otherwise case is ignored (Dataverse).
    ``like_patterns`` reads the text of ``contains``/``startswith``/``endswith`` as a LIKE
    pattern, wildcards and all, as Dataverse does (``like_patterns.py``).

    A field missing from a row is null. Raises QueryError on any syntax error or unknown
    function, naming the 0-based position in ``text``.
    """
    if not text.strip():
        raise QueryError("The $filter expression is empty.")
    return _Parser(text, case_sensitive=case_sensitive, like_patterns=like_patterns).parse()
