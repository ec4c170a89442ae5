"""What the keys do on a screen: the bindings made from the action table (``tui/actions.py``),
and the one list of active keys the help screen and the command palette share."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textual.app import App
from textual.binding import ActiveBinding, Binding, BindingType
from textual.dom import DOMNode
from textual.screen import Screen

from bc_tui.tui.actions import action_ids, actions_of

# Bindings that are plumbing rather than user actions (the palette key itself, ctrl+c's hint).
_NOT_COMMANDS = {"command_palette", "app.command_palette", "help_quit"}


@dataclass(frozen=True, slots=True)
class BindingEntry:
    """One action reachable by keys: the keys (as displayed), what it does, where it lives."""

    keys: tuple[str, ...]
    description: str
    action: str
    node: DOMNode
    where: str
    binding_id: str | None

    @property
    def keys_text(self) -> str:
        """The keys joined for display, e.g. ``"↑ k"``."""
        return " ".join(self.keys)


def _where(node: DOMNode) -> str:
    if isinstance(node, App):
        return "everywhere"
    if isinstance(node, Screen):
        return "this screen"
    return type(node).__name__


def _describe(action: str, description: str, tooltip: str) -> str:
    if description:
        return description
    if tooltip:
        return tooltip
    return action.rsplit(".", 1)[-1].replace("_", " ").capitalize()


def binding_entries(screen: Screen[Any], *, include_plumbing: bool = True) -> list[BindingEntry]:
    """Every binding active on ``screen`` (focused widget, its containers, the screen, the app),
    one entry per action with all its keys, after the user's keymap is applied."""
    app = screen.app
    # One entry per (node, action): "up" and "k" both move the cursor, so they share a line.
    grouped: dict[tuple[int, str], tuple[ActiveBinding, list[str]]] = {}
    for key, active in screen.active_bindings.items():
        binding = active.binding
        if not include_plumbing and binding.action in _NOT_COMMANDS:
            continue
        _, keys = grouped.setdefault((id(active.node), binding.action), (active, []))
        keys.append(app.get_key_display(binding) if binding.key == key else key)
    return [
        BindingEntry(
            keys=tuple(keys),
            description=_describe(active.binding.action, active.binding.description, active.tooltip),
            action=active.binding.action,
            node=active.node,
            where=_where(active.node),
            binding_id=active.binding.id,
        )
        for active, keys in grouped.values()
    ]


def bindings_for(place: str) -> list[BindingType]:
    """The key bindings of ``place`` (a screen, dialog or widget named in `actions.PLACES`),
    made from the central action table, so every place binds an action to the same keys."""
    return [
        Binding(row.keys, row.action, row.description, show=row.shown_on(place), priority=row.priority, id=row.id)
        for row in actions_of(place)
    ]


def known_binding_ids() -> frozenset[str]:
    """Every binding id of the terminal app (``mark``, ``delete_coupling``, ``errors.retry``, …)
    and the per-screen ids of earlier versions: the names the config's ``[keys]`` table may remap."""
    return action_ids()


def keymap_warnings(keymap: Mapping[str, str], config_path: Path | str | None) -> list[str]:
    """One warning per ``[keys]`` entry that names no binding id, with the closest valid id.

    The config module cannot check these names itself (it must not import Textual, and the CLI
    has no keys), so the app checks them when it starts.
    """
    from bc_tui.config_schema import unknown_name

    known = known_binding_ids()
    return [
        unknown_name(
            binding_id,
            known,
            config_path or "your config",
            "[keys]",
            noun="a binding id of the terminal app",
            elsewhere="the help screen, ? or F1, shows the id of every key",
        )
        for binding_id in keymap
        if binding_id not in known
    ]
