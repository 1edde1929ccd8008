"""guapai findings — police review of what sampling found (抽查线索)."""
from __future__ import annotations


import typer

from cli import context, output

app = typer.Typer(help="Review sampled findings: list, confirm, dismiss. 抽查线索审核。", no_args_is_help=True)


@app.command("list")
def list_(
    day: str = typer.Option(None, "--date", help="YYYY-MM-DD"),
    state: str = typer.Option("suspected", "--state", help="suspected | confirmed | dismissed | all"),
    company: str = typer.Option(None, "--company", help="Credit code."),
    limit: int = typer.Option(200, "--limit"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List findings in your jurisdiction (driver ID numbers masked unless your role needs them)."""
    from listing.services import findings

    with context.session(readonly=True) as session:
        who = context.actor(session)
        rows = findings.list_findings(session, who, day=context.date_option(day),
                                      state=None if state == "all" else state, company=company, limit=limit)
    for r in rows:
        r["what"] = output.tr(f"rule.{r['rule']}")
    output.show(rows, [("id", "col.id"), ("plate", "col.vehicle"), ("what", "col.rule"), ("start", "col.start"),
                       ("max_speed_kmh", "col.max_speed"), ("driver", "col.driver"), ("state", "col.state")], as_json=as_json,
                reveal_for=who)


@app.command("confirm")
def confirm(finding_id: int = typer.Argument(...)) -> None:
    """Confirm: a violation of the driver and company (source: trajectory) and a problem to rectify."""
    from listing.services import findings

    with context.session() as session:
        row = findings.confirm(session, context.actor(session), finding_id, now=context.now(), lang=output.lang())
    output.message(output.tr("msg.finding_changed", id=row.id, state=row.state))


@app.command("dismiss")
def dismiss(finding_id: int = typer.Argument(...), reason: str = typer.Option(..., "--reason")) -> None:
    """Dismiss a finding, saying why."""
    from listing.services import findings

    with context.session() as session:
        row = findings.dismiss(session, context.actor(session), finding_id, reason=reason, now=context.now())
    output.message(output.tr("msg.finding_changed", id=row.id, state=row.state))
