"""Screen snapshots (SVG) of the main screen and the help screen at 120x40.

Update deliberately after checking the screen reads well:
``.venv/bin/python -m pytest tests/tui/test_tui_snapshots.py --snapshot-update``.
The SVGs live in ``tests/tui/snapshots/test_tui_snapshots/``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import pytest_textual_snapshot

SIZE = (120, 40)
SNAPSHOT_DIR = Path(__file__).parent / "snapshots"


class _SnapshotsDirExtension(pytest_textual_snapshot.SVGImageExtension):
    """Store the SVGs in tests/tui/snapshots/<module>/ rather than in __snapshots__/<module>/."""

    @classmethod
    def dirname(cls, *, test_location) -> str:
        return str(SNAPSHOT_DIR / test_location.basename)


@pytest.fixture(autouse=True)
def _snapshots_in_our_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    # snap_compare looks the extension class up on its module at call time.
    monkeypatch.setattr(pytest_textual_snapshot, "SVGImageExtension", _SnapshotsDirExtension)


async def _loaded(pilot) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def _loaded_with_marks(pilot) -> None:
    await _loaded(pilot)
    await pilot.press("down", "space", "space", "down", "space")
    pilot.app.show_message("Press enter to open a record, space to mark it.")
    await pilot.pause()


def test_main_screen_dark(snap_compare, make_app) -> None:
    app, _ = make_app()
    assert snap_compare(app, terminal_size=SIZE, run_before=_loaded_with_marks)


def test_main_screen_light(snap_compare, make_app) -> None:
    app, _ = make_app(theme="textual-light")
    assert snap_compare(app, terminal_size=SIZE, run_before=_loaded_with_marks)


def test_help_screen(snap_compare, make_app) -> None:
    app, _ = make_app()

    async def open_help(pilot) -> None:
        await _loaded(pilot)
        await pilot.press("question_mark")
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=open_help)


def test_main_screen_on_sandbox_data(snap_compare, sandbox_app, sandbox_info, tui_database_url) -> None:
    """The real app on the in-process sandbox: connection in the header, the first customers."""
    from bc_tui.config import profile_from_sandbox_info
    from bc_tui.sandbox.inprocess import asgi_transport
    from bc_tui.tui.app import BcTuiApp
    from bc_tui.tui.backend import Backend

    backend = Backend(profile_from_sandbox_info(sandbox_info), tui_database_url, transport=asgi_transport(sandbox_app))
    app = BcTuiApp(backend=backend, close_backend=True)

    async def connected(pilot) -> None:
        from bc_tui.store.coupling_writes import couple

        for _ in range(3):
            await _loaded(pilot)
        # Couple the first customer by name, so the coupling columns show something.
        store = sandbox_app.state.store
        customer = min(store.rows("bc/customers"), key=lambda r: r["number"])
        account = next(r for r in store.rows("dv/accounts") if r["name"] == customer["displayName"])
        couple("CUSTOMER", customer["id"], account["accountid"], bc_number=customer["number"])
        await pilot.press("f5")  # refresh
        await _loaded(pilot)
        await pilot.press("down", "space")
        await _loaded(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=connected)


def test_full_values_popup(snap_compare, make_app) -> None:
    """``i`` on the cursor row: each of its values in full, under its column's title."""
    app, _ = make_app()

    async def open_values(pilot) -> None:
        await _loaded(pilot)
        await pilot.press("down", "down", "i")
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=open_values)
