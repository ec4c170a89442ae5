"""Showing data from a service or a user as data: no control characters, no endless values.

Record names, field values and service error messages are typed by people we do not know. A
terminal obeys control characters (ESC starts a sequence that can set the window title, clear the
screen or move the cursor; C1 ``CSI`` does the same in one byte), and Unicode bidirectional
overrides reorder what is shown. So every text shown in the TUI or printed by the CLI goes through
:func:`printable` first, which swaps each such character for a visible stand-in: the C0 controls
become their Unicode "control pictures" (``ESC`` → ``␛``), DEL becomes ``␡``, and C1 controls and
the bidi overrides become ``�``. The JSON output of the CLI stays exact: it is escaped by ``json``.

:func:`shorten` keeps a sentence readable when a value is 10,000 characters long: the start of
the value, an ellipsis and how long it was.
"""

from __future__ import annotations

import re

#: C0 controls (tab and newline included: one value is one line), DEL, C1 controls, and the
#: Unicode bidirectional embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
#: The same without newline, for multi-line texts (a detail block, a help text).
_UNSAFE_KEEP_NEWLINES = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")

#: How many characters of one value a sentence shows before it shortens it.
SENTENCE_VALUE_LIMIT = 200


def _stand_in(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)  # the control picture: ␀ … ␟
    if code == 0x7F:
        return "\u2421"  # ␡
    return "\ufffd"


def printable(value: object, *, keep_newlines: bool = False) -> str:
    """``value`` as text with every control character replaced by a visible stand-in.

    ``None`` becomes the empty string. With ``keep_newlines`` a ``\\n`` stays a line break (for
    a multi-line detail); otherwise it becomes ``␊`` like any other control.
    """
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    pattern = _UNSAFE_KEEP_NEWLINES if keep_newlines else _UNSAFE
    return pattern.sub(_stand_in, text)


def shorten(value: object, limit: int = SENTENCE_VALUE_LIMIT) -> str:
    """``value`` as printable text of at most about ``limit`` characters.

    A longer value keeps its start and says how long it was:
    ``'AAAA… (10,000 characters)'``.
    """
    text = printable(value)
    if len(text) <= limit:
        return text
    return f"{text[: max(limit - 1, 1)]}… ({len(text):,} characters)"


def shorten_words(sentence: object, limit: int = SENTENCE_VALUE_LIMIT) -> str:
    """``sentence`` as printable text in which every run of more than ``limit`` characters
    without a space is shortened (:func:`shorten`).

    For sentences built elsewhere that embed a value whole (a service's error message naming a
    10,000-character record): the value is cut, the rest of the sentence, which says what went
    wrong and what to do, is kept.
    """
    return re.sub(rf"\S{{{limit + 1},}}", lambda match: shorten(match.group(), limit), printable(sentence))


def shown_line(line: object, limit: int) -> str:
    """One line as a terminal shows it: printable, each long value in it shortened
    (:func:`shorten_words`), then the whole line shortened past ``limit``. The TUI's messages and
    the CLI's text output both cut their lines this way."""
    return shorten(shorten_words(line), limit)


__all__ = ["SENTENCE_VALUE_LIMIT", "printable", "shorten", "shorten_words", "shown_line"]
