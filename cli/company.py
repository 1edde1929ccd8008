"""guapai company — a company's whole story in one place (企业全过程)."""
from __future__ import annotations

import typer

from cli import context, output
from cli.options import JsonOption

app = typer.Typer(help="A company's story: why listed, cycles, inspections, problems, findings. 企业档案。",
                  no_args_is_help=True)


@app.command("show")
def show(
    query: str = typer.Argument(..., help="Any part of the name, the credit code or the organisation code."),
    as_json: JsonOption = False,
) -> None:
    """The story in time order: the rule that listed it with its records, confirmation, each cycle
    with its checklist and evidence, inspections per month, problems, findings, sampled days,
    decisions with their reasons, notices sent."""
    from listing.services.company_story import story
    from listing.timeutil import local_today

    with context.reader() as db:
        company = context.company(db, query, as_json)
        data = story(db, context.actor(db), company, local_today(context.now))
    if as_json:
        output.print_json(data)
        return
    print_story(data)


def print_story(data: dict, console=None) -> None:
    """The story for people: header, why listed, the timeline, then each cycle's months and
    checklist, problems still open, sampling and notices."""
    from rich.console import Console

    from cli.render_story import story_renderables

    console = console or Console()
    for part in story_renderables(output.scrub(data), output.lang()):
        console.print(part)
