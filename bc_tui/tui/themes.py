"""The light and the dark theme, with text that reads: WCAG AA, 4.5:1 (docs/showing-data.md
"Colours that read").

bc-tui uses Textual's ``textual-dark`` and ``textual-light`` themes, but a few of their text
colours fall short of 4.5:1 on the backgrounds they are drawn on. Those variables are replaced
here, by the same hue made darker (light theme) or brighter (dark theme), and both the app and
the test host apply them. ``tests/tui/test_contrast.py`` measures every text colour of the
stylesheets against the theme's values with these in place.
"""

from __future__ import annotations

from collections.abc import Mapping

DARK_THEME = "textual-dark"
LIGHT_THEME = "textual-light"

READABLE: Mapping[str, Mapping[str, str]] = {
    DARK_THEME: {
        # The cursor row of a focused table or list: Textual's 87% white over its blue is 3.8:1.
        "block-cursor-foreground": "#FFFFFF",
    },
    LIGHT_THEME: {
        # The footer's keys: Textual's #0178D4 on the light panel is 3.4:1.
        "footer-key-foreground": "#004578",
        # The card's "changed in Dataverse" / "changed on both sides" marks and a job's summary:
        # green and amber text on their muted backgrounds were 3.2:1 and 2.9:1.
        "text-success": "#0F5A2B",
        "text-warning": "#7A4700",
    },
}
"""Theme name → the variables bc-tui replaces in it."""


def readable(theme: str, variables: Mapping[str, str]) -> dict[str, str]:
    """``variables`` of ``theme`` with bc-tui's readable replacements (other themes unchanged)."""
    return {**variables, **READABLE.get(theme, {})}
