"""`guapai tui`: the interactive board in the terminal, or (`--serve`) in a browser on 127.0.0.1
through textual-serve, for people without a terminal."""
from __future__ import annotations

import typer

from cli import context, output


def tui(
    serve: bool = typer.Option(False, "--serve", help="Serve the board to a browser (textual-serve) on 127.0.0.1."),
    port: int = typer.Option(8000, "--port", help="Port for --serve."),
) -> None:
    """The interactive board: search, filter, Enter for a company's story; keys record an inspection,
    open or verify a problem, confirm a finding, decide a review — with the CLI's permissions and audit.
    Press ? for the keys."""
    if serve:
        server = make_server(port)
        output.message(output.tr("msg.tui_serving", url=f"http://127.0.0.1:{port}"))
        server.serve()
        return
    from cli.tui.actions import Desk
    from cli.tui.app import BoardApp

    with context.session(readonly=True) as session:
        context.actor(session)  # who is acting: a clear error now rather than inside the board
    settings = context.options()
    BoardApp(Desk(context.open_store(), settings.user, context.now, settings.lang)).run()


def serve_command() -> str:
    """The command textual-serve runs for each browser: this same board, same store and user."""
    import shlex
    import sys

    settings = context.options()
    args = [sys.executable, "-m", "main"]
    for flag, value in (("--db", settings.db_url), ("--as", settings.user), ("--lang", settings.lang)):
        if value:
            args += [flag, value]
    return shlex.join(args + ["tui"])


def make_server(port: int):
    from textual_serve.server import Server

    return Server(serve_command(), host="127.0.0.1", port=port, title="guapai")
