"""guapai — 运输企业挂牌整治 workflow engine. Wiring only: the commands live in cli/.

`guapai --help` must stay instant, so nothing heavy is imported here or at the top of cli/*.
"""
from __future__ import annotations

import os

# guapai uses no pydantic plugin: without this, defining the store's tables reads the entry points
# of every installed distribution (~50 ms of each command's start; an operator may still set it)
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

import typer  # noqa: E402 - after the line above

from cli import context
from cli import audit as audit_cli
from cli import board as board_cli
from cli import company as company_cli
from cli import db as db_cli
from cli import demo as demo_cli
from cli import drivers as drivers_cli
from cli import findings as findings_cli
from cli import imports as import_cli
from cli import inspect as inspect_cli
from cli import jobs as jobs_cli
from cli import listing as listing_cli
from cli import platform as platform_cli
from cli import problems as problems_cli
from cli import report as report_cli
from cli import review as review_cli
from cli import rules as rules_cli
from cli import sample as sample_cli
from cli import todo as todo_cli
from cli import screen as screen_cli
from cli import trajectory as trajectory_cli
from cli.tui import command as tui_cli
from cli import users as users_cli

app = typer.Typer(
    name="guapai",
    cls=context.ErrorHandlingGroup,
    help="guapai 挂牌整治 — listed rectification of road-transport companies.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.callback()(context.root_options)
app.add_typer(import_cli.app, name="import")
app.add_typer(users_cli.app, name="users")
app.add_typer(audit_cli.app, name="audit")
app.add_typer(db_cli.app, name="db")
app.add_typer(listing_cli.app, name="listing")
app.add_typer(rules_cli.app, name="rules")
app.add_typer(jobs_cli.app, name="jobs")
app.add_typer(inspect_cli.app, name="inspect")
app.add_typer(problems_cli.app, name="problems")
app.add_typer(review_cli.app, name="review")
app.add_typer(report_cli.app, name="report")
app.add_typer(trajectory_cli.app, name="trajectory")
app.add_typer(sample_cli.app, name="sample")
app.add_typer(findings_cli.app, name="findings")
app.add_typer(platform_cli.app, name="platform")
app.add_typer(drivers_cli.app, name="drivers")
app.add_typer(company_cli.app, name="company")
app.command("demo")(demo_cli.demo)
app.command("board")(board_cli.board)
app.command("todo")(todo_cli.todo)
app.command("tui")(tui_cli.tui)
app.command("screen")(screen_cli.screen)


def run() -> None:
    """The console entry (`guapai`, `python main.py`): a command with nothing pending may end
    the process as soon as its output is flushed (context.end_process_now)."""
    context.console_process()
    app()


if __name__ == "__main__":
    run()
