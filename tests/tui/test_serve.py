"""`guapai tui --serve`: the same board in a browser through textual-serve, on 127.0.0.1 only.
The page is checked over HTTP everywhere; in a real browser (Playwright + Chromium) only where
/usr/bin/chromium is installed (CI installs no browser)."""
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.cli.world import uscc

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served(world, sqlite_url):
    port = free_port()
    env = dict(os.environ, GUAPAI_LANG="en")
    proc = subprocess.Popen([sys.executable, "main.py", "--db", sqlite_url, "--as", "reviewer", "tui", "--serve",
                             "--port", str(port)], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(url, timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            pytest.fail(f"textual-serve did not answer: {proc.stderr.read1().decode() if proc.poll() is not None else ''}")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_the_board_is_served_on_localhost_only(served):
    page = httpx.get(served, timeout=5)
    assert page.status_code == 200 and "guapai" in page.text
    assert served.startswith("http://127.0.0.1:")


def test_serve_command_reruns_this_board_with_the_same_store_and_user(monkeypatch):
    from cli import context
    from cli.tui.command import serve_command

    monkeypatch.setattr(context, "_options", context.GlobalOptions(db_url="sqlite:////tmp/x y.sqlite", user="zhao", lang="zh"))
    assert serve_command().endswith("-m main --db 'sqlite:////tmp/x y.sqlite' --as zhao --lang zh tui")


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"no browser at {CHROMIUM}")
def test_the_served_board_in_a_real_browser(served):
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM)
        page = browser.new_page()
        page.goto(served)
        page.wait_for_timeout(5000)  # the app starts in its own process behind the websocket
        title, text, shot = page.title(), page.inner_text("body"), page.screenshot()
        browser.close()
    # the terminal may draw on a canvas (no DOM text): then the page title and a drawn page must do
    assert "guapai" in title and len(shot) > 10_000
    assert uscc(1) in text or "杭州甲运输有限公司" in text or not text.strip()
