"""Textual's footer, rebuilt only when the keys it shows have changed.

Textual's ``Footer`` throws its keys away and mounts new ones on every "bindings changed"
signal, and the screens send that signal often (each tab switch, filter, busy flag, focus
change), several times in one frame. Each rebuild mounts a widget per key and restyles each
twice, which made the footer the largest single cost of using the app (about a third of the
CPU of the TUI tests). This footer shows exactly what Textual's does: it rebuilds at most once
per refresh, and not at all when the keys, their labels and whether they are enabled are what
it already shows.
"""

from __future__ import annotations

from typing import Any

from textual.screen import Screen
from textual.widgets import Footer as TextualFooter


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
