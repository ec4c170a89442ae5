"""The Set Up Coupling dialog (docs/coupling-and-sync.md "Set Up Coupling", "Dataverse Coupling Record").

Left, Business Central: the record's name and Synchronize After Coupling. Right, Dataverse: the
name. Below them the lookup: every record whose name contains the typed text (searched as you
type, in a worker), with number, city and e-mail, ten rows in view, and how many match in all when
there are more (docs/coupling-and-sync.md "The lookup"); then Create New, and the coupled fields
side by side. OK couples (and synchronizes once, if chosen) right here, so every refusal — no
such name, already coupled, hidden by the mapping's filter — is shown inside the dialog and the
user can correct the choice; the dialog closes only when the coupling exists.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, DataTable, Input, Label, OptionList, Select, Static
from textual.widgets.option_list import Option

from bc_tui.domain.mappings import SyncDirection
from bc_tui.domain.text import printable, shorten
from bc_tui.domain.words import DIRECTION_WORDS
from bc_tui.tui.backend import connected_session, not_connected_text
from bc_tui.tui.bindings import bindings_for
from bc_tui.tui.feedback import error_sentence
from bc_tui.tui.field_text import arrow, show_value
from bc_tui.tui.paths import style_path
from bc_tui.tui.shown import Literal, literal
from bc_tui.tui.widgets.footer import Footer

if TYPE_CHECKING:
    from bc_tui.sync.couple import CoupleResult, CouplingPreview, PreviewRow
    from bc_tui.sync.lookup import Candidate
    from bc_tui.sync.session import SyncSession

NO_SYNC = "no"
SYNC_AFTER_CHOICES: tuple[tuple[str, str], ...] = (
    ("No", NO_SYNC),
    *(
        (DIRECTION_WORDS[direction].after_coupling, direction.value)
        for direction in (SyncDirection.TO_DATAVERSE, SyncDirection.FROM_DATAVERSE)
    ),
)
"""Synchronize After Coupling: the labels BC shows and the values behind them."""

LOOKUP_LIMIT = 20
LOOKUP_DELAY = 0.15
"""Seconds of quiet typing before the type-ahead searches."""
#: The widths of a candidate's name, number and city in the lookup (the e-mail takes the rest).
CANDIDATE_COLUMNS = (36, 12, 16)


@dataclass(frozen=True)
class CouplingChoice:
    """What the user chose in the dialog, and what coupling it made."""

    dataverse_id: str | None  # the record picked from the type-ahead (None: typed name, or Create New)
    dataverse_name: str | None  # the name as typed or picked
    create_new: bool
    sync_after: SyncDirection | None
    result: CoupleResult  # what couple_record answered (the coupling, the message, the sync)


class CouplingDialog(ModalScreen["CouplingChoice | None"]):
    """Set Up Coupling for the BC record ``bc_id`` of the table mapping ``mapping_name``."""

    CSS_PATH = [style_path("dialogs.tcss")]
    BINDINGS: ClassVar[list[BindingType]] = bindings_for("coupling")  # the keys: tui/actions.py

    def __init__(self, mapping_name: str, bc_id: str) -> None:
        super().__init__(classes="bc-dialog")
        self.mapping_name = mapping_name
        self.bc_id = bc_id
        self.preview: CouplingPreview | None = None
        self.matches: list[Candidate] = []
        self.chosen: Candidate | None = None
        self.busy = False
        self._bc_rows: list[PreviewRow] = []
        self._picked_text: str | None = None  # the Input text we set ourselves: no new lookup for it
        self._before_create_new: tuple[str, Candidate | None, str] | None = None

    # --- layout ---------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Vertical(id="coupling-dialog", classes="dialog-panel"):
            yield Static("Set Up Coupling", classes="dialog-title")
            with Horizontal(id="coupling-columns"):
                with Vertical(id="coupling-bc", classes="dialog-column") as left:
                    left.border_title = "Business Central"
                    yield Label("Name")
                    yield Literal("Loading…", id="coupling-bc-name")
                    yield Label("Synchronize After Coupling")
                    yield Select(SYNC_AFTER_CHOICES, allow_blank=False, value=NO_SYNC, id="coupling-sync-after")
                with Vertical(id="coupling-dv", classes="dialog-column") as right:
                    right.border_title = "Dataverse"
                    yield Label("Dataverse Name")
                    yield Input(
                        placeholder="type part of a name; ↓ ↑ pick a match", id="coupling-name", select_on_focus=False
                    )
            yield OptionList(id="coupling-matches")
            # After the candidates, so that tab goes from the name to them, then to Create New.
            yield Checkbox("Create New", id="coupling-create-new")
            yield Static("Coupled fields", classes="dialog-subtitle")
            yield DataTable(id="coupling-fields", cursor_type="none", zebra_stripes=True)
            yield Literal("", id="coupling-message")
            with Horizontal(classes="dialog-buttons"):
                yield Button("OK", id="coupling-ok", variant="primary")
                yield Button("Cancel", id="coupling-cancel")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#coupling-fields", DataTable)
        table.can_focus = False  # a preview: tab goes from the choices straight to OK
        table.add_column("Field", key="field", width=21)
        table.add_column("Value (Business Central)", key="bc", width=32)
        table.add_column("Integration Value (Dataverse)", key="dataverse", width=32)
        table.add_column("Direction", key="direction", width=9)
        self.query_one("#coupling-create-new", Checkbox).display = False
        self.query_one("#coupling-matches", OptionList).border_title = _candidate_head()
        self.query_one("#coupling-name", Input).focus()
        self._load()

    # --- state shown ----------------------------------------------------------------------------

    @property
    def session(self) -> SyncSession | None:
        return connected_session(self.app)

    @property
    def message(self) -> str:
        """The sentence under the fields (an error, or what is happening)."""
        return str(self.query_one("#coupling-message", Static).content)

    def show_message(self, text: str, *, error: bool = False) -> None:
        """Put ``text`` under the fields, styled as an error when ``error``."""
        widget = self.query_one("#coupling-message", Static)
        widget.update(text)
        widget.set_class(error, "error")

    @property
    def create_new(self) -> bool:
        """Whether Create New is ticked (and offered)."""
        box = self.query_one("#coupling-create-new", Checkbox)
        return box.display and box.value

    @property
    def sync_after(self) -> SyncDirection | None:
        """The Synchronize After Coupling choice (None: No)."""
        value = self.query_one("#coupling-sync-after", Select).value
        return None if value in (NO_SYNC, Select.NULL) else SyncDirection(str(value))

    def _fill_fields(self, rows: list[PreviewRow], *, with_dataverse: bool) -> None:
        table = self.query_one("#coupling-fields", DataTable)
        table.clear()
        for row in rows:
            table.add_row(
                literal(row.label),
                literal(show_value(row.bc_value)),
                literal(show_value(row.dataverse_value) if with_dataverse else ""),
                literal(arrow(row.direction), justify="center"),
            )

    # --- loading --------------------------------------------------------------------------------

    @work(exclusive=True, group="coupling-load")
    async def _load(self) -> None:
        from bc_tui.sync.couple import preview_coupling

        session = self.session
        if session is None:
            self.show_message(_not_connected(self.app), error=True)
            return
        try:
            preview = await preview_coupling(session, self.mapping_name, self.bc_id)
        except Exception as error:  # noqa: BLE001 - any failure is a sentence in the dialog
            self.show_message(_sentence_of(error), error=True)
            return
        self.preview = preview
        self._bc_rows = preview.rows
        self.query_one("#coupling-bc-name", Static).update(preview.bc_description)
        self.query_one("#coupling-sync-after", Select).value = (
            preview.default_sync_after.value if preview.default_sync_after else NO_SYNC
        )
        self.query_one("#coupling-create-new", Checkbox).display = preview.create_new_available
        if preview.current_dataverse_id and preview.dataverse_description:
            name = _name_of(preview.dataverse_description)
            self.chosen = _current_choice(preview.current_dataverse_id, name)
            self._set_name(name)
            self.show_message(f"Currently coupled to the Dataverse {shorten(preview.dataverse_description)}.")
        self._fill_fields(preview.rows, with_dataverse=preview.current_dataverse_id is not None)

    # --- type-ahead -----------------------------------------------------------------------------

    def _set_name(self, text: str) -> None:
        """Put ``text`` in the name field without starting a new lookup."""
        # An Input shows its value as it is: a picked name keeps no control characters.
        text = printable(text)
        name = self.query_one("#coupling-name", Input)
        self._picked_text = text
        name.value = text
        name.cursor_position = len(text)

    @on(Input.Changed, "#coupling-name")
    def _typed(self, event: Input.Changed) -> None:
        if event.value == self._picked_text:
            return
        self._picked_text = None
        self.chosen = None
        if self.preview is not None:
            self._fill_fields(self._bc_rows, with_dataverse=False)
        self._lookup(event.value)

    @work(exclusive=True, group="coupling-lookup")
    async def _lookup(self, text: str) -> None:
        from bc_tui.sync.lookup import search_dataverse

        await asyncio.sleep(LOOKUP_DELAY)  # typing on cancels this worker: one search per pause
        matches_list = self.query_one("#coupling-matches", OptionList)
        session = self.session
        if not text.strip() or session is None:
            self.matches = []
            matches_list.clear_options()
            matches_list.border_subtitle = ""
            return
        try:
            found = await search_dataverse(session, self.mapping_name, text.strip(), limit=LOOKUP_LIMIT)
        except Exception as error:  # noqa: BLE001 - a failed lookup is a sentence, typing goes on
            self.show_message(_sentence_of(error), error=True)
            return
        self.matches = found.found
        matches_list.set_options(Option(_candidate_row(m), id=m.id) for m in found.found)
        matches_list.border_subtitle = found.count_text if found.found else ""
        if not found.found:
            self.show_message(
                f"No Dataverse record inside the mapping's filter has {shorten(text.strip())!r} in its name."
            )
        elif not self.message.startswith("Coupling"):
            self.show_message(f"{found.count_text}: ↓ ↑ pick one, enter couples.")

    def action_move_match(self, step: int) -> None:
        """Highlight the next (``step`` 1) or previous (-1) match and choose it."""
        matches_list = self.query_one("#coupling-matches", OptionList)
        if not self.matches or self.create_new:
            return
        current = matches_list.highlighted
        index = 0 if current is None else max(0, min(len(self.matches) - 1, current + step))
        matches_list.highlighted = index
        self._choose(self.matches[index])

    @on(OptionList.OptionSelected, "#coupling-matches")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self._choose(self.matches[event.option_index])
        self.action_ok()

    def _choose(self, choice: Candidate) -> None:
        self.chosen = choice
        self._set_name(choice.name)
        self._preview_choice(choice.id)

    @work(exclusive=True, group="coupling-preview")
    async def _preview_choice(self, dataverse_id: str) -> None:
        from bc_tui.sync.couple import preview_coupling

        session = self.session
        if session is None:
            return
        try:
            preview = await preview_coupling(session, self.mapping_name, self.bc_id, dataverse_id)
        except Exception as error:  # noqa: BLE001
            self.show_message(_sentence_of(error), error=True)
            return
        if self.chosen is not None and self.chosen.id == dataverse_id:
            self._fill_fields(preview.rows, with_dataverse=True)

    # --- Create New -----------------------------------------------------------------------------

    @on(Checkbox.Changed, "#coupling-create-new")
    def _create_new_changed(self, event: Checkbox.Changed) -> None:
        name = self.query_one("#coupling-name", Input)
        sync_after = self.query_one("#coupling-sync-after", Select)
        if event.value:
            # docs/coupling-and-sync.md "Set Up Coupling": ticking clears the chosen record and disables
            # Synchronize After Coupling.
            self._before_create_new = (name.value, self.chosen, str(sync_after.value))
            self.chosen = None
            self._set_name("")
            self.matches = []
            self.query_one("#coupling-matches", OptionList).clear_options()
            sync_after.value = NO_SYNC
            name.disabled = sync_after.disabled = True
            self._fill_fields(self._bc_rows, with_dataverse=False)
            self.show_message(
                "A new Dataverse record will be created from the Business Central data; enter creates it."
            )
            self.query_one("#coupling-ok", Button).focus()
        else:
            name.disabled = sync_after.disabled = False
            if self._before_create_new is not None:
                text, chosen, sync_value = self._before_create_new
                self._set_name(text)
                self.chosen = chosen
                sync_after.value = sync_value
                if chosen is not None:
                    self._preview_choice(chosen.id)
            self.show_message("")

    # --- OK / cancel ----------------------------------------------------------------------------

    @on(Input.Submitted, "#coupling-name")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_ok()

    @on(Button.Pressed, "#coupling-ok")
    def _ok_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_ok()

    @on(Button.Pressed, "#coupling-cancel")
    def _cancel_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_cancel()

    def action_cancel(self) -> None:
        """Close without coupling."""
        self.workers.cancel_group(self, "coupling-lookup")
        self.dismiss(None)

    def action_ok(self) -> None:
        """Couple with the chosen or typed record, or create a new one (then synchronize, if chosen)."""
        if self.busy or self.preview is None:
            return
        typed = self.query_one("#coupling-name", Input).value.strip()
        chosen = self.chosen
        if chosen is None and typed:
            # The typed name is one of the matches (ignoring case): that is the record meant.
            chosen = next((m for m in self.matches if printable(m.name).casefold() == typed.casefold()), None)
        if not self.create_new and chosen is None and not typed:
            self.show_message(
                f"Type the name of the Dataverse record to couple {shorten(self.preview.bc_description)} with, "
                "or tick Create New.",
                error=True,
            )
            return
        self.busy = True
        self.show_message("Coupling…")
        self._couple(chosen, typed)

    @work(exclusive=True, group="coupling-ok")
    async def _couple(self, chosen: Candidate | None, typed: str) -> None:
        from bc_tui.sync.couple import couple_record

        session = self.session
        create_new, sync_after = self.create_new, self.sync_after
        try:
            if session is None:
                raise _NotConnected(_not_connected(self.app))
            current = self.preview.current_dataverse_id if self.preview else None
            result = await couple_record(
                session,
                self.mapping_name,
                self.bc_id,
                dataverse_id=None if create_new or chosen is None else chosen.id,
                dataverse_name=None if create_new or chosen is not None else typed,
                create_new=create_new,
                sync_after=None if create_new else sync_after,
                # Re-coupling a coupled record to another Dataverse record the user picked: the
                # old coupling goes, but never one that holds the chosen Dataverse record.
                replace=bool(current and chosen and not chosen.coupled and chosen.id != current),
            )
        except Exception as error:  # noqa: BLE001 - every refusal is shown here, never a crash
            self.busy = False
            self.show_message(_sentence_of(error), error=True)
            return
        self.dismiss(
            CouplingChoice(
                dataverse_id=None if create_new or chosen is None else chosen.id,
                dataverse_name=None if create_new else (chosen.name if chosen else typed),
                create_new=create_new,
                sync_after=None if create_new else sync_after,
                result=result,
            )
        )


class _NotConnected(Exception):
    pass


def _current_choice(dataverse_id: str, name: str) -> Candidate:
    from bc_tui.sync.lookup import Candidate

    return Candidate(id=dataverse_id, name=name, coupled_to="this record")


def _cell(value: str, width: int) -> str:
    """``value`` in a column ``width`` wide: cut with … when longer, padded when shorter."""
    text = printable(value)
    return (text[: width - 2] + "… " if len(text) > width - 1 else text).ljust(width)


def _candidate_head() -> str:
    """The lookup's column titles, aligned with :func:`_candidate_row`."""
    name, number, city = CANDIDATE_COLUMNS
    return (_cell("Name", name) + _cell("Number", number) + _cell("City", city) + "E-mail").rstrip()


def _candidate_row(candidate: Candidate) -> Text:
    """One candidate: name, number, city and e-mail in columns, then what it is coupled to."""
    name, number, city = CANDIDATE_COLUMNS
    row = literal(_cell(candidate.name, name) + _cell(candidate.number, number) + _cell(candidate.city, city))
    row.append_text(literal(candidate.email))
    if candidate.coupled:
        row.append_text(literal(f"  coupled to {candidate.coupled_to}", style="italic"))
    return row


def _name_of(description: str) -> str:
    """ "account Adatum Corporation" → "Adatum Corporation" (describe_dataverse puts the noun first)."""
    _, _, name = description.partition(" ")
    return name or description


def _not_connected(app: object) -> str:
    return not_connected_text(app)


def _sentence_of(error: BaseException) -> str:
    return error_sentence(error)
