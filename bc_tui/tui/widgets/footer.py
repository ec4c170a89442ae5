"""Textual's footer, rebuilt only when the keys it shows have changed.

Textual's ``Footer`` throws its keys away and mounts new ones on every "bindings changed"
signal, and the screens send that signal often (each tab switch, filter, busy flag, focus
change), several times in one frame. Each rebuild mounts a widget per key and restyles each
twice, which made the footer the largest single cost of using the app (about a third of the
CPU of the TUI tests). This footer shows exactly what Textual's does: it rebuilds at most once
per refresh, and not at all when the keys, their labels and whether they are enabled are what
it already shows.

It also spares each rebuild two restyles per key: Textual's keys start compact (their own default)
and are then bound to the footer's ``compact``, so each new key first gains the ``-compact`` class
and then loses it again, and each class change restyles the key. Here each key starts with the
footer's value, so that binding changes nothing.
"""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer as TextualFooter
from textual.widgets._footer import FooterKey


class Footer(TextualFooter):
    """A drop-in ``textual.widgets.Footer`` that skips rebuilds that would change nothing."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._rebuild_pending = False
        self._shown: tuple[Any, ...] | None = None

    def bindings_changed(self, screen: Screen[Any]) -> None:
        """Rebuild once after the next refresh (Textual's footer rebuilds for every call)."""
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen and not self._rebuild_pending:
            self._rebuild_pending = True
            self.call_after_refresh(self._rebuild_if_changed)

    def compose(self) -> ComposeResult:
        """Textual's keys, each starting with the ``compact`` the footer binds it to."""
        for widget in super().compose():
            # Only the keys bound to the footer's compact (not the command palette's key, which
            # keeps its own default) start from the footer's value, set without a watcher.
            if isinstance(widget, FooterKey) and "compact" in (widget._reactive_connect or {}):
                widget.set_reactive(FooterKey.compact, self.compact)
                widget.set_class(self.compact, "-compact", update=False)
            yield widget

    def _keys_to_show(self) -> tuple[Any, ...]:
        """Everything ``compose`` reads from the screen: each binding, enabled, tooltip, key label."""
        return tuple(
            (binding, enabled, tooltip, self.app.get_key_display(binding))
            for _, binding, enabled, tooltip in self.screen.active_bindings.values()
        )

    async def _rebuild_if_changed(self) -> None:
        self._rebuild_pending = False
        if not self.is_attached:
            return
        keys = self._keys_to_show()
        if keys == self._shown:
            return
        self._shown = keys
        await self.recompose()
