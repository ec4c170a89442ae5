"""WCAG AA contrast (4.5:1) of every text colour the app sets, in the light and the dark theme
(docs/showing-data.md "Colours that read").

The pairs come from the app itself: each rule of the stylesheets (styles/*.tcss and the
``DEFAULT_CSS`` of bc-tui's widgets) that sets a text colour, on the background the rule sets, or
its enclosing rule sets, or else on each of the theme's base backgrounds; the card's state
colours; and the theme variables Textual's own widgets draw text with on bc-tui's screens. The
colours are the theme's values as the running app resolves them, with ``auto`` and translucent
colours blended over their background as Textual draws them.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from collections.abc import Iterator

import pytest
from textual.color import Color

import bc_tui.tui
from bc_tui.tui.app import DARK_THEME, LIGHT_THEME, BcTuiApp
from bc_tui.tui.paths import styles_dir
from bc_tui.tui.screens.card import _STATE_COLOURS

AA = 4.5
#: Where text without a background of its own may sit: the screen, a panel of a dialog or list, a bar.
BASE_BACKGROUNDS = ("background", "surface", "panel")
#: Text colour properties of a rule.
TEXT_PROPERTIES = ("color", "border-title-color", "border-subtitle-color")
#: Text Textual's widgets draw with theme variables on bc-tui's screens: (text, background).
WIDGET_PAIRS = (
    ("footer-key-foreground", "footer-key-background"),  # the footer's keys
    ("footer-description-foreground", "footer-description-background"),  # and what they do
    ("footer-foreground", "footer-background"),
    ("block-cursor-foreground", "block-cursor-background"),  # the cursor row of a focused table or list
    ("block-cursor-blurred-foreground", "block-cursor-blurred-background"),  # of a table without focus
    ("foreground", "background"),
    ("foreground", "surface"),
    ("foreground", "panel"),
)


def _theme_variables() -> dict[str, dict[str, str]]:
    """Each theme's CSS variables, as the app resolves them."""
    app = BcTuiApp()
    found = {}
    for theme in (DARK_THEME, LIGHT_THEME):
        app.theme = theme
        found[theme] = dict(app.get_css_variables())
    return found


VARIABLES = _theme_variables()


def luminance(color: Color) -> float:
    """WCAG relative luminance of an opaque colour."""

    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(color.r) + 0.7152 * channel(color.g) + 0.0722 * channel(color.b)


def contrast(text: Color, background: Color) -> float:
    """WCAG contrast ratio of two opaque colours (1 … 21)."""
    high, low = sorted((luminance(text), luminance(background)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def resolve(value: str, variables: dict[str, str], under: Color) -> Color:
    """A CSS colour value (``$name``, ``#rrggbb[aa]``, ``auto 60%``) as Textual paints it over ``under``."""
    value = value.strip()
    seen = 0
    while value.startswith("$"):
        value = variables[value[1:]].strip()
        seen += 1
        assert seen < 10, value
    if value.startswith("auto"):
        percent = value.removeprefix("auto").strip().rstrip("%")
        alpha = float(percent) / 100 if percent else 0.95
        return under + under.get_contrast_text(alpha)
    return under + Color.parse(value)


def _blocks(css: str) -> Iterator[tuple[str, dict[str, str], list[dict[str, str]]]]:
    """Each rule block of ``css``: its selector, its declarations and those of its enclosing blocks."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.DOTALL)
    stack: list[tuple[str, dict[str, str]]] = []
    text = ""
    for char in css:
        if char == "{":
            stack.append((text.strip().split(";")[-1].strip(), {}))
            text = ""
        elif char == "}":
            _declare(text, stack[-1][1])
            selector, own = stack.pop()
            yield selector, own, [d for _, d in stack]
            text = ""
        elif char == ";" and stack:
            _declare(text, stack[-1][1])
            text = ""
        else:
            text += char


def _declare(text: str, into: dict[str, str]) -> None:
    name, colon, value = text.partition(":")
    if colon and name.strip() and "{" not in value:
        into[name.strip()] = value.strip()


def _stylesheets() -> Iterator[tuple[str, str]]:
    for path in sorted(styles_dir().glob("*.tcss")):
        yield path.name, path.read_text(encoding="utf-8")
    for module in pkgutil.walk_packages(bc_tui.tui.__path__, "bc_tui.tui."):
        loaded = importlib.import_module(module.name)
        for name, value in vars(loaded).items():
            if inspect.isclass(value) and value.__module__ == loaded.__name__ and "DEFAULT_CSS" in vars(value):
                yield f"{module.name}.{name}", value.DEFAULT_CSS


def colour_pairs() -> list[tuple[str, str, str]]:
    """(where, text colour, background colour) of every text colour the app sets."""
    pairs = []
    for source, css in _stylesheets():
        for selector, own, outer in _blocks(css):
            background = next((d["background"] for d in [own, *reversed(outer)] if "background" in d), None)
            backgrounds = [background] if background else [f"${name}" for name in BASE_BACKGROUNDS]
            for prop in TEXT_PROPERTIES:
                if prop in own and own[prop].split()[0].startswith(("$", "#", "auto")):
                    for under in backgrounds:
                        pairs.append((f"{source} {selector} {prop}", own[prop].split(" ")[0], under))
    for state, (text, background) in _STATE_COLOURS.items():
        pairs.append((f"card state {state.name}", f"${text}", f"${background}"))
    for text, background in WIDGET_PAIRS:
        pairs.append(("Textual widget", f"${text}", f"${background}"))
    return pairs


def test_the_stylesheets_give_pairs_to_check() -> None:
    pairs = colour_pairs()
    sources = {where.split(" ")[0] for where, _, _ in pairs}
    assert {"dialogs.tcss", "jobs.tcss", "card.tcss", "app.tcss"} <= sources
    assert any(where.startswith("card state") for where, _, _ in pairs)


@pytest.mark.parametrize("theme", [DARK_THEME, LIGHT_THEME])
def test_every_text_colour_meets_wcag_aa(theme: str) -> None:
    variables = VARIABLES[theme]
    base = Color.parse(variables["background"])
    failing = []
    for where, text, background in colour_pairs():
        under = resolve(background, variables, base)
        ratio = contrast(resolve(text, variables, under), under)
        if ratio < AA:
            failing.append(f"{where}: {text} on {background} is {ratio:.2f}:1")
    assert failing == [], "\n".join(sorted(set(failing)))


def test_the_contrast_formula_is_wcags() -> None:
    assert contrast(Color(0, 0, 0), Color(255, 255, 255)) == pytest.approx(21)
    assert contrast(Color(118, 118, 118), Color(255, 255, 255)) == pytest.approx(4.54, abs=0.01)
    assert contrast(Color(0, 120, 212), Color(0, 120, 212)) == pytest.approx(1)
