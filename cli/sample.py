"""guapai sample — the daily 10% trajectory sample (每日抽查)."""
from __future__ import annotations

import typer

from cli import context, output
from cli.options import JsonOption

app = typer.Typer(help="Daily sampling: show, verify the draw. 每日抽查。", no_args_is_help=True)



@app.command("show")
def show(
    day: str = typer.Option(None, "--date", help="YYYY-MM-DD (default: the most recent sampled day)."),
    days: int = typer.Option(1, "--days", min=1, help="Without --date: how many of the most recent sampled days."),
    company: str = typer.Option(None, "--company", help="Any part of the name, or the credit code."),
    as_json: JsonOption = False,
) -> None:
    """The vehicles sampled, their status and findings."""
    from listing.services.read.samples import show as samples

    with context.reader() as db:
        uscc = context.company(db, company, as_json).uscc if company else None
        rows = samples(db, context.actor(db), context.date_option(day), uscc, days)
    output.show(rows, [("day", "col.day"), ("company", "col.company"), ("plate", "col.vehicle"), ("status", "col.state"),
                       ("points", "col.points"), ("findings", "col.findings")], as_json=as_json,
                labels={"status": "sample_status."})


@app.command("verify")
def verify(
    day: str = typer.Argument(..., help="YYYY-MM-DD"),
    company: str = typer.Argument(None, help="Any part of the name, or the credit code (default: every company sampled that day)."),
    as_json: JsonOption = False,
) -> None:
    """Recompute the keyed draw of a day from the inputs stored with it and compare it with what was sampled."""
    from listing.services import sampling
    from listing.settings import load

    settings = load()
    secret = sampling._secret(settings)
    with context.session(readonly=True) as session:
        actor = context.actor(session)
        if company is None:
            results = sampling.verify_day(session, actor, context.date_option(day, "DAY"), secret, settings.sampling_fraction)
        else:
            uscc = context.company(session, company, as_json).uscc
            results = [sampling.verify(session, actor, context.date_option(day, "DAY"), uscc, secret, settings.sampling_fraction)]
    if as_json:
        output.print_json(results if company is None else results[0])
    elif company is None:
        output.show([{"company": r["company"], "n": len(r["stored"]), "match": "✓" if r["match"] else "✗"} for r in results],
                    [("company", "col.company"), ("n", "col.stored"), ("match", "col.match")], as_json=False)
    else:
        data = results[0]
        output.show([{"rank": i, "plate": p, "stored": data["stored"][i] if i < len(data["stored"]) else "",
                      "key": data["keys"][p]} for i, p in enumerate(data["expected"])],
                    [("rank", "col.rank"), ("plate", "col.vehicle"), ("stored", "col.stored"), ("key", "col.key")], as_json=False)
    matched = all(r["match"] for r in results)
    output.message(output.tr("msg.sample_match" if matched else "msg.sample_mismatch"))
    if not matched:
        raise typer.Exit(1)
