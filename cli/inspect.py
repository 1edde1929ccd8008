"""guapai inspect — monthly safety inspections (安全检查)."""
from __future__ import annotations


import typer

from cli import context, output
from cli.options import JsonOption

app = typer.Typer(help="Record and list safety inspections. 安全检查。", no_args_is_help=True)


@app.command("record")
def record(
    company: str = typer.Option(..., "--company", help="Any part of the name, the credit code (or id) of the company."),
    department: str = typer.Option(..., "--department", help="transport | police (运管 | 交警; must match your role)."),
    day: str = typer.Option(None, "--date", help="YYYY-MM-DD (default: today)."),
    notes: str = typer.Option(None, "--notes", help="Free text."),
    finding: list[str] = typer.Option([], "--finding", help="A finding (repeatable)."),
    problem: list[str] = typer.Option([], "--problem", help="A problem to rectify (repeatable; pairs with --due)."),
    due: list[str] = typer.Option([], "--due", help="Due date for the --problem at the same position."),
) -> None:
    """Record an inspection; problems found go on the company's problem list."""
    from cli.options import check_choice, department_aliases
    from listing.services import inspections

    department = check_choice(department, inspections.DEPARTMENTS, "--department", aliases=department_aliases())
    when = context.date_option(day, "--date", default_today=True, past_only=True)
    dues = [context.date_option(d, "--due") for d in due] + [None] * (len(problem) - len(due))
    with context.session() as session:
        company = context.company(session, company).uscc
        row = inspections.record(session, context.actor(session), company, department, when, now=context.now(),
                                 notes=notes, findings=finding, problems=list(zip(problem, dues)))
    output.message(output.tr("msg.inspection_recorded", id=row.id, company=company,
                                 department=output.label(department, "dept."), day=when))
    if row.company_not_listed:
        output.message(output.tr("msg.inspection_not_listed"), style="yellow")


@app.command("list")
def list_(
    month: str = typer.Option(None, "--month", help="YYYY-MM"),
    as_json: JsonOption = False,
) -> None:
    """List inspections in your jurisdiction."""
    from listing.services import inspections

    with context.session(readonly=True) as session:
        rows = inspections.list_inspections(session, context.actor(session), context.month_option(month))
    output.show(rows, [("id", "col.id"), ("day", "col.at"), ("company", "col.company"), ("department", "col.department"),
                       ("inspector", "col.actor")], as_json=as_json)
