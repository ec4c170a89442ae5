"""Where the TCSS files live: the one place that resolves the styles folder.

An installed wheel carries them as ``bc_tui/styles`` (hatch force-include); a source checkout has
them in the repository's top-level ``styles/``.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parents[1]


def styles_dir() -> Path:
    """The folder holding bc-tui's ``.tcss`` files (installed copy first, then the checkout's)."""
    installed = _PACKAGE_DIR / "styles"
    if installed.is_dir():
        return installed
    return _PACKAGE_DIR.parent / "styles"


def style_path(name: str) -> Path:
    """The path of one stylesheet, e.g. ``style_path("app.tcss")``."""
    return styles_dir() / name
