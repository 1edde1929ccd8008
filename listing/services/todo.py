"""What the person running guapai must do (待办), from their role and jurisdiction: inspections
owed this month and missed, findings to confirm, problems to verify (never their own
rectification: four eyes), reviews due, listings to confirm — sorted by deadline, each with the
command that does it.
"""
from __future__ import annotations

import datetime as dt
import shlex

from sqlmodel import Session, select

from listing.domain.policy import Actor, Role, can
from listing.domain.states import State
from listing.store.tables import Company, Deadline, Finding, Listing, Problem, Vehicle
from listing.timeutil import to_local

FINDING_REVIEW_DAYS = 3  # days police have to confirm or dismiss a finding after the day it covers
CONFIRM_DAYS = 7  # days reviewers have to confirm or reject a proposed listing
_DEPARTMENT_OF = {Role.TRANSPORT: "transport", Role.POLICE: "police"}


def _command(actor: Actor, *args: str) -> str:
    return shlex.join(["guapai", "--as", actor.name, *args])


def _in_scope(actor: Actor):
    return (lambda q: q) if actor.city_level else (lambda q: q.where(Company.jurisdiction == actor.jurisdiction))


def todo(session: Session, actor: Actor, today: dt.date, lang: str = "en") -> list[dict]:
    """Tasks {kind, due, overdue, company, uscc, what, command, ref}, soonest deadline first."""
    from messages import t

    scope = _in_scope(actor)
    tasks: list[dict] = []

    def add(kind, due, company, what, command, ref):
        tasks.append({"kind": kind, "due": due, "overdue": due is not None and due < today, "company": company.name,
                      "uscc": company.uscc, "what": what, "command": command, "ref": ref})

    department = _DEPARTMENT_OF.get(actor.role)
    if department:
        tasks += _inspections(session, actor, department, today, scope, lang)
    if can(actor, "finding.confirm"):
        rows = session.exec(scope(select(Finding, Company, Vehicle.plate).join(Company, Company.id == Finding.company_id)
                                  .join(Vehicle, Vehicle.id == Finding.vehicle_id)
                                  .where(Finding.state == "suspected"))).all()
        for f, company, plate in rows:
            add("finding", f.day + dt.timedelta(days=FINDING_REVIEW_DAYS), company,
                t("todo.finding", lang, id=f.id, rule=t(f"rule.{f.rule}", lang), plate=plate, day=f.day),
                _command(actor, "findings", "show", str(f.id)), f.id)
    if can(actor, "problem.verify"):
        rows = session.exec(scope(select(Problem, Company).join(Company, Company.id == Problem.company_id)
                                  .where(Problem.state == "rectified"))).all()
        for p, company in rows:
            if p.rectified_by == actor.name:  # four eyes: never verify one's own rectification
                continue
            add("verify", p.due, company, t("todo.verify", lang, id=p.id, by=p.rectified_by, description=p.description),
                _command(actor, "problems", "verify", str(p.id)), p.id)
    if can(actor, "listing.pass"):
        review_due = dict(session.exec(select(Deadline.listing_id, Deadline.due_at).where(
            Deadline.kind == "review_due")).all())
        for listing, company in session.exec(scope(select(Listing, Company).join(Company, Company.id == Listing.company_id)
                                                   .where(Listing.state == State.UNDER_REVIEW.value))).all():
            due = to_local(review_due[listing.id]).date() if listing.id in review_due else listing.cycle_due
            add("review", due, company, t("todo.review", lang, cycle=listing.cycle),
                _command(actor, "review", "show", str(listing.id)), listing.id)
    if can(actor, "listing.confirm"):
        for listing, company in session.exec(scope(select(Listing, Company).join(Company, Company.id == Listing.company_id)
                                                   .where(Listing.state == State.PROPOSED.value))).all():
            add("confirm", to_local(listing.proposed_at).date() + dt.timedelta(days=CONFIRM_DAYS), company,
                t("todo.confirm", lang, id=listing.id), _command(actor, "listing", "confirm", str(listing.id)), listing.id)
    far = dt.date.max
    return sorted(tasks, key=lambda x: (x["due"] or far, x["kind"], x["company"], str(x["ref"])))


def _inspections(session: Session, actor: Actor, department: str, today: dt.date, scope, lang: str) -> list[dict]:
    """This month's owed inspection of the actor's department for each listed company not yet
    inspected, and the months of the current cycle already missed."""
    from listing.services.month_marks import cycle_marks, month_last_day
    from messages import t

    pairs = session.exec(scope(select(Listing, Company).join(Company, Company.id == Listing.company_id).where(
        Listing.state.in_([State.LISTED.value, State.UNDER_REVIEW.value])))).all()
    marks = cycle_marks(session, [(l.id, c.id, l.cycle, l.cycle_start, l.cycle_due) for l, c in pairs
                                  if l.cycle_start and l.cycle_due], today)
    label = t(f"dept.{department}", lang)
    out = []
    for listing, company in pairs:
        for m in marks.get((listing.id, listing.cycle), []):
            mark = m[department]
            if mark not in ("owed", "missed"):
                continue
            key = "todo.inspect" if mark == "owed" else "todo.inspect_missed"
            due = month_last_day(m["month"])
            out.append({"kind": "inspect", "due": due, "overdue": due < today, "company": company.name,
                        "uscc": company.uscc, "what": t(key, lang, month=m["month"], department=label),
                        "command": _command(actor, "inspect", "record", "--company", company.uscc,
                                            "--department", department),
                        "ref": f"{listing.id}:{m['month']}"})
    return out
