"""guapai sample — the daily 10% trajectory sample (每日抽查)."""
from __future__ import annotations

import datetime as dt

import typer

from cli import context, output

app = typer.Typer(help="Daily sampling: show, verify the draw. 每日抽查。", no_args_is_help=True)


@app.command("show")
def show(
    day: str = typer.Option(None, "--date", help="YYYY-MM-DD (default: all recent)."),
    company: str = typer.Option(None, "--company", help="Any part of the name, or the credit code."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """The vehicles sampled, their status and findings."""
    from listing.services import sampling

    with context.session(readonly=True) as session:
        uscc = context.company(session, company, as_json).uscc if company else None
        rows = sampling.show(session, context.actor(session), dt.date.fromisoformat(day) if day else None, uscc)
    output.show(rows, [("day", "col.day"), ("company", "col.company"), ("plate", "col.vehicle"), ("status", "col.state"),
                       ("points", "col.points"), ("findings", "col.findings")], as_json=as_json)


@app.command("verify")
def verify(
    day: str = typer.Argument(..., help="YYYY-MM-DD"),
    company: str = typer.Argument(..., help="Any part of the name, or the credit code."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Recompute the keyed draw for a day and company and compare it with what was sampled."""
    from listing.services import sampling
    from listing.settings import load

    settings = load()
    with context.session(readonly=True) as session:
        data = sampling.verify(session, context.actor(session), dt.date.fromisoformat(day),
                               context.company(session, company, as_json).uscc,
                               sampling._secret(settings), settings.sampling_fraction)
    if as_json:
        output.print_json(data)
    else:
        output.show([{"rank": i, "plate": p, "stored": data["stored"][i] if i < len(data["stored"]) else "",
                      "key": data["keys"][p]} for i, p in enumerate(data["expected"])],
                    [("rank", "col.rank"), ("plate", "col.vehicle"), ("stored", "col.stored"), ("key", "col.key")], as_json=False)
    output.message(output.tr("msg.sample_match" if data["match"] else "msg.sample_mismatch"))
    if not data["match"]:
        raise typer.Exit(1)
