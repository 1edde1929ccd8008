"""guapai problems — the closed loop of problems found (问题清单)."""
from __future__ import annotations

import typer

from cli import context, output
from cli.options import JsonOption

app = typer.Typer(help="Problems: list, rectify, verify (by another officer), reopen, void. 问题整改。", no_args_is_help=True)


@app.command("list")
def list_(
    state: str = typer.Option(None, "--state", help="open | rectified | verified | reopened | voided"),
    company: str = typer.Option(None, "--company", help="Any part of the name, or the credit code."),
    overdue: bool = typer.Option(False, "--overdue", help="Only overdue problems."),
    as_json: JsonOption = False,
) -> None:
    """List problems in your jurisdiction."""
    from cli.options import check_choice
    from listing.services.read.problems import list_problems
    from listing.timeutil import local_today

    state = check_choice(state, ("open", "rectified", "verified", "reopened", "voided"), "--state")
    with context.reader() as db:
        uscc = context.company(db, company, as_json).uscc if company else None
        rows = list_problems(db, context.actor(db), today=local_today(context.now), state=state, company=uscc,
                             overdue=overdue)
    output.show(rows, [("id", "col.id"), ("company", "col.company"), ("description", "col.description"),
                       ("due", "col.due"), ("state", "col.state"), ("overdue", "col.overdue")], as_json=as_json,
                labels={"state": "pstate."})


def _change(action: str):
    def run(problem_id: int = typer.Argument(...), note: str = typer.Option(None, "--note"),
            day: str = typer.Option(None, "--date", help="When it was done, YYYY-MM-DD (default: today; never later).")) -> None:
        from listing.services import problems

        on = context.date_option(day, "--date", past_only=True)
        with context.session() as session:
            row = problems.change(session, context.actor(session), problem_id, action, now=context.now(), note=note, on=on)
        output.message(output.tr("msg.problem_changed", id=row.id, state=output.label(row.state, "pstate.")))

    run.__doc__ = {"rectify": "Mark a problem rectified.", "verify": "Verify a rectification (a different officer).",
                   "reopen": "Reopen a problem."}[action]
    return run


for _a in ("rectify", "verify", "reopen"):
    app.command(_a)(_change(_a))


@app.command("void")
def void(problem_id: int = typer.Argument(..., help="The problem's id (problems list)."),
         reason: str = typer.Option(..., "--reason", help="Why (required; kept in the audit log).")) -> None:
    """Void a problem opened by mistake: kept, counted nowhere (no longer blocks delisting). The
    officer who opened it or a supervisor."""
    from listing.services import corrections

    with context.session() as session:
        row = corrections.void_problem(session, context.actor(session), problem_id, reason=reason, now=context.now())
    output.message(output.tr("msg.problem_voided", id=row.id, reason=row.void_reason))
