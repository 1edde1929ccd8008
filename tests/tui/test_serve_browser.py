"""`guapai tui --serve` once in a real browser: Debian's Chromium (/usr/bin/chromium), driven by
Playwright (no browser download), opens the served board, the board's companies appear on the
terminal it draws, Enter opens the first company's story.

textual-serve draws the app with xterm.js on a canvas (no text in the page), so the test reads
what xterm.js holds on its screen: the page's own script is served with one change, the terminal
it creates also kept as `window.__guapaiTerminal`. Everything else (the page, the websocket, the
app process behind it, xterm.js drawing) is as a person's browser has it. Requests for anything
but 127.0.0.1 (the page asks for a web font) are refused: the test never leaves the machine.

Skipped, saying why, where Chromium or the playwright package is not installed (CI installs no
browser): `apt-get install chromium` and `pip install playwright`."""
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.cli.world import uscc

CHROMIUM = "/usr/bin/chromium"
WAIT_MS = 90_000  # the app starts in its own process behind the websocket; the machine may be busy
# where textual-serve's client creates its xterm.js terminal; kept on window as well
TERMINAL_NEW = "this.terminal=new "
TERMINAL_KEPT = "this.terminal=window.__guapaiTerminal=new "

SCREEN_JS = """() => {
    const term = window.__guapaiTerminal;
    if (!term) return null;
    const buffer = term.buffer.active, lines = [];
    for (let i = 0; i < buffer.length; i++) {
        const line = buffer.getLine(i);
        lines.push(line ? line.translateToString(true) : "");
    }
    return lines.join("\\n");
}"""
SHOWS_JS = "(wanted) => { const text = (%s)(); return !!text && wanted.every((w) => text.includes(w)); }" % SCREEN_JS

pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)"),
]


@pytest.fixture
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


def serve_page(page, base: str) -> dict:
    """Route the page's requests: 127.0.0.1 only; the client script with its terminal kept."""
    seen = {"patched": False, "refused": []}
    host = urlsplit(base).netloc

    def handle(route):
        url = route.request.url
        if urlsplit(url).netloc != host:
            seen["refused"].append(url)
            return route.abort()
        if url.split("?")[0].endswith("/textual.js"):
            response = route.fetch()
            script = response.text()
            seen["patched"] = script.count(TERMINAL_NEW) == 1
            return route.fulfill(response=response, body=script.replace(TERMINAL_NEW, TERMINAL_KEPT))
        return route.continue_()

    page.route("**/*", handle)
    return seen


def screen(page) -> str:
    return page.evaluate(SCREEN_JS) or ""


def wait_for(page, *wanted: str) -> str:
    """Poll (in the page) until the terminal's screen shows every one of `wanted`; the screen."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function(SHOWS_JS, arg=list(wanted), timeout=WAIT_MS, polling=250)
    except PlaywrightTimeout:
        pytest.fail(f"the browser's terminal never showed {wanted}; it shows:\n{screen(page)}")
    return screen(page)


def test_the_served_board_in_chromium_opens_a_story(served, browser, tmp_path):
    from messages import t

    page = browser.new_page(viewport={"width": 1600, "height": 900})
    seen = serve_page(page, served)
    page.goto(served, wait_until="domcontentloaded")
    assert "guapai" in page.inner_text(".intro")  # the page's own welcome, before the app draws

    board = wait_for(page, "杭州乙客运有限公司", uscc(2), "杭州甲运输有限公司", uscc(1))
    assert seen["patched"], "textual-serve's client script changed: TERMINAL_NEW no longer matches it"
    assert t("tui.title", "en") in board  # the app's header, drawn by xterm.js in the page
    story_only = t("story.timeline", "en")
    assert story_only not in board
    page.screenshot(path=tmp_path / "board.png")

    page.evaluate("() => window.__guapaiTerminal.focus()")  # keys go to the terminal, as after a click
    page.keyboard.press("Enter")  # the cursor is on the first row: 杭州乙客运有限公司 (上城区 sorts first)
    story = wait_for(page, story_only, uscc(2))
    assert "杭州乙客运有限公司" in story and uscc(1) not in story  # that company's story, not the board
    page.screenshot(path=tmp_path / "story.png")
    assert all((tmp_path / f).stat().st_size > 10_000 for f in ("board.png", "story.png"))  # drawn, not blank

    page.keyboard.press("Escape")  # back to the board
    wait_for(page, uscc(1), uscc(2))
    assert all(not url.startswith(served) for url in seen["refused"])
