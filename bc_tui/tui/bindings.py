"""What the keys do on a screen: the one list the help screen and the command palette share."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from textual.app import App
from textual.binding import ActiveBinding, Binding
from textual.dom import DOMNode
from textual.screen import Screen

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


def binding_entries(screen: Screen, *, include_plumbing: bool = True) -> list[BindingEntry]:
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
            description=_describe(
                active.binding.action, active.binding.description, active.tooltip
            ),
            action=active.binding.action,
            node=active.node,
            where=_where(active.node),
            binding_id=active.binding.id,
        )
        for active, keys in grouped.values()
    ]


@cache
def known_binding_ids() -> frozenset[str]:
    """Every binding id of the terminal app (``list.mark``, ``main.synchronize``, …): the names
    the config's ``[keys]`` table may remap.

    Screens and dialogs are imported when first used, so every module of the TUI is imported
    here first; then each widget, screen and app class's own ``BINDINGS`` are read.
    """
    import bc_tui.tui

    for module in pkgutil.walk_packages(bc_tui.tui.__path__, "bc_tui.tui."):
        importlib.import_module(module.name)
    ids: set[str] = set()
    classes: list[type[DOMNode]] = [DOMNode]
    while classes:
        cls = classes.pop()
        classes.extend(cls.__subclasses__())
        for binding in cls.__dict__.get("BINDINGS", ()):
            if isinstance(binding, Binding) and binding.id:
                ids.add(binding.id)
    return frozenset(ids)


def keymap_warnings(keymap: Mapping[str, str], config_path: Path | str | None) -> list[str]:
    """One warning per ``[keys]`` entry that names no binding id, with the closest valid id.

    The config module cannot check these names itself (it must not import Textual, and the CLI
    has no keys), so the app checks them when it starts.
    """
    from bc_tui.config_schema import unknown_name

    if not keymap:
        return []  # no need to import every screen and dialog
    known = known_binding_ids()
    return [
        unknown_name(binding_id, known, config_path or "your config", "[keys]",
                     noun="a binding id of the terminal app",
                     elsewhere="the help screen, ? or F1, shows the id of every key")
        for binding_id in keymap
        if binding_id not in known
    ]
