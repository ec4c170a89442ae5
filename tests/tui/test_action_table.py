"""The one action table: every binding of the app comes from it, an action has one key on every
screen, old per-screen binding ids in ``[keys]`` still work, and the help screen reads it."""

from __future__ import annotations

import importlib
import pkgutil
from collections import defaultdict

from textual.binding import Binding

from bc_tui.tui.actions import ACTIONS, OLD_IDS, PLACES, actions_of, current_keymap
from bc_tui.tui.bindings import keymap_warnings, known_binding_ids

SIZE = (120, 40)


def _declared_bindings() -> list[tuple[str, Binding]]:
    """(class name, binding) for every ``BINDINGS`` entry of every screen, dialog, widget and app."""
    from textual.dom import DOMNode

    import bc_tui.tui

    for module in pkgutil.walk_packages(bc_tui.tui.__path__, "bc_tui.tui."):
        importlib.import_module(module.name)
    found: list[tuple[str, Binding]] = []
    classes: list[type[DOMNode]] = [DOMNode]
    while classes:
        cls = classes.pop()
        classes.extend(cls.__subclasses__())
        if cls.__module__.startswith("bc_tui."):
            found += [(cls.__name__, b) for b in cls.__dict__.get("BINDINGS", ()) if isinstance(b, Binding)]
    return found


def test_every_binding_of_the_app_is_a_row_of_the_action_table() -> None:
    rows = {row.id: row for row in ACTIONS}
    declared = _declared_bindings()
    assert len(declared) >= len(ACTIONS)  # shared actions are declared once per place
    for owner, binding in declared:
        assert binding.id in rows, f"{owner} binds {binding.key!r} outside the action table"
        row = rows[binding.id]
        assert (binding.key, binding.action, binding.description) == (row.keys, row.action, row.description)
    assert {binding.id for _, binding in declared} == set(rows), "an action of the table is bound nowhere"


def test_an_action_has_the_same_keys_wherever_it_is_bound() -> None:
    keys_of: dict[str, set[str]] = defaultdict(set)
    for _, binding in _declared_bindings():
        keys_of[binding.action].add(binding.key)
    # The three actions whose keys used to differ between screens (d/x, L/l, r/f5).
    assert keys_of["delete_coupling"] == {"d"}
    assert keys_of["log"] == {"L"}
    assert keys_of["refresh"] == {"f5,ctrl+l"}
    for action in ("couple", "synchronize", "back", "toggle_mark", "mark_all"):
        assert len(keys_of[action]) == 1, f"{action} has different keys on different screens"


def test_no_two_actions_of_one_place_share_a_key() -> None:
    # The job dialog binds escape twice on purpose: "Cancel job" while it runs, "Close" after.
    allowed = {("job", "escape")}
    for place in PLACES:
        seen: dict[str, str] = {}
        for row in actions_of(place):
            for key in row.keys.split(","):
                if (place, key) not in allowed:
                    assert key not in seen, f"{key} is both {seen[key]} and {row.id} on {place}"
                seen[key] = row.id


def test_old_per_screen_ids_name_the_shared_action() -> None:
    assert current_keymap({"errors.delete_coupling": "x", "list.mark": "m"}) == {"delete_coupling": "x", "mark": "m"}
    # The shared id wins over an old id for the same action, whatever the order.
    assert current_keymap({"card.sync": "y", "synchronize": "z"}) == {"synchronize": "z"}
    assert current_keymap({"app.hlep": "h"}) == {"app.hlep": "h"}  # unknown: passed on, warned about
    assert set(OLD_IDS) <= known_binding_ids()
    assert keymap_warnings({"main.synchronize": "y", "errors.retry": "e"}, None) == []
    [warning] = keymap_warnings({"delete_couplng": "x"}, None)
    assert "delete_couplng" in warning and "delete_coupling" in warning


async def test_an_old_id_in_keys_remaps_the_action_on_every_screen(make_app) -> None:
    from bc_tui.tui.screens.errors import ErrorsScreen

    def keys_of(screen, binding_id: str) -> set[str]:
        return {key for key, active in screen.active_bindings.items() if active.binding.id == binding_id}

    app, _ = make_app(keymap={"main.delete_coupling": "x"})
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert keys_of(app.screen, "delete_coupling") == {"x"}
        await app.push_screen(ErrorsScreen())
        await pilot.pause()
        assert isinstance(app.screen, ErrorsScreen)
        assert keys_of(app.screen, "delete_coupling") == {"x"}


async def test_the_help_screen_shows_the_shared_ids(make_app) -> None:
    from textual.widgets import DataTable

    from bc_tui.tui.screens.help import HelpScreen

    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        table = app.screen.query_one(DataTable)
        rows = {table.get_row_at(i)[3]: table.get_row_at(i) for i in range(table.row_count)}
        assert list(rows["delete_coupling"][:2]) == ["d", "Delete coupling"]
        assert rows["refresh"][0].startswith("f5")
