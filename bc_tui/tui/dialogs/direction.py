"""The direction dialog (docs/coupling-and-sync.md "Synchronize Now"): "Synchronize data for X?" — send,
get or merge, the recommended choice pre-selected, with the reasons (which side changed).

For one record (docs/coupling-and-sync.md "Per-field winners") it also offers each side's record
as a whole (4, 5), and when fields conflict it shows a table of them: the user picks the winner
of each (← Business Central, → Dataverse, e an edited value for a text field; the recommended one
is marked ★ and its reason given). The Why lists, for every choice, each field it writes: on
which side, the value there now and the value written, and whose own change is lost. For several
records the same dialog offers send and get only (``recommend_many``), and `w` switches what
happens to a record with a conflicting field: skipped (the default) or the chosen side wins those
fields, while the other side's other changes still flow back.
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
from textual.widgets import DataTable, OptionList
from textual.widgets.option_list import Option

from bc_tui.domain.mappings import SyncDirection
from bc_tui.domain.recommend import OPTION_TEXT, Recommendation
from bc_tui.domain.text import shorten
from bc_tui.domain.words import direction_words
from bc_tui.sync.field_picks import winner_name
from bc_tui.sync.preview import FieldRow
from bc_tui.tui.bindings import bindings_for
from bc_tui.tui.dialogs.edit_value import FieldPicking
from bc_tui.tui.field_text import show_value
from bc_tui.tui.paths import style_path
from bc_tui.tui.shown import Literal, literal
from bc_tui.tui.widgets.footer import Footer

if TYPE_CHECKING:
    from bc_tui.sync.field_picks import FieldPick, Overwrite, RecordChoices

SEND, GET, MERGE = SyncDirection.TO_DATAVERSE, SyncDirection.FROM_DATAVERSE, SyncDirection.MERGE

#: How a value the user keeps and one that loses are drawn in the picks table.
WINNER_STYLE = Style(bold=True, underline=True)
LOSER_STYLE = Style(dim=True, strike=True)

#: One choice of the dialog: a direction, and whether it takes one side's record as a whole.
Choice = tuple[SyncDirection, bool]

_WHOLE_TEXT = {SEND: "Send the whole record to Dataverse.", GET: "Get the whole record from Dataverse."}


def choice_name(choice: Choice) -> str:
    """The choice in the Why and the footer's words: "Send", "Merge", "Send whole record"."""
    direction, whole = choice
    short = direction_words(direction).short.capitalize()
    return f"{short} whole record" if whole else short


def pick_cells(pick: FieldPick, chosen: SyncDirection, edit: str | None = None) -> list[Text]:
    """The picks table's row: the field, both values (the one kept ✓), the winner (★: recommended)."""
    if edit is not None:
        return [
            literal(pick.label, style=Style(bold=True)),
            literal(show_value(pick.bc_value), style=LOSER_STYLE),
            literal(show_value(pick.dataverse_value), style=LOSER_STYLE),
            literal(f"✎ {show_value(edit)}", style=WINNER_STYLE),
        ]
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


def overwrite_lines(overwrites: Sequence[Overwrite]) -> Text:
    """One bullet per field written: the side, label, value there now → value written, and notes
    (the user's pick or value, a side's own change lost). Values are shown literally."""
    text = Text()
    for item in overwrites:
        notes = []
        if item.edited:
            notes.append("your value")
        elif item.picked:
            notes.append("your pick")
        if item.loses_change:
            notes.append(f"{item.side}'s change is lost")
        note = f" ({'; '.join(notes)})" if notes else ""
        old, new = shorten(show_value(item.old)), shorten(show_value(item.new))
        text.append(f"  • in {item.side}: {item.label} {old!r} → {new!r}{note}\n")
    return text


class DirectionDialog(FieldPicking, ModalScreen[SyncDirection | None]):
    """Choose send / get / merge (or a whole record) for one record, or send / get for several.

    ``recommendation``: from ``SyncPreview.recommendation`` (one record) or
    ``recommend_many`` (several); ``fields``: the preview's field rows, used to show what each
    side holds for the conflicting fields. ``choices`` (one record): its conflicting fields and
    what each choice writes; ``picked`` / ``edits`` the winners and values already chosen (on the
    card), else the recommended winners. Dismisses with the chosen direction, or None; then
    ``whole_record`` says whether a whole record was chosen, ``picked`` holds the winners (label →
    SEND: Business Central's value, GET: Dataverse's) and ``edits`` the typed values.
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
        edits: Mapping[str, str] | None = None,
        several: bool = False,
    ) -> None:
        super().__init__(classes="bc-dialog")
        self.recommendation = recommendation
        self.offered: tuple[SyncDirection, ...] = tuple(recommendation.offered)
        whole: list[Choice] = []
        if choices is not None and {SEND, GET} <= set(self.offered):
            whole = [(SEND, True), (GET, True)]
        self.choices_offered: tuple[Choice, ...] = (*((d, False) for d in self.offered), *whole)
        self._fields = {row.label: row for row in fields}
        self.dialog_title = title
        self.choices = choices
        self.picks: tuple[FieldPick, ...] = choices.picks if choices is not None else ()
        recommended = {pick.label: pick.recommended for pick in self.picks}
        given = {label: side for label, side in (picked or {}).items() if label in recommended}
        self.picked: dict[str, SyncDirection] = {**recommended, **given}
        editable = {pick.label for pick in self.picks if pick.editable}
        self.edits: dict[str, str] = {label: value for label, value in (edits or {}).items() if label in editable}
        self.whole_record = False
        self.several = several  # several records: the conflict policy can be switched
        self.conflicts_win = False  # several records: the chosen side wins conflicting fields
        self._highlighted: Choice = (recommendation.recommended, False)

    def compose(self) -> ComposeResult:
        advice = self.recommendation
        panel = "dialog-panel with-picks" if self.choices is not None else "dialog-panel"
        with Vertical(id="direction-dialog", classes=panel):
            yield Literal(self.dialog_title, classes="dialog-title")
            yield Literal(advice.question, id="direction-question")
            yield OptionList(*self._options(), id="direction-options")
            if advice.warning:
                yield Literal(advice.warning, id="direction-warning", classes="dialog-warning")
            if self.several:
                yield Literal(self._conflicts_text(), id="direction-conflicts")
            if self.picks:
                more = "; tab moves to the table" if len(self.picks) > 1 else ""
                edit = ", e your own value" if any(pick.editable for pick in self.picks) else ""
                yield Literal(
                    f"Pick the winner of each conflicting field: ← Business Central, → Dataverse{edit} "
                    f"(★ recommended{more}).",
                    id="direction-picks-hint",
                )
                yield DataTable(id="direction-picks", cursor_type="row", zebra_stripes=False)
            details = self._details()
            if details.plain:
                with VerticalScroll(id="direction-details"):
                    yield Literal(details, id="direction-reasons")
        yield Footer()

    def _conflicts_text(self) -> str:
        if self.conflicts_win:
            return (
                "A record with a conflicting field: the side you choose wins those fields; the other "
                "side's other changes still flow back. (w: skip such records instead)"
            )
        return (
            "A record with a conflicting field is skipped: nothing of it is written, and it is "
            "reported as a conflict. (w: let the side you choose win those fields instead)"
        )

    def action_toggle_conflicts(self) -> None:
        """Several records: switch between skipping records with conflicting fields and letting the
        chosen side win those fields."""
        if self.several:
            self.conflicts_win = not self.conflicts_win
            self.query_one("#direction-conflicts", Literal).update(self._conflicts_text())

    def _options(self) -> list[Option]:
        options = []
        for number, (direction, whole) in enumerate(self.choices_offered, start=1):
            label = Text(f"{number}  {_WHOLE_TEXT[direction] if whole else OPTION_TEXT[direction]}")
            if direction is MERGE and self.picks:
                label.append(" Each conflicting field takes the winner picked below.")
            if (direction, whole) == (self.recommendation.recommended, False):
                label.append("  (recommended)", style="italic")
            options.append(Option(label, id=f"{direction.value}{'-whole' if whole else ''}"))
        return options

    def _details(self) -> Text:
        """Why: the reasons, the recommended winners, and exactly what each choice writes."""
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
            numbered = list(enumerate(self.choices_offered, start=1))
            numbered.sort(key=lambda item: item[1] != self._highlighted)
            for number, choice in numbered:
                overwrites = self._overwrites(choice)
                if not overwrites:
                    text.append(f"{number} {choice_name(choice)} writes nothing.\n")
                    continue
                text.append(f"{number} {choice_name(choice)} writes:\n")
                text.append_text(overwrite_lines(overwrites))
        text.rstrip()
        return text

    def _overwrites(self, choice: Choice) -> tuple[Overwrite, ...]:
        assert self.choices is not None
        direction, whole = choice
        if direction is MERGE:
            return self.choices.overwrites(MERGE, self.picked, self.edits)
        return self.choices.overwrites(direction, whole_record=whole)

    def on_mount(self) -> None:
        if self.picks:
            table = self.query_one("#direction-picks", DataTable)
            table.add_column("Field", key="field", width=16)
            table.add_column("Business Central", key="bc", width=24)
            table.add_column("Dataverse", key="dataverse", width=24)
            table.add_column("Winner", key="winner", width=18)
            for pick in self.picks:
                table.add_row(*self._cells(pick), key=pick.label)
        options = self.query_one(OptionList)
        options.highlighted = self.choices_offered.index((self.recommendation.recommended, False))
        options.focus()

    def _cells(self, pick: FieldPick) -> list[Text]:
        return pick_cells(pick, self.picked[pick.label], self.edits.get(pick.label))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # "3 Merge" only where merge is offered, 4 and 5 for one record; the winner keys only
        # where fields conflict, "e" only where one of them is text.
        if action in ("pick_bc", "pick_dataverse"):
            return bool(self.picks)
        if action == "pick_edit":
            return any(pick.editable for pick in self.picks)
        if action == "toggle_conflicts":
            return self.several
        if action != "choose" or not parameters:
            return True
        number: int = int(parameters[0])  # type: ignore[call-overload]
        return number <= len(self.choices_offered)

    def action_choose(self, number: int) -> None:
        """Choose the ``number``-th choice (1 send, 2 get, 3 merge, 4 / 5 a whole record) and close."""
        if 1 <= number <= len(self.choices_offered):
            self._choose(self.choices_offered[number - 1])

    def _choose(self, choice: Choice) -> None:
        direction, self.whole_record = choice
        self.dismiss(direction)

    def action_pick_bc(self) -> None:
        """Business Central's value wins the conflicting field under the table's cursor."""
        self._pick(SEND)

    def action_pick_dataverse(self) -> None:
        """Dataverse's value wins the conflicting field under the table's cursor."""
        self._pick(GET)

    def action_pick_edit(self) -> None:
        """Type the value both sides get for the conflicting text field under the table's cursor."""
        pick = self._cursor_pick()
        if pick is None or not pick.editable:
            return
        self._edit(pick)

    def _cursor_pick(self) -> FieldPick | None:
        if not self.picks:
            return None
        table = self.query_one("#direction-picks", DataTable)
        return self.picks[min(max(table.cursor_row, 0), len(self.picks) - 1)]

    def _redraw(self, pick: FieldPick) -> None:
        table = self.query_one("#direction-picks", DataTable)
        for column, cell in zip(("field", "bc", "dataverse", "winner"), self._cells(pick), strict=True):
            table.update_cell(pick.label, column, cell)
        self.query_one("#direction-reasons", Literal).update(self._details())

    @on(OptionList.OptionHighlighted, "#direction-options")
    def _highlighted_option(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        choice = self.choices_offered[event.option_index]
        if choice != self._highlighted and self.choices is not None:
            self._highlighted = choice
            self.query_one("#direction-reasons", Literal).update(self._details())

    @on(OptionList.OptionSelected, "#direction-options")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self._choose(self.choices_offered[event.option_index])
