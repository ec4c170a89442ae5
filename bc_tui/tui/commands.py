"""The command palette's view of the app: every action that has a key, found by its name."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.markup import escape

from bc_tui.domain.text import printable
from bc_tui.tui.bindings import BindingEntry, binding_entries


class ActionsProvider(Provider):
    """Offers every action bound on the current screen (list, screen and app) by description."""

    def _entries(self) -> list[BindingEntry]:
        return binding_entries(self.screen, include_plumbing=False)

    def _command(self, entry: BindingEntry) -> Callable[[], Awaitable[bool]]:
        return partial(self.app.run_action, entry.action, entry.node)

    @staticmethod
    def _help(entry: BindingEntry) -> str:
        # The palette reads help (and a plain-string prompt) as markup; keys come from the
        # config's [keys] table, so they are escaped.
        return escape(printable(f"{entry.keys_text} · {entry.where}"))

    async def discover(self) -> Hits:
        """All actions, for the palette opened with nothing typed."""
        for entry in sorted(self._entries(), key=lambda entry: entry.description):
            yield DiscoveryHit(
                escape(printable(entry.description)),
                self._command(entry),
                help=self._help(entry),
                text=entry.description,
            )

    async def search(self, query: str) -> Hits:
        """Actions whose description fuzzily matches ``query``."""
        matcher = self.matcher(query)
        for entry in self._entries():
            score = matcher.match(entry.description)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(entry.description),
                    self._command(entry),
                    text=entry.description,
                    help=self._help(entry),
                )
