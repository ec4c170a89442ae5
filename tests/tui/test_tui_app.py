"""The app shell: header label, tabs, status line, help, command palette, keymap, themes."""

from __future__ import annotations

from textual.command import CommandPalette
from textual.widgets import DataTable, Header, TabbedContent

from bc_tui.tui.paths import style_path, styles_dir
from bc_tui.tui.screens.help import HelpScreen
from bc_tui.tui.widgets.record_list import RecordList

SIZE = (120, 40)


async def settle(pilot) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def test_styles_resolve_to_an_existing_folder() -> None:
    assert styles_dir().is_dir()
    assert style_path("app.tcss").is_file()


async def test_header_shows_connection_label_and_tabs_hold_the_given_sources(make_app) -> None:
    app, sources = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.sub_title.startswith("Sandbox (demo data)")
        app.connection_label = "Contoso · disconnected"
        await pilot.pause()
        assert app.sub_title == "Contoso · disconnected"
        assert app.screen.query_one(Header) is not None
        assert app.main_screen.tab_ids == list(sources)
        for tab_id, source in sources.items():
            assert app.main_screen.record_list(tab_id).source is source
        assert isinstance(app.focused, RecordList) and app.focused.id == "customers-list"


async def test_status_line_follows_the_active_tab_and_shows_messages(make_app) -> None:
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("space", "space")
        status = app.main_screen.status
        assert status.marked_count == 2
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert app.screen.query_one(TabbedContent).active == "contacts"
        assert app.focused.id == "contacts-list"
        assert status.marked_count == 0
        await pilot.press("left_square_bracket")
        await pilot.pause()
        assert status.marked_count == 2
        app.show_message("Synchronized 2 of 2 records.")
        await pilot.pause()
        assert "Synchronized 2 of 2" in str(app.screen.query_one("#status-message").render())


async def test_help_lists_every_binding_with_its_description(make_app) -> None:
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        table = app.screen.query_one(DataTable)
        rows = [table.get_row_at(i) for i in range(table.row_count)]
        descriptions = {row[1] for row in rows}
        ids = {row[3] for row in rows}
        for binding_id in (
            "mark",
            "mark_all",
            "list.range_mark",
            "list.clear_marks",
            "list.open",
            "list.last",
            "app.quit",
            "app.help",
            "app.toggle_theme",
            "main.next_tab",
        ):
            assert binding_id in ids
        assert {"Mark", "Mark all", "Open", "Quit", "Help"} <= descriptions
        keys_of_last = next(row[0] for row in rows if row[3] == "list.last")
        assert "G" in keys_of_last.split()
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)


async def test_command_palette_finds_and_runs_an_action(make_app) -> None:
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"mark all")
        await settle(pilot)
        await pilot.pause(0.2)
        options = app.screen.query_one("CommandList")
        prompts = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        assert any("Mark all" in prompt for prompt in prompts)
        await pilot.press("enter")
        await settle(pilot)
        assert app.main_screen.record_list("customers").marked_count == 100_000


async def test_a_remapped_key_works_and_the_old_key_does_not(make_app) -> None:
    app, _ = make_app(keymap={"list.mark": "m", "app.toggle_theme": "f6"})
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        record_list = app.main_screen.record_list("customers")
        await pilot.press("space")
        assert record_list.marked_count == 0
        await pilot.press("m")
        assert record_list.marked_count == 1
        theme = app.theme
        await pilot.press("f6")
        assert app.theme != theme


async def test_t_toggles_light_and_dark_themes(make_app) -> None:
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.theme == "textual-dark"
        await pilot.press("t")
        assert app.theme == "textual-light"
        await pilot.press("t")
        assert app.theme == "textual-dark"


async def test_ctrl_q_quits(make_app) -> None:
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert not app.is_running


async def test_refreshing_fetches_only_the_list_in_view_until_another_tab_is_shown(make_app) -> None:
    app, sources = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for source in sources.values():
            source.page_calls.clear()
        app.refresh_lists()  # e.g. after connecting, or after a synchronization
        await settle(pilot)
        assert sources["customers"].page_calls == [(0, 100)]
        assert sources["contacts"].page_calls == [] and sources["dataverse-accounts"].page_calls == []
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert sources["contacts"].page_calls == [(0, 100)]
        assert app.main_screen.record_list("contacts").row_at(0) is not None
