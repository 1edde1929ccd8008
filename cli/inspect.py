"""guapai inspect — monthly safety inspections (安全检查)."""
from __future__ import annotations


import typer

from cli import context, output
from cli.options import JsonOption

app = typer.Typer(help="Record, list, void and correct safety inspections. 安全检查。", no_args_is_help=True)
ReasonOption = typer.Option(..., "--reason", help="Why (required; kept in the audit log).")


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
        earlier = inspections.same_day(session, row)
    output.message(output.tr("msg.inspection_recorded", id=row.id, company=company,
                                 department=output.label(department, "dept."), day=when))
    if earlier:
        output.message(output.tr("msg.inspection_same_day", ids=", ".join(map(str, earlier)), id=row.id), style="yellow",
                       soft_wrap=True)
    if row.company_not_listed:
        output.message(output.tr("msg.inspection_not_listed"), style="yellow")


@app.command("list")
def list_(
    month: str = typer.Option(None, "--month", help="YYYY-MM"),
    company: str = typer.Option(None, "--company", help="Any part of the name, or the credit code."),
    voided: bool = typer.Option(False, "--voided", help="Also list voided inspections (with the reason)."),
    as_json: JsonOption = False,
) -> None:
    """List inspections in your jurisdiction."""
    from listing.services.read.inspections import list_inspections

    with context.reader() as db:
        uscc = context.company(db, company, as_json).uscc if company else None
        rows = list_inspections(db, context.actor(db), context.month_option(month), voided=voided, company=uscc)
    columns = [("id", "col.id"), ("day", "col.at"), ("company", "col.company"), ("department", "col.department"),
               ("inspector", "col.actor")]
    output.show(rows, columns + ([("void_reason", "col.voided")] if voided else []), as_json=as_json)


@app.command("void")
def void(inspection_id: int = typer.Argument(..., help="The inspection's id (inspect list)."),
         reason: str = ReasonOption) -> None:
    """Void an inspection recorded by mistake (it did not happen): kept, counted nowhere; the
    month goes back to owed, or missed once due. Its inspector or a supervisor."""
    from listing.services import corrections

    with context.session() as session:
        result = corrections.void_inspection(session, context.actor(session), inspection_id, reason=reason,
                                             now=context.now())
    output.message(output.tr("msg.inspection_voided", id=inspection_id, reason=result["reason"]))


@app.command("correct")
def correct(
    inspection_id: int = typer.Argument(..., help="The inspection's id (inspect list)."),
    day: str = typer.Option(None, "--date", help="The right day, YYYY-MM-DD."),
    department: str = typer.Option(None, "--department", help="The right department: transport | police."),
    company: str = typer.Option(None, "--company", help="The right company: any part of the name, or the credit code."),
    reason: str = ReasonOption,
    as_json: JsonOption = False,
) -> None:
    """Correct an inspection's day, department or company: the record is voided and a new one,
    pointing at it, says what happened (nothing is rewritten). Its inspector or a supervisor."""
    from cli.options import check_choice, department_aliases
    from listing.services import corrections, inspections

    department = check_choice(department, inspections.DEPARTMENTS, "--department", aliases=department_aliases())
    when = context.date_option(day, "--date", past_only=True)
    with context.session() as session:
        uscc = context.company(session, company, as_json).uscc if company else None
        result = corrections.correct_inspection(session, context.actor(session), inspection_id, reason=reason,
                                                now=context.now(), company_ref=uscc, department=department, day=when)
    if as_json:
        output.print_json(result)
        return
    output.message(output.tr("msg.inspection_corrected", id=inspection_id, new=result["new_id"],
                             changes="; ".join(f"{k}: {a} → {b}" for k, (a, b) in result["changed"].items())))
