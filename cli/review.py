"""guapai review — the acceptance review (验收) at cycle end."""
from __future__ import annotations

import typer

from cli import context, output

app = typer.Typer(help="Acceptance review: show the checklist, decide. 验收。", no_args_is_help=True)


@app.command("show")
def show(listing_id: int = typer.Argument(...), as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """The acceptance checklist: each item pass/fail with its evidence."""
    from listing.services import review

    with context.session(readonly=True) as session:
        data = review.show(session, context.actor(session), listing_id, today=context.date_option(None, default_today=True))
    if as_json:
        output.print_json(data)
        return
    rows = [{"item": output.tr(f"check.{i['item']}"), "result": output.tr("pass" if i["pass"] else "fail"),
             "evidence": output.dumps(i["evidence"]).replace("\n", "").replace("  ", "")[:120]} for i in data["items"]]
    output.show(rows, [("item", "col.item"), ("result", "col.result"), ("evidence", "col.evidence")], as_json=False)
    output.message(output.tr("msg.recommendation", result=output.tr(data["recommendation"])))


@app.command("decide")
def decide(
    listing_id: int = typer.Argument(...),
    passed: bool = typer.Option(..., "--pass/--fail", help="Delist (pass) or keep listed for another cycle (fail)."),
    reason: str = typer.Option(..., "--reason", help="Why (stored with the decision)."),
) -> None:
    """Decide an acceptance review (reviewer); the checklist is stored with the decision."""
    from jobs.channels import channel_for
    from listing.services import review
    from listing.settings import load

    from listing.services.notifications import deliver

    settings = load()
    channel = channel_for(settings, sink=output.message)
    with context.session() as session:
        row = review.decide(session, context.actor(session), listing_id, passed, reason=reason, now=context.now(),
                            channel=channel, lang=settings.notify_lang)
    deliver(context.open_store(), channel, now=context.now())  # after commit: a robot down changes nothing decided
    output.message(output.tr("msg.listing_changed", listing=row.id, state=output.tr(f"state.{row.state}"),
                             cycle=row.cycle, due=row.cycle_due or "-"))
