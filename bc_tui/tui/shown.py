"""Showing service and user data in the TUI as data (see docs/showing-data.md).

Record names, field values, service error messages, job messages from the log, typed filter text
and config values are written by people we do not know. Textual reads ``[…]`` in a string as
markup (``[/old]`` raises, ``[@click=app.quit]`` becomes an action), and the terminal obeys
control characters. So nothing of ours hands such text to Textual as markup: sentences go into
`Literal` widgets and `notify` (markup off), table cells and options are `literal` rich ``Text``,
and every one of them goes through :func:`bc_tui.domain.text.printable` first. Sentences that
embed a value are kept readable with :func:`bc_tui.domain.text.shorten` (our own sentences
shorten the value they embed) and :func:`bc_tui.domain.text.shorten_words` (sentences from the
engine or a service, which embed values whole), line by line.
"""

from __future__ import annotations

from typing import Any
from typing import Literal as TypingLiteral

from rich.style import Style
from rich.text import Text
from textual.content import Content
from textual.widgets import Static

from bc_tui.domain.text import printable, shorten, shown_line

#: How many characters one line of a message (notification, status line, dialog sentence) may
#: take before it is shortened: long enough for any sentence of ours, short enough that a
#: 10,000-character name cannot fill the screen.
MESSAGE_LIMIT = 600

#: How long a notification's title may be (titles are our own words or a record's name).
TITLE_LIMIT = 80

Severity = TypingLiteral["information", "warning", "error"]


def sentence(value: object, limit: int | None = MESSAGE_LIMIT) -> str:
    """``value`` as printable text, line by line: in each line a long value without spaces is
    shortened (the rest of the sentence stays), then the line itself past ``limit`` (None:
    nothing is shortened, for the card's full values)."""
    lines = printable(value, keep_newlines=True).split("\n")
    if limit is None:
        return "\n".join(lines)
    return "\n".join(shown_line(line, limit) for line in lines)


def literal(value: object, *, style: str | Style = "", justify: Any = None) -> Text:
    """A table cell or list option showing ``value`` literally: rich ``Text`` (never markup)
    with control characters replaced.

    A ``Text`` keeps its styles: every stand-in is one character for one, so the spans still fit.
    """
    if isinstance(value, Text):
        text = value.copy()
        text.plain = printable(text.plain, keep_newlines=True)
        return text
    return Text(printable(value), style=style, justify=justify)


def label(value: object) -> Content:
    """A title (a tab, a pane) as literal Textual ``Content``: ``render_str`` would parse a
    plain string as markup."""
    return Content(shorten(value, TITLE_LIMIT))


def notify(
    target: Any,
    message: object,
    *,
    title: str = "",
    severity: Severity = "information",
    timeout: float | None = None,
) -> None:
    """``target.notify`` (an app or a widget) with the message shown literally: markup off,
    control characters replaced, each line shortened."""
    target.notify(
        sentence(message),
        title=shorten(title, TITLE_LIMIT) if title else "",
        severity=severity,
        timeout=timeout,
        markup=False,
    )


class Literal(Static):
    """A `Static` whose text is always data: markup off, control characters replaced, each line
    shortened past ``limit`` (None keeps full values, e.g. the card's record names).

    ``update`` cleans strings the same way; a rich ``Text`` (our own styling around data) is
    cleaned by :func:`literal`.
    """

    def __init__(
        self,
        content: Any = "",
        *,
        limit: int | None = MESSAGE_LIMIT,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        self._limit = limit
        super().__init__(self._clean(content), markup=False, name=name, id=id, classes=classes)

    def _clean(self, content: Any) -> Any:
        if isinstance(content, str):
            return sentence(content, self._limit)
        if isinstance(content, Text):
            return literal(content)
        return content

    def update(self, content: Any = "", *, layout: bool = True) -> None:
        """Show ``content`` (a string or ``Text``) literally."""
        super().update(self._clean(content), layout=layout)


__all__ = ["MESSAGE_LIMIT", "Literal", "label", "literal", "notify", "sentence"]
