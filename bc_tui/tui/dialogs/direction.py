"""The direction dialog (docs/coupling-and-sync.md "Synchronize Now"): "Synchronize data for X?" — send,
get or merge, the recommended choice pre-selected, with the reasons (which side changed).

For one record whose fields conflict (docs/coupling-and-sync.md "Per-field winners") it also
shows a table of the conflicting fields: the user picks the winner of each (← Business Central,
→ Dataverse; the recommended one is marked ★ and its reason given), and "What each choice
overwrites" lists, for send, get and merge with those picks, every field written with the value
lost and the value written. For several records the same dialog offers send and get only
(``recommend_many``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, ClassVar

from rich.style import Style
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, OptionList
from textual.widgets.option_list import Option

from bc_tui.domain.mappings import SyncDirection
from bc_tui.domain.recommend import OPTION_TEXT, Recommendation
from bc_tui.domain.text import shorten
from bc_tui.domain.words import direction_words
from bc_tui.sync.field_picks import winner_name
from bc_tui.sync.preview import FieldRow
from bc_tui.tui.bindings import bindings_for
from bc_tui.tui.field_text import show_value
from bc_tui.tui.paths import style_path
from bc_tui.tui.shown import Literal, literal

if TYPE_CHECKING:
    from bc_tui.sync.field_picks import FieldPick, Overwrite, RecordChoices

SEND, GET, MERGE = SyncDirection.TO_DATAVERSE, SyncDirection.FROM_DATAVERSE, SyncDirection.MERGE

#: How a value the user keeps and one that loses are drawn in the picks table and on the card.
WINNER_STYLE = Style(bold=True, underline=True)
LOSER_STYLE = Style(dim=True, strike=True)


def pick_cells(pick: FieldPick, chosen: SyncDirection) -> list[Text]:
    """The picks table's row for ``pick``: the field, both values (the winner ✓), the winner (★: recommended)."""
    bc_wins = chosen is SEND
    winner = Text(winner_name(chosen))
    if chosen is pick.recommended:
        winner.append(" ★", style="bold")
    return [
        literal(pick.label, style=Style(bold=True)),
        literal(("✓ " if bc_wins else "") + show_value(pick.bc_value), style=WINNER_STYLE if bc_wins else LOSER_STYLE),
        literal(
            ("" if bc_wins else "✓ ") + show_value(pick.dataverse_value),
            style=LOSER_STYLE if bc_wins else WINNER_STYLE,
        ),
        winner,
    ]


def overwrite_lines(overwrites: Sequence[Overwrite], *, merge: bool) -> Text:
    """One bullet per overwritten field: side (for a merge), label, value there now → value written,
    and whether a change is lost. Values are shown literally (shortened, quoted)."""
    text = Text()
    for item in overwrites:
        where = f"in {item.side}: " if merge else ""
        notes = []
        if item.picked:
            notes.append("your pick")
        if item.loses_change:
            notes.append(f"{item.side}'s change is lost")
        note = f" ({'; '.join(notes)})" if notes else ""
        text.append(
            f"  • {where}{item.label} {shorten(show_value(item.old))!r} → {shorten(show_value(item.new))!r}{note}\n"
        )
    return text


class DirectionDialog(ModalScreen[SyncDirection | None]):
    """Choose send / get / merge for one record, or send / get for several.

    ``recommendation``: from ``SyncPreview.recommendation`` (one record) or
    ``recommend_many`` (several); ``fields``: the preview's field rows, used to show what each
    side holds for the conflicting fields. ``choices`` (one record): its conflicting fields and
    what each choice overwrites; ``picked`` the winners already picked (on the card), else the
    recommended ones. Dismisses with the chosen direction, or None; the winners are then in
    ``picked`` (label → SEND: Business Central's value, GET: Dataverse's).
    """

    CSS_PATH = [style_path("dialogs.tcss")]
    BINDINGS: ClassVar[list[BindingType]] = bindings_for("direction")  # the keys: tui/actions.py

    def __init__(
        self,
        recommendation: Recommendation,
        *,
        fields: Sequence[FieldRow] = (),
        title: str = "Synchronize",
        choices: RecordChoices | None = None,
        picked: Mapping[str, SyncDirection] | None = None,
    ) -> None:
        super().__init__(classes="bc-dialog")
        self.recommendation = recommendation
        self.offered: tuple[SyncDirection, ...] = tuple(recommendation.offered)
        self._fields = {row.label: row for row in fields}
        self.dialog_title = title
        self.choices = choices
        self.picks: tuple[FieldPick, ...] = choices.picks if choices is not None else ()
        recommended = {pick.label: pick.recommended for pick in self.picks}
        given = {label: side for label, side in (picked or {}).items() if label in recommended}
        self.picked: dict[str, SyncDirection] = {**recommended, **given}
        self._highlighted = recommendation.recommended

    def compose(self) -> ComposeResult:
        advice = self.recommendation
        panel = "dialog-panel with-picks" if self.picks else "dialog-panel"
        with Vertical(id="direction-dialog", classes=panel):
            yield Literal(self.dialog_title, classes="dialog-title")
            yield Literal(advice.question, id="direction-question")
            yield OptionList(*self._options(), id="direction-options")
            if advice.warning:
                yield Literal(advice.warning, id="direction-warning", classes="dialog-warning")
            if self.picks:
                more = "; tab moves to the table" if len(self.picks) > 1 else ""
                yield Literal(
                    "Pick the winner of each conflicting field: ← Business Central, → Dataverse "
                    f"(★ recommended{more}).",
                    id="direction-picks-hint",
                )
                yield DataTable(id="direction-picks", cursor_type="row", zebra_stripes=False)
            details = self._details()
            if details.plain:
                with VerticalScroll(id="direction-details"):
                    yield Literal(details, id="direction-reasons")
        yield Footer()

    def _options(self) -> list[Option]:
        options = []
        for number, direction in enumerate(self.offered, start=1):
            label = Text(f"{number}  {OPTION_TEXT[direction]}")
            if direction is MERGE and self.picks:
                label.append(" Each conflicting field takes the winner picked below.")
            if direction is self.recommendation.recommended:
                label.append("  (recommended)", style="italic")
            options.append(Option(label, id=direction.value))
        return options

    def _details(self) -> Text:
        """Why: the reasons, the recommended winners, and exactly what each choice overwrites."""
        advice = self.recommendation
        text = Text()
        if advice.reasons:
            text.append("Why\n", style="bold")
            for reason in advice.reasons:
                text.append(f"• {shorten(reason)}\n")
        if self.picks:
            for pick in self.picks:
                side = winner_name(pick.recommended)
                text.append(f"★ {shorten(pick.label)}: {side}, because {shorten(pick.reason)}.\n")
        elif advice.conflicts:
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
        if self.choices is not None:
            # The highlighted choice first: moving through the options shows its effect on top.
            numbered = list(enumerate(self.offered, start=1))
            numbered.sort(key=lambda item: item[1] is not self._highlighted)
            for number, direction in numbered:
                overwrites = self.choices.overwrites(direction, self.picked)
                short = direction_words(direction).short.capitalize()
                if not overwrites:
                    text.append(f"{number} {short} overwrites nothing.\n")
                    continue
                side = "" if direction is MERGE else f" in {overwrites[0].side}"
                text.append(f"{number} {short} overwrites{side}:\n")
                text.append_text(overwrite_lines(overwrites, merge=direction is MERGE))
        text.rstrip()
        return text

    def on_mount(self) -> None:
        if self.picks:
            table = self.query_one("#direction-picks", DataTable)
            table.add_column("Field", key="field", width=16)
            table.add_column("Business Central", key="bc", width=24)
            table.add_column("Dataverse", key="dataverse", width=24)
            table.add_column("Winner", key="winner", width=18)
            for pick in self.picks:
                table.add_row(*pick_cells(pick, self.picked[pick.label]), key=pick.label)
        options = self.query_one(OptionList)
        options.highlighted = self.offered.index(self.recommendation.recommended)
        options.focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # "3 Merge" only where merge is offered; the winner keys only where fields conflict.
        if action in ("pick_bc", "pick_dataverse"):
            return bool(self.picks)
        if action != "choose" or not parameters:
            return True
        number: int = int(parameters[0])  # type: ignore[call-overload]
        return number <= len(self.offered)

    def action_choose(self, number: int) -> None:
        """Choose the ``number``-th offered direction (1 send, 2 get, 3 merge) and close."""
        if 1 <= number <= len(self.offered):
            self.dismiss(self.offered[number - 1])

    def action_pick_bc(self) -> None:
        """Business Central's value wins the conflicting field under the table's cursor."""
        self._pick(SEND)

    def action_pick_dataverse(self) -> None:
        """Dataverse's value wins the conflicting field under the table's cursor."""
        self._pick(GET)

    def _pick(self, side: SyncDirection) -> None:
        if not self.picks:
            return
        table = self.query_one("#direction-picks", DataTable)
        pick = self.picks[min(max(table.cursor_row, 0), len(self.picks) - 1)]
        self.picked[pick.label] = side
        for column, cell in zip(("field", "bc", "dataverse", "winner"), pick_cells(pick, side), strict=True):
            table.update_cell(pick.label, column, cell)
        self.query_one("#direction-reasons", Literal).update(self._details())

    @on(OptionList.OptionHighlighted, "#direction-options")
    def _highlighted_option(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        direction = self.offered[event.option_index]
        if direction is not self._highlighted and self.choices is not None:
            self._highlighted = direction
            self.query_one("#direction-reasons", Literal).update(self._details())

    @on(OptionList.OptionSelected, "#direction-options")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(self.offered[event.option_index])
