"""`guapai tui --serve`: the same board in a browser through textual-serve, on 127.0.0.1 only,
checked over HTTP (the `served` fixture is in conftest.py). In a real browser:
test_serve_browser.py."""
import httpx


def test_the_board_is_served_on_localhost_only(served):
    page = httpx.get(served, timeout=5)
    assert page.status_code == 200 and "guapai" in page.text
    assert served.startswith("http://127.0.0.1:")


def test_serve_command_reruns_this_board_with_the_same_store_and_user(monkeypatch):
    from cli import context
    from cli.tui.command import serve_command

    monkeypatch.setattr(context, "_options", context.GlobalOptions(db_url="sqlite:////tmp/x y.sqlite", user="zhao", lang="zh"))
    assert serve_command().endswith("-m main --db 'sqlite:////tmp/x y.sqlite' --as zhao --lang zh tui")
