"""The one table of the terminal app's actions: id, keys, description and where each applies.

Every screen, dialog and widget takes its key bindings from here (``bindings.bindings_for``), and
the help screen, the footer, the command palette, the ``[keys]`` check and README's key table all
read the same rows, so an action has one key and one name wherever it appears (see
docs/keys-and-words.md, "One key per action"). As in darrenburns/posting, an action's id does not
depend on the screen: remapping ``delete_coupling`` in ``[keys]`` moves it on every screen.

This module is plain data (no Textual; the direction words come from ``domain/words.py``), so
that tests and the README check can read it cheaply.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bc_tui.domain.mappings import SyncDirection
from bc_tui.domain.words import direction_words

#: What each ``where`` name is, as README and the docs say it.
PLACES: Mapping[str, str] = {
    "app": "everywhere",
    "list": "record lists",
    "main": "main screen",
    "card": "record card",
    "errors": "errors screen",
    "log": "synchronization log",
    "history": "record history",
    "help": "help screen",
    "confirm": "confirmation dialog",
    "coupling": "Set Up Coupling dialog",
    "direction": "direction dialog",
    "edit": "edit value dialog",
    "job": "job progress dialog",
    "match": "match-based coupling dialog",
    "export": "export dialog",
    "fixes": "broken coupling fixes dialog",
    "values": "full values popup",
}


@dataclass(frozen=True, slots=True)
class ActionRow:
    """One action of the terminal app.

    ``keys`` uses Textual's key names, comma-separated (``"f5,ctrl+l"``); ``action`` is the
    Textual action the key runs; ``where`` names the places (keys of `PLACES`) that bind it, and
    ``hidden_on`` those of them whose footer leaves it out (it still works and is in the help).
    """

    id: str
    keys: str
    action: str
    description: str
    where: tuple[str, ...]
    hidden_on: tuple[str, ...] = ()
    priority: bool = False

    def shown_on(self, place: str) -> bool:
        """Whether the footer of ``place`` shows this action."""
        return place not in self.hidden_on


def _row(
    id: str,
    keys: str,
    action: str,
    description: str,
    *where: str,
    hidden: bool | tuple[str, ...] = (),
    priority: bool = False,
) -> ActionRow:
    hidden_on = where if hidden is True else (() if hidden is False else hidden)
    return ActionRow(id, keys, action, description, tuple(where), tuple(hidden_on), priority)


def _direction(direction: SyncDirection) -> str:
    """The direction dialog's key label: the direction's short word ("Send")."""
    return direction_words(direction).short.capitalize()


# The order of the rows is the order of the footer on each place: shared rows sit where every
# place that binds them wants them (couple, synchronize, delete coupling, … log, refresh, back).
ACTIONS: tuple[ActionRow, ...] = (
    _row("app.quit", "ctrl+q", "quit", "Quit", "app", priority=True),
    _row("app.command_palette", "ctrl+p", "command_palette", "Commands", "app", hidden=True, priority=True),
    _row("app.help", "question_mark,f1", "help", "Help", "app"),
    _row("app.toggle_theme", "t", "toggle_theme", "Light/dark", "app", hidden=True),
    _row("main.next_tab", "right_square_bracket", "next_tab", "Next tab", "main", hidden=True),
    _row("main.previous_tab", "left_square_bracket", "previous_tab", "Previous tab", "main", hidden=True),
    _row("list.cursor_up", "up,k", "cursor_up", "Up", "list", hidden=True),
    _row("list.cursor_down", "down,j", "cursor_down", "Down", "list", hidden=True),
    _row("list.page_up", "pageup", "page_up", "Page up", "list", hidden=True),
    _row("list.page_down", "pagedown", "page_down", "Page down", "list", hidden=True),
    _row("list.first", "home,g", "first", "First record", "list", hidden=True),
    _row("list.last", "end,G", "last", "Last record", "list", hidden=True),
    _row("list.scroll_left", "left", "scroll_left", "Scroll left", "list", hidden=True),
    _row("list.scroll_right", "right", "scroll_right", "Scroll right", "list", hidden=True),
    _row("list.open", "enter", "open", "Open", "list"),
    _row("mark", "space", "toggle_mark", "Mark", "list", "errors"),
    _row("list.mark_down", "shift+down", "mark_down", "Extend mark down", "list", hidden=True),
    _row("list.mark_up", "shift+up", "mark_up", "Extend mark up", "list", hidden=True),
    _row("list.range_mark", "v", "range_mark", "Range mark", "list", hidden=True),
    _row("errors.retry", "r", "retry", "Retry", "errors"),
    _row("errors.retry_all", "R", "retry_all", "Retry all", "errors"),
    _row("couple", "c", "couple", "Couple", "main", "card"),
    _row("synchronize", "s", "synchronize", "Sync", "main", "card", "errors"),
    _row("errors.restore", "t", "restore", "Restore", "errors", "fixes"),
    _row("delete_coupling", "d", "delete_coupling", "Delete coupling", "main", "card", "errors", "fixes"),
    _row("errors.delete_record", "D", "delete_record", "Delete record", "errors", "fixes"),
    _row("mark_all", "ctrl+a", "mark_all", "Mark all", "list", "errors", hidden=True),
    _row("list.clear_marks", "escape,u", "clear_marks", "Clear marks", "list", hidden=True),
    _row("main.create", "n", "create", "Create", "main"),
    _row("main.match", "m", "match", "Match-based coupling", "main", hidden=True),
    _row("main.sync_modified", "S", "sync_modified", "Sync modified", "main", hidden=True),
    _row(
        "main.sync_modified_all",
        "ctrl+s",
        "sync_modified_all",
        "Sync modified, all table mappings",
        "main",
        hidden=True,
    ),
    _row("main.filter", "slash", "filter", "Filter", "main"),
    _row("main.coupled_filter", "f", "coupled_filter", "Coupled filter", "main", hidden=True),
    _row("main.sort", "o", "sort", "Sort", "main", hidden=True),
    # A priority binding, so that it shows in the footer over the log table's own (hidden) enter.
    _row("log.open", "enter", "open_job", "Errors of job", "log", priority=True),
    # Per-field winners of a conflicting field (the card's cursor row, the direction dialog's picks):
    # priority, so that the card's field table does not take the arrows to scroll sideways.
    _row("pick_bc", "left", "pick_bc", "BC wins", "card", "direction", priority=True),
    _row("pick_dataverse", "right", "pick_dataverse", "Dataverse wins", "card", "direction", priority=True),
    _row("pick_edit", "e", "pick_edit", "Edit value", "card", "direction"),
    _row("undo_job", "u", "undo_job", "Undo job", "log", "job"),
    _row("log", "L", "log", "Log", "main", "card"),
    _row("card.history", "h", "history", "History", "card"),
    _row("history.undo", "u", "undo_record", "Undo job for this record", "history"),
    _row("history.force", "F", "force_field", "Force field back", "history"),
    _row(
        "refresh",
        "f5,ctrl+l",
        "refresh",
        "Refresh",
        "main",
        "card",
        "errors",
        "log",
        "history",
        hidden=("main", "errors"),
    ),
    _row("main.errors", "E", "errors", "Errors", "main"),
    _row("back", "escape", "back", "Back", "card", "errors", "log", "history", "fixes"),
    _row("help.close", "escape,q,question_mark,f1", "dismiss(None)", "Close help", "help"),
    _row("confirm.yes", "y", "answer(True)", "Yes", "confirm"),
    _row("confirm.no", "n", "answer(False)", "No", "confirm"),
    _row("confirm.cancel", "escape", "answer(False)", "Cancel", "confirm"),
    _row("confirm.previous", "left,shift+tab", "app.focus_previous", "Previous button", "confirm", hidden=True),
    _row("confirm.next", "right,tab", "app.focus_next", "Next button", "confirm", hidden=True),
    _row("coupling.ok", "enter", "ok", "OK", "coupling"),
    _row("coupling.cancel", "escape", "cancel", "Cancel", "coupling"),
    _row("coupling.next_match", "down", "move_match(1)", "Next match", "coupling", hidden=True),
    _row("coupling.previous_match", "up", "move_match(-1)", "Previous match", "coupling", hidden=True),
    _row("direction.send", "1", "choose(1)", _direction(SyncDirection.TO_DATAVERSE), "direction"),
    _row("direction.get", "2", "choose(2)", _direction(SyncDirection.FROM_DATAVERSE), "direction"),
    _row("direction.merge", "3", "choose(3)", _direction(SyncDirection.MERGE), "direction"),
    _row("direction.send_whole", "4", "choose(4)", "Send whole record", "direction"),
    _row("direction.get_whole", "5", "choose(5)", "Get whole record", "direction"),
    _row("direction.conflicts", "w", "toggle_conflicts", "Skip or win conflicts", "direction"),
    _row("direction.cancel", "escape", "dismiss(None)", "Cancel", "direction"),
    # enter keeps the typed value even while the input (which would submit on enter) has the focus.
    _row("edit.ok", "enter", "ok", "OK", "edit", priority=True),
    _row("edit.cancel", "escape", "cancel", "Cancel", "edit"),
    _row("job.cancel", "escape", "cancel_job", "Cancel job", "job"),
    _row("job.close", "escape,enter", "close", "Close", "job"),
    _row("job.failures", "f", "failures", "Open failures", "job"),
    _row("match.toggle", "space", "toggle_match", "Match on field", "match"),
    _row("match.case_sensitive", "c", "toggle_case", "Case-sensitive", "match"),
    _row("match.priority_up", "plus,equals_sign", "priority(1)", "Priority +", "match"),
    _row("match.priority_down", "minus", "priority(-1)", "Priority -", "match"),
    _row("match.sync_after", "s", "cycle_sync_after", "Sync after", "match"),
    _row("match.create_new", "n", "toggle_create_new", "Create new", "match"),
    _row("match.reset", "r", "reset", "Reset criteria", "match"),
    # enter runs even while the grid (which would select a row on enter) has the focus.
    _row("match.run", "enter", "run", "Run", "match", priority=True),
    _row("match.cancel", "escape", "dismiss(None)", "Cancel", "match"),
    # Export to CSV (docs/showing-data.md "Export to CSV"): the list's rows (the marked ones when
    # there are marks), the errors screen's couplings, the log's jobs or the open job's errors.
    _row("export", "x", "export", "Export to CSV", "main", "errors", "log", hidden=True),
    # enter takes the path even while the input (which would submit on enter) has the focus.
    _row("export.ok", "enter", "ok", "Export", "export", priority=True),
    _row("export.cancel", "escape", "cancel", "Cancel", "export"),
    # Broken couplings found and fixed without a synchronization (docs/coupling-and-sync.md
    # "Checking couplings without a synchronization"); the fixes dialog takes the errors screen's keys.
    _row("fix_broken", "b", "fix_broken", "Fix broken coupling", "main", "card", hidden=True),
    _row("check_couplings", "C", "check_couplings", "Check couplings", "main", "errors", hidden=True),
    _row("main.full_values", "i", "full_values", "Full values", "main", hidden=True),
    _row("values.close", "escape,enter,i,q", "close", "Close", "values"),
)

#: Ids of earlier versions, when an action had one id per screen: a ``[keys]`` entry under an
#: old id still works and remaps the shared action (docs/keys-and-words.md, "Binding ids").
OLD_IDS: Mapping[str, str] = {
    "list.mark": "mark",
    "errors.mark": "mark",
    "list.mark_all": "mark_all",
    "errors.mark_all": "mark_all",
    "main.couple": "couple",
    "card.couple": "couple",
    "main.synchronize": "synchronize",
    "card.sync": "synchronize",
    "errors.synchronize": "synchronize",
    "main.delete_coupling": "delete_coupling",
    "card.delete_coupling": "delete_coupling",
    "errors.delete_coupling": "delete_coupling",
    "main.log": "log",
    "card.log": "log",
    "main.refresh": "refresh",
    "card.refresh": "refresh",
    "errors.refresh": "refresh",
    "log.refresh": "refresh",
    "card.back": "back",
    "errors.back": "back",
    "log.back": "back",
    "log.undo": "undo_job",
}


def actions_of(place: str) -> list[ActionRow]:
    """The actions bound on ``place`` (a key of `PLACES`), in footer order."""
    if place not in PLACES:
        raise KeyError(f"no place {place!r} in the action table")
    return [row for row in ACTIONS if place in row.where]


def action_ids() -> frozenset[str]:
    """Every id the ``[keys]`` table may remap: the table's ids and the old per-screen ids."""
    return frozenset({row.id for row in ACTIONS} | set(OLD_IDS))


def current_keymap(keymap: Mapping[str, str]) -> dict[str, str]:
    """``keymap`` with old per-screen ids replaced by the shared id; the shared id wins over an
    old one naming the same action, and unknown ids pass through (they are warned about)."""
    result: dict[str, str] = {}
    for binding_id, keys in keymap.items():
        new_id = OLD_IDS.get(binding_id)
        if new_id is None:
            result[binding_id] = keys
        elif new_id not in keymap:
            result.setdefault(new_id, keys)
    return result


#: How README and the docs write Textual's key names.
_KEY_TEXT: Mapping[str, str] = {
    "question_mark": "?",
    "slash": "/",
    "left_square_bracket": "[",
    "right_square_bracket": "]",
    "plus": "+",
    "equals_sign": "=",
    "minus": "-",
    "escape": "esc",
}


def key_text(keys: str) -> str:
    """``"question_mark,f1"`` → ``"?, f1"``: the keys as README writes them."""
    return ", ".join(_KEY_TEXT.get(key.strip(), key.strip()) for key in keys.split(","))


def markdown_key_table() -> str:
    """README's key table: one row per action (keys, action, where, binding id), in table order.

    README holds this text between ``<!-- keys -->`` markers and a test checks that it is current;
    after changing `ACTIONS`, print it with ``python -m bc_tui.tui.actions`` and paste it there.
    """
    lines = ["| keys | action | where | binding id |", "|---|---|---|---|"]
    for row in ACTIONS:
        keys = " ".join(f"`{key}`" for key in key_text(row.keys).split(", "))
        where = ", ".join(PLACES[place] for place in row.where)
        lines.append(f"| {keys} | {row.description} | {where} | `{row.id}` |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown_key_table())
