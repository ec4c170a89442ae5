"""``bc-tui web`` in a real browser: Debian's Chromium, headless, driven by Playwright.

The page's terminal is xterm.js drawing on a canvas, so the text is read from the terminal
object's buffer (what xterm.js draws), caught as textual-serve's page creates it. No browser is
downloaded: the test uses /usr/bin/chromium, which .ci/run installs when it is missing.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, Route, sync_playwright
from web_process import descendants, served

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

#: textual-serve's page keeps its xterm.js Terminal in a property named ``terminal`` of its own
#: object; a setter on Object.prototype sees that assignment and keeps the terminal for the test.
CATCH_TERMINAL = """
Object.defineProperty(Object.prototype, "terminal", {
  configurable: true,
  get() { return undefined; },
  set(value) {
    Object.defineProperty(this, "terminal", {value, writable: true, configurable: true, enumerable: true});
    (window.bcTuiTerminals = window.bcTuiTerminals || []).push(value);
  },
});
"""

#: The terminal's screen as text, one line per row (null before the page made its terminal).
SCREEN_TEXT = """() => {
  const terminal = (window.bcTuiTerminals || [])[0];
  if (!terminal) return null;
  const rows = [];
  for (let row = 0; row < terminal.rows; row++) {
    const line = terminal.buffer.active.getLine(row);
    rows.push(line ? line.translateToString(true) : "");
  }
  return rows.join("\\n");
}"""

#: How long the app may take to start in the page (a bc-tui process, its sandbox, the first
#: list page) on a loaded machine. A wait, not a measure: the test goes on as soon as it shows.
START_WAIT_S = 120


def screen_showing(page: Page, shown: Callable[[str], bool], what: str) -> str:
    """The terminal's text once ``shown(text)`` holds; fails naming ``what`` and the last screen."""
    text = ""
    deadline = time.monotonic() + START_WAIT_S
    while time.monotonic() < deadline:
        text = page.evaluate(SCREEN_TEXT) or ""
        if shown(text):
            return text
        page.wait_for_timeout(250)
    raise AssertionError(f"the browser never showed {what}; its terminal showed:\n{text}")


@pytest.fixture
def chromium_page() -> Iterator[Page]:
    """A page of headless Chromium that reaches loopback only (no font or other site fetched)."""
    if shutil.which(CHROMIUM) is None:
        pytest.fail(
            f"Chromium is not installed ({CHROMIUM}); install Debian's package with "
            "'apt-get install -y chromium' (.ci/run does so when it is missing).",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})

            def loopback_only(route: Route) -> None:
                if route.request.url.startswith("http://127.0.0.1:"):
                    route.continue_()
                else:
                    route.abort()

            page.route("**/*", loopback_only)
            page.add_init_script(CATCH_TERMINAL)
            yield page
        finally:
            browser.close()


def test_the_customer_list_renders_in_a_browser_and_keys_work(chromium_page: Page, tmp_path: Path) -> None:
    with served(tmp_path) as web:
        chromium_page.goto(web.url, wait_until="domcontentloaded")
        screen = screen_showing(
            chromium_page, lambda text: "Adatum Corporation" in text, "the customer list of the sandbox"
        )
        assert "Sandbox (demo data)" in screen
        assert " Customers " in screen
        assert "10000      Adatum Corporation     Denver" in screen
        # A key typed in the page reaches the app: ? opens the help screen.
        chromium_page.locator(".xterm-helper-textarea").focus()
        chromium_page.keyboard.press("?")
        help_screen = screen_showing(chromium_page, lambda text: "esc closes" in text, "the help screen after ?")
        assert "keys can be remapped in the [keys] table" in help_screen
        assert "Binding id" in help_screen
        chromium_page.keyboard.press("Escape")
        screen_showing(chromium_page, lambda text: "esc closes" not in text, "the list again after Escape")
        apps = descendants(web.process.pid)
        assert apps, "the page's app runs as a process of bc-tui web"
    # Stopped while the page is still open: the app it started ends with it.
    assert web.code == 0, web.err
    assert [pid for pid in apps if Path(f"/proc/{pid}").exists()] == []
