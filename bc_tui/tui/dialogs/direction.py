"""The direction dialog (docs/coupling-and-sync.md "Synchronize Now"): "Synchronize data for X?" — send,
get or merge, the recommended choice pre-selected, with the reasons (which side changed) and the
conflicting fields.

For several records the same dialog offers send and get only (``recommend_many``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from bc_tui.domain.mappings import SyncDirection
from bc_tui.domain.recommend import OPTION_TEXT, Recommendation
from bc_tui.domain.text import shorten
from bc_tui.sync.preview import FieldRow
from bc_tui.tui.bindings import bindings_for
from bc_tui.tui.field_text import show_value
from bc_tui.tui.paths import style_path
from bc_tui.tui.shown import Literal
from bc_tui.tui.widgets.footer import Footer


class DirectionDialog(ModalScreen[SyncDirection | None]):
    """Choose send / get / merge for one record, or send / get for several.

    ``recommendation``: from ``SyncPreview.recommendation`` (one record) or
    ``recommend_many`` (several); ``fields``: the preview's field rows, used to show what each
    side holds for the conflicting fields. Dismisses with the chosen direction, or None.
    """

    CSS_PATH = [style_path("dialogs.tcss")]
    BINDINGS: ClassVar[list[BindingType]] = bindings_for("direction")  # the keys: tui/actions.py

    def __init__(
        self, recommendation: Recommendation, *, fields: Sequence[FieldRow] = (), title: str = "Synchronize"
    ) -> None:
        super().__init__(classes="bc-dialog")
        self.recommendation = recommendation
        self.offered: tuple[SyncDirection, ...] = tuple(recommendation.offered)
        self._fields = {row.label: row for row in fields}
        self.dialog_title = title

    def compose(self) -> ComposeResult:
        advice = self.recommendation
        with Vertical(id="direction-dialog", classes="dialog-panel"):
            yield Literal(self.dialog_title, classes="dialog-title")
            yield Literal(advice.question, id="direction-question")
            yield OptionList(*self._options(), id="direction-options")
            if advice.warning:
                yield Literal(advice.warning, id="direction-warning", classes="dialog-warning")
            details = self._details()
            if details.plain:
                with VerticalScroll(id="direction-details"):
                    yield Literal(details, id="direction-reasons")
        yield Footer()

    def _options(self) -> list[Option]:
        options = []
        for number, direction in enumerate(self.offered, start=1):
            label = Text(f"{number}  {OPTION_TEXT[direction]}")
            if direction is self.recommendation.recommended:
                label.append("  (recommended)", style="italic")
            options.append(Option(label, id=direction.value))
        return options

    def _details(self) -> Text:
        """Why (the reasons) and what each side holds for the fields that conflict."""
        advice = self.recommendation
        text = Text()
        if advice.reasons:
            text.append("Why\n", style="bold")
            for reason in advice.reasons:
                text.append(f"• {shorten(reason)}\n")
        if advice.conflicts:
            text.append("Conflicting fields\n", style="bold")
            for label in advice.conflicts:
                row = self._fields.get(label)
                if row is None:
                    text.append(f"• {label}\n")
                    continue
                text.append(
                    f"• {label}: Business Central {shorten(show_value(row.bc_now))!r} · Dataverse "
                    f"{shorten(show_value(row.dataverse_now))!r}"
                )
                if row.has_history:
                    text.append(f" · last synchronized {shorten(show_value(row.last_synced))!r}")
                text.append("\n")
        text.rstrip()
        return text

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        options.highlighted = self.offered.index(self.recommendation.recommended)
        options.focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # "3 Merge" only where merge is offered (one record, bidirectional, no conflict).
        if action != "choose" or not parameters:
            return True
        number: int = int(parameters[0])  # type: ignore[call-overload]
        return number <= len(self.offered)

    def action_choose(self, number: int) -> None:
        """Choose the ``number``-th offered direction (1 send, 2 get, 3 merge) and close."""
        if 1 <= number <= len(self.offered):
            self.dismiss(self.offered[number - 1])

    @on(OptionList.OptionSelected, "#direction-options")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(self.offered[event.option_index])
