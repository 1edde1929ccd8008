"""guapai todo — what you must do, soonest deadline first (我的待办)."""
from __future__ import annotations

import typer

from cli import context, output
from cli.options import JsonOption


def todo(as_json: JsonOption = False) -> None:
    """Your tasks from your role and jurisdiction: inspections owed this month (and months
    missed), findings to confirm, problems to verify (never your own), reviews due, listings to
    confirm — each with the command that does it."""
    from listing.services.todo import todo as build
    from listing.timeutil import local_today

    with context.reader() as db:
        tasks = build(db, context.actor(db), local_today(context.now), output.lang())
    if as_json:
        output.print_json(tasks)
        return
    if not tasks:
        output.message(output.tr("todo.nothing"))
        return
    print_tasks(tasks)


def print_tasks(tasks: list[dict]) -> None:
    """Two lines a task: deadline (! when passed), company and what; then the command, never
    wrapped, so it can be copied."""
    from rich.console import Console
    from rich.markup import escape

    console = Console(soft_wrap=True, highlight=False)
    for task in output.scrub(tasks):
        due = f"{str(task['due'] or ''):10}"
        flag = "[red]![/]" if task["overdue"] else " "
        console.print(f"{due} {flag} [bold]{escape(task['company'])}[/] — {escape(task['what'])}")
        console.print(f"             [cyan]{escape(task['command'])}[/]")
    output.message(output.tr("msg.todo", n=len(tasks), overdue=sum(t["overdue"] for t in tasks)))
