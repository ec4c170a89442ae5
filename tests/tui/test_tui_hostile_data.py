"""Record data is data (issue 7): names with Textual markup, terminal controls, bidi overrides and
10,000 characters, walked through the real app on the in-process sandbox.

What is asserted: nothing crashes, the ``@click`` name does not quit the app, the rendered text
is the literal name (control characters as visible stand-ins), and no raw control character is
on the screen (checked on the screenshot, which holds what the terminal would be sent).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from starlette.applications import Starlette
from textual.widgets import DataTable, Input, Static
from textual.widgets._toast import Toast

from bc_tui.domain.mappings import SyncDirection
from bc_tui.domain.text import printable
from bc_tui.store.coupling_queries import get_by_bc_id
from bc_tui.sync.create import create_in_dataverse
from bc_tui.sync.list_query import number_order
from bc_tui.sync.synchronize import synchronize_one
from bc_tui.tui.app import BcTuiApp
from bc_tui.tui.backend import Backend
from bc_tui.tui.dialogs.coupling import CouplingDialog
from bc_tui.tui.screens.card import CardScreen
from bc_tui.tui.shown import MESSAGE_LIMIT
from tests.sync.coupled_pairs import active_customer_ids, edit_account, edit_bc
from tests.tui.flow_host import press_and_settle, settle, type_text
from tests.tui.pilot_waits import job_done, screen_is, wait_for

pytestmark = pytest.mark.timeout(90)

SIZE = (120, 40)
MAPPING = "CUSTOMER"

WOODGROVE = "Woodgrove [/old]"  # crashed the app: a closing tag with no opening one
EVIL = "[@click=app.quit]Evil[/]"  # became a clickable "quit"
DO_NOT_USE = "[DO NOT USE] Contoso"  # lost "[DO NOT USE]" as an unknown tag
OSC_TITLE = "Osc \x1b]0;pwned\x07 Corp"  # sets the terminal window's title
CLEAR = "Clear \x1b[2J Screen"  # clears the terminal
C1_CSI = "Csi \x9b31m Corp"  # C1 control sequence introducer, one byte
BIDI = "Bidi \u202etxet desrever\u202c Corp"  # right-to-left override
LONG = "Long " + "W" * 10_000  # 10,000 characters
HOSTILE = (WOODGROVE, EVIL, DO_NOT_USE, OSC_TITLE, CLEAR, C1_CSI, BIDI, LONG)

# Controls a screen must never hold (newlines and tabs excepted: the SVG screenshot has them).
RAW = re.compile("[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def name_customers(sandbox_app: Starlette, names: tuple[str, ...]) -> list[str]:
    """Give the first customers of the list (sorted by No. as numbers: 10000, 20000, … 100000) that
    are inside the table filter these names, as a colleague in BC would; their ids, in order."""
    store = sandbox_app.state.store
    rows = sorted(
        (r for r in store.rows("bc/customers") if r.get("blocked") in (" ", "", None)),
        key=lambda r: number_order(r["number"]),
    )
    ids = [r["id"] for r in rows[: len(names)]]
    for bc_id, name in zip(ids, names, strict=True):
        edit_bc(sandbox_app, bc_id, displayName=name)
    return ids


def shown(widget: Static) -> str:
    """What a Static shows (its rendered text, markup applied if it had any)."""
    return str(widget.render())


def assert_clean_screen(app: Any) -> str:
    """The screenshot (what the terminal gets) has no raw control character; returns it."""
    svg = app.export_screenshot()
    assert not RAW.search(svg), repr(RAW.search(svg))
    return svg


def assert_clean_statics(app: Any) -> None:
    """No Static of the screen on top holds a raw control or an unshortened sentence."""
    for widget in app.screen.query(Static):
        for line in shown(widget).split("\n"):
            assert not RAW.search(line), (widget.id, line[:80])
            assert len(line) <= MESSAGE_LIMIT + 40, (widget.id, len(line))


def toasts(app: Any) -> list[str]:
    """The text of every notification on screen (title and message, as rendered)."""
    return [toast.render().plain for toast in app.screen.query(Toast)]


async def wait_settled(pilot: Any) -> None:
    await settle(pilot)
    await pilot.pause()


async def test_list_shows_hostile_names_literally(tui_app: BcTuiApp, sandbox_app: Starlette) -> None:
    name_customers(sandbox_app, HOSTILE)
    async with tui_app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_settled(pilot)
        customers = tui_app.main_screen.record_list("customers")
        assert customers is not None
        lines = "\n".join(customers.render_lines_text())
        assert not RAW.search(lines)
        # The Name column is about 20 cells wide: each name's start is there, literally (the
        # brackets are text, nothing is lost), with stand-ins for the controls.
        for name in (WOODGROVE, "[@click=app.quit]Ev", "[DO NOT USE] Contos"):
            assert name in lines
        assert "Osc ␛]0;pwned␇ Corp" in lines
        assert "Clear ␛[2J Screen" in lines
        assert "Csi \ufffd31m Corp" in lines
        assert "Bidi \ufffdtxet desre" in lines
        assert "Long WWWW" in lines  # cut by the column, the row is there
        assert_clean_screen(tui_app)


async def test_set_up_coupling_of_a_bracketed_name_does_not_crash(tui_app: BcTuiApp, sandbox_app: Starlette) -> None:
    """The reported crash: Set Up Coupling (Create New) of "Woodgrove [/old]" → notification."""
    [bc_id] = name_customers(sandbox_app, (WOODGROVE,))
    async with tui_app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_settled(pilot)
        customers = tui_app.main_screen.record_list("customers")
        assert customers is not None and customers.cursor_key == bc_id
        await press_and_settle(pilot, "c")
        dialog = tui_app.screen
        assert isinstance(dialog, CouplingDialog)
        assert WOODGROVE in shown(dialog.query_one("#coupling-bc-name", Static))
        await type_text(pilot, "Trey")
        await press_and_settle(pilot, "tab", "tab", "space")
        assert dialog.create_new
        await press_and_settle(pilot, "enter")
        await wait_for(pilot, lambda: screen_is(tui_app, "MainScreen") and bool(toasts(tui_app)))
        assert any(WOODGROVE in text for text in toasts(tui_app)), toasts(tui_app)
        assert_clean_screen(tui_app)
    coupling = get_by_bc_id(MAPPING, bc_id)
    assert coupling is not None
    assert any(r["name"] == WOODGROVE for r in sandbox_app.state.store.rows("dv/accounts"))


async def test_click_action_in_a_name_is_text_not_an_action(tui_app: BcTuiApp, sandbox_app: Starlette) -> None:
    """ "[@click=app.quit]Evil[/]" on the card and in the coupling notification; clicking it
    leaves the app running."""
    [bc_id] = name_customers(sandbox_app, (EVIL,))
    async with tui_app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_settled(pilot)
        await press_and_settle(pilot, "enter")  # the card of the cursor row
        await wait_for(pilot, lambda: screen_is(tui_app, "CardScreen"))
        await wait_settled(pilot)
        card = tui_app.screen
        assert isinstance(card, CardScreen)
        name = card.query_one("#card-bc-name", Static)
        assert EVIL in shown(name)
        await pilot.click(name)  # a click on a markup action would run app.quit
        await pilot.pause()
        assert tui_app.is_running and screen_is(tui_app, "CardScreen")
        # Couple it (Create New): the notification names the record.
        await press_and_settle(pilot, "c")
        await type_text(pilot, "Trey")
        await press_and_settle(pilot, "tab", "tab", "space", "enter")
        await wait_for(pilot, lambda: screen_is(tui_app, "CardScreen") and bool(toasts(tui_app)))
        assert any(EVIL in text for text in toasts(tui_app)), toasts(tui_app)
        await pilot.click(Toast)
        await pilot.pause()
        assert tui_app.is_running
        assert f"account {EVIL}" in shown(tui_app.screen.query_one("#card-dataverse-name", Static))
        assert_clean_statics(tui_app)
    assert get_by_bc_id(MAPPING, bc_id) is not None


async def test_card_shows_control_characters_as_stand_ins_and_long_values_whole(
    tui_app: BcTuiApp, sandbox_app: Starlette, tui_backend: Backend
) -> None:
    [bc_id] = name_customers(sandbox_app, (OSC_TITLE,))
    await create_in_dataverse(tui_backend.session, MAPPING, [bc_id], allow_duplicates=True)
    pair = get_by_bc_id(MAPPING, bc_id)
    assert pair is not None
    edit_account(sandbox_app, pair.dataverse_id, address1_line1=CLEAR + " " + "Z" * 200)
    async with tui_app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_settled(pilot)
        await press_and_settle(pilot, "enter")
        await wait_for(pilot, lambda: screen_is(tui_app, "CardScreen"))
        await wait_settled(pilot)
        card = tui_app.screen
        assert printable(OSC_TITLE) in shown(card.query_one("#card-bc-name", Static))
        table = card.query_one("#card-fields", DataTable)
        cells = [cell.plain for row in range(table.row_count) for cell in table.get_row_at(row)]
        assert printable(CLEAR + " " + "Z" * 200) in cells  # the whole value, printable
        assert_clean_statics(tui_app)
        assert_clean_screen(tui_app)


async def test_failed_synchronization_in_the_log_and_errors_screens(
    tui_app: BcTuiApp, sandbox_app: Starlette, tui_backend: Backend
) -> None:
    """A coupled customer renamed to 10,000 characters (with controls) fails twice (Dataverse
    allows 160): the job dialog, the log and the errors screen show it shortened and printable."""
    session = tui_backend.session
    [bc_id] = name_customers(sandbox_app, (BIDI,))
    await create_in_dataverse(session, MAPPING, [bc_id], allow_duplicates=True)
    huge = "\x1b[2J" + LONG
    edit_bc(sandbox_app, bc_id, displayName=huge)
    for _ in range(2):
        await synchronize_one(session, MAPPING, bc_id, SyncDirection.TO_DATAVERSE)
    pair = get_by_bc_id(MAPPING, bc_id)
    assert pair is not None and pair.skipped
    async with tui_app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_settled(pilot)
        await pilot.press("L")
        await wait_for(pilot, lambda: screen_is(tui_app, "LogScreen"))
        await press_and_settle(pilot, "enter")  # the newest job's errors
        log = tui_app.screen
        assert log.errors, "the failed synchronization logged an error"
        assert_clean_statics(tui_app)
        # The line under the tables: the name is cut, what Dataverse said is kept.
        message = shown(log.query_one("#log-message", Static))
        assert message.startswith(f"Dataverse rejected the request for customer {pair.bc_number} ␛[2JLong WWW")
        assert "characters)" in message and "160" in message, message
        errors_table = log.query_one("#log-errors", DataTable)
        cells = [cell.plain for cell in errors_table.get_row_at(0)]
        assert not any(RAW.search(cell) for cell in cells)
        # Source is a fixed-width column (the table cuts it); Message sizes itself: shortened.
        assert cells[1].startswith(f"customer {pair.bc_number} ␛[2JLong WWW")
        assert len(cells[3]) <= MESSAGE_LIMIT + 40
        assert_clean_screen(tui_app)
        await pilot.press("escape", "escape")
        await wait_for(pilot, lambda: screen_is(tui_app, "MainScreen"))
        await pilot.press("E")
        await wait_for(pilot, lambda: screen_is(tui_app, "ErrorsScreen") and tui_app.screen.loaded)
        errors = tui_app.screen
        assert [row.bc_id for row in errors.rows] == [pair.bc_id]
        table = errors.query_one("#errors-table", DataTable)
        description = table.get_row_at(0)[3].plain
        assert description.startswith(f"customer {pair.bc_number} ␛[2JLong WWW")
        assert_clean_statics(tui_app)
        assert_clean_screen(tui_app)
        # Synchronize from the errors screen (send): the job dialog names the failure.
        await pilot.press("s")
        await wait_for(pilot, lambda: screen_is(tui_app, "DirectionDialog"))
        await pilot.press("1")
        await wait_for(pilot, lambda: job_done(tui_app), seconds=20)
        assert_clean_statics(tui_app)
        assert_clean_screen(tui_app)
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen_is(tui_app, "ErrorsScreen"))
        assert tui_app.is_running


async def test_filter_by_bracketed_and_control_text(tui_app: BcTuiApp, sandbox_app: Starlette) -> None:
    name_customers(sandbox_app, (DO_NOT_USE, WOODGROVE))
    async with tui_app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_settled(pilot)
        await pilot.press("slash")
        await pilot.press(*"[DO NOT")
        await press_and_settle(pilot, "enter")
        customers = tui_app.main_screen.record_list("customers")
        assert customers is not None
        assert [customers.row_at(i).cells["name"] for i in range(customers.row_count)] == [DO_NOT_USE]
        status = shown(tui_app.main_screen.query_one("#status-message", Static))
        assert 'filter "[DO NOT"' in status
        # A paste can put control characters into the filter line: shown as stand-ins.
        await pilot.press("slash")
        line = tui_app.main_screen.query_one("#filter-input", Input)
        line.value = "\x1b[2J[/old]"
        await press_and_settle(pilot, "enter")
        status = shown(tui_app.main_screen.query_one("#status-message", Static))
        assert 'filter "␛[2J[/old]"' in status
        assert customers.row_count == 0
        assert_clean_screen(tui_app)


async def test_match_based_coupling_of_hostile_names(tui_app: BcTuiApp, sandbox_app: Starlette) -> None:
    """Match-based coupling over accounts with the same hostile names: the dialog, the job and
    its summary run through without a crash, and nothing raw reaches the screen."""
    store = sandbox_app.state.store
    accounts = {row["name"]: row["accountid"] for row in store.rows("dv/accounts")}
    pairs = [
        (bc_id, accounts[store.get("bc/customers", bc_id)["displayName"]])
        for bc_id in active_customer_ids(sandbox_app, 20)
        if store.get("bc/customers", bc_id)["displayName"] in accounts
    ][:3]
    ids = [bc_id for bc_id, _ in pairs]
    for (bc_id, account_id), name in zip(pairs, (EVIL, OSC_TITLE, C1_CSI), strict=True):
        edit_bc(sandbox_app, bc_id, displayName=name)
        edit_account(sandbox_app, account_id, name=name)
    async with tui_app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_settled(pilot)
        await press_and_settle(pilot, "m")
        await wait_for(pilot, lambda: screen_is(tui_app, "MatchDialog"))
        assert_clean_statics(tui_app)
        await pilot.press("enter")
        await wait_for(pilot, lambda: job_done(tui_app), seconds=30)
        assert_clean_statics(tui_app)
        assert_clean_screen(tui_app)
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen_is(tui_app, "MainScreen"))
        await wait_settled(pilot)
        assert tui_app.is_running
        assert_clean_screen(tui_app)
    coupled = {bc_id for bc_id in ids if get_by_bc_id(MAPPING, bc_id) is not None}
    assert coupled == set(ids)


async def test_create_counterparts_and_synchronize_hostile_names(tui_app: BcTuiApp, sandbox_app: Starlette) -> None:
    """Create the accounts of three hostile customers from the list (n), then synchronize one
    after a 10,000-character rename (s): the confirmation, the job dialog and the direction
    dialog show the names printable and short."""
    ids = name_customers(sandbox_app, (OSC_TITLE, EVIL, C1_CSI))
    async with tui_app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_settled(pilot)
        await press_and_settle(pilot, "space", "space", "space")
        await pilot.press("n")
        await wait_for(pilot, lambda: screen_is(tui_app, "ConfirmDialog"))
        await pilot.press("y")
        await wait_for(pilot, lambda: job_done(tui_app), seconds=30)
        assert_clean_statics(tui_app)
        assert_clean_screen(tui_app)
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen_is(tui_app, "MainScreen"))
        await wait_settled(pilot)
        accounts = {row["name"] for row in sandbox_app.state.store.rows("dv/accounts")}
        assert {OSC_TITLE, EVIL, C1_CSI} <= accounts  # the exact names, created as data
        assert all(get_by_bc_id(MAPPING, bc_id) is not None for bc_id in ids)

        edit_bc(sandbox_app, ids[0], displayName="\x1b]0;pwned\x07" + LONG)
        await press_and_settle(pilot, "f5", "home")
        await pilot.press("s")
        await wait_for(pilot, lambda: screen_is(tui_app, "DirectionDialog"))
        assert_clean_statics(tui_app)
        question = shown(tui_app.screen.query_one("#direction-question", Static))
        assert "␛]0;pwned␇Long WWW" in question and "characters)" in question
        assert_clean_screen(tui_app)
        await pilot.press("1")
        await wait_for(pilot, lambda: job_done(tui_app), seconds=30)
        summary = shown(tui_app.screen.query_one("#job-summary", Static))
        assert "Failed 1" in summary  # Dataverse takes 160 characters; the summary says so, short
        assert_clean_statics(tui_app)
        assert_clean_screen(tui_app)
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen_is(tui_app, "MainScreen"))
        assert tui_app.is_running
