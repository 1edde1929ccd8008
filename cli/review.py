"""guapai review — the acceptance review (验收) at cycle end."""
from __future__ import annotations

import typer

from cli import context, output
from cli.options import JsonOption

app = typer.Typer(help="Acceptance review: show the checklist, decide. 验收。", no_args_is_help=True)
REVIEWED = ("under_review", "listed")  # a company named: its listing under review (or still listed: refused with why)


@app.command("show")
def show(listing: str = typer.Argument(..., help=context.LISTING_HELP), as_json: JsonOption = False) -> None:
    """The acceptance checklist: each item pass/fail with its evidence, as a table."""
    from listing.services import review

    with context.reader() as db:
        listing_id = context.listing_id(db, listing, REVIEWED, as_json)
        data = review.show(db, context.actor(db), listing_id, today=context.date_option(None, default_today=True))
    if as_json:
        output.print_json(data)
        return
    from rich.console import Console

    from cli.render_story import checklist_table

    console = Console()
    console.print(output.tr("review.header", company=data["company"], uscc=data["uscc"], cycle=data["cycle"],
                            start=data["from"], end=data["to"]), style="bold", highlight=False)
    console.print(checklist_table(output.scrub(data), output.lang()))
    output.message(output.tr("msg.recommendation", result=output.tr(data["recommendation"])))


@app.command("decide")
def decide(
    listing: str = typer.Argument(..., help=context.LISTING_HELP),
    passed: bool = typer.Option(..., "--pass/--fail", help="Delist (pass) or keep listed for another cycle (fail)."),
    reason: str = typer.Option(None, "--reason", help="Why (stored with the decision); required against the checklist's recommendation."),
) -> None:
    """Decide an acceptance review (reviewer); the checklist is stored with the decision. Going
    against its recommendation needs --reason and says which items it overrides."""
    from jobs.channels import channel_for
    from listing.services import decision
    from listing.services.notifications import deliver
    from listing.settings import load

    settings = load()
    channel = channel_for(settings, sink=output.message)
    with context.session() as session:
        listing_id = context.listing_id(session, listing, REVIEWED)
        result = decision.decide(session, context.actor(session), listing_id, passed, reason=reason, now=context.now(),
                                 channel=channel, lang=output.lang(), notify_lang=settings.notify_lang)
    deliver(context.open_store(), channel, now=context.now())  # after commit: a robot down changes nothing decided
    row = result["listing"]
    if result["against"]:
        output.message(output.tr("msg.override", recommendation=output.tr(result["recommendation"]),
                                 items=", ".join(output.tr(f"check.{i}") for i in result["overridden"])), style="yellow",
                       soft_wrap=True)
    output.message(output.tr("msg.listing_changed", listing=row.id, state=output.tr(f"state.{row.state}"),
                             cycle=row.cycle, due=row.cycle_due or "-"))
