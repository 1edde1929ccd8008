"""Corrections without deleting history (更正/作废): an inspection, a problem or a finding recorded
by mistake is voided or corrected with a reason by its recorder or a supervisor; the record stays,
marked voided, and everything derived from it follows in the same transaction — the month's
inspection obligation, the problems it opened, the violation and problem a confirmation made.

The rules (who, which states, what a correction may change) are in `listing.domain`
(corrections, problems, findings, months, policy); this loads, calls them and writes through
`audit.record` with the before, the after and the reason. A cycle already decided keeps the
checklist stored with its decision: history is not rewritten.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from listing.domain import corrections as rules
from listing.domain import findings as finding_rules
from listing.domain import months
from listing.domain import problems as problem_rules
from listing.domain.policy import Actor, authorize_correction, may_move_to
from listing.services import audit
from listing.store.tables import (
    Company,
    Finding,
    Inspection,
    InspectionMiss,
    InspectionObligation,
    Listing,
    Problem,
    Violation,
)
from listing.timeutil import to_local
from messages.errors import Conflict, NotFound, PermissionDenied

POLICE = "police"


# --- inspections ---------------------------------------------------------------------------------

def _inspection(session: Session, inspection_id: int) -> tuple[Inspection, Company]:
    row = session.get(Inspection, inspection_id, with_for_update=True)
    if row is None:
        raise NotFound("err.inspection_not_found", id=inspection_id)
    return row, session.get(Company, row.company_id)


def _record(row: Inspection, company: Company) -> rules.InspectionRecord:
    return rules.InspectionRecord(row.id, company.uscc, row.department, row.day, voided=row.voided_at is not None)


def _mark_voided(session: Session, row: Inspection, actor: Actor, reason: str, now: dt.datetime) -> None:
    res = session.execute(update(Inspection).where(Inspection.id == row.id, Inspection.voided_at.is_(None))
                          .values(voided_at=now, voided_by=actor.name, void_reason=reason)
                          .execution_options(synchronize_session=False))
    if res.rowcount != 1:  # voided meanwhile by someone else
        raise Conflict("err.inspection_state", id=row.id, state="voided", action="void")
    session.refresh(row)


def void_inspection(session: Session, actor: Actor, inspection_id: int, *, reason: str | None,
                    now: dt.datetime) -> dict:
    """The inspection did not happen: voided; its month's obligation is settled again (met goes
    back to owed, or missed once the month has fallen due)."""
    row, company = _inspection(session, inspection_id)
    authorize_correction(actor, "inspection.void", recorder=row.inspector, department=row.department,
                         jurisdiction=company.jurisdiction)
    why = rules.void(_record(row, company), reason)
    _mark_voided(session, row, actor, why, now)
    audit.record(session, actor, "inspection.void", "inspection", row.id, at=now,
                 before={"company": company.uscc, "department": row.department, "day": row.day.isoformat(),
                         "inspector": row.inspector}, after={"voided": True, "reason": why})
    month = resettle(session, actor, row.company_id, row.department, months.month_of(row.day), now=now)
    return {"id": row.id, "voided": True, "reason": why, "obligation": month}


def correct_inspection(session: Session, actor: Actor, inspection_id: int, *, reason: str | None, now: dt.datetime,
                       company_ref: str | None = None, department: str | None = None, day: dt.date | None = None) -> dict:
    """Wrong day, department or company: the record is voided and a new one (pointing at it by
    `corrects_id`, with the same inspector, notes and findings) says what happened. The problems
    it opened follow the new record (to the right company). Both months' obligations are settled
    again."""
    from listing.services.inspections import _company, new_row

    row, company = _inspection(session, inspection_id)
    authorize_correction(actor, "inspection.correct", recorder=row.inspector, department=row.department,
                         jurisdiction=company.jurisdiction)
    target = _company(session, company_ref) if company_ref is not None else company
    fix = rules.correct(_record(row, company), to_local(now).date(), reason, company=target.uscc,
                        department=department, day=day)
    if target.id != company.id or fix.department != row.department:  # the new record must be theirs to make too
        authorize_correction(actor, "inspection.correct", recorder=row.inspector, department=fix.department,
                             jurisdiction=target.jurisdiction)
    if fix.department != row.department and not may_move_to(actor, fix.department):
        raise PermissionDenied("err.role_denied", user=actor.name, role=actor.role.value,
                               action=f"inspection.record.{fix.department}")
    _mark_voided(session, row, actor, fix.reason, now)
    new = new_row(session, target, fix.department, fix.day, row.inspector, now=now, notes=row.notes,
                  findings=row.findings, corrects_id=row.id)
    moved = []
    for problem in session.exec(select(Problem).where(Problem.source == "inspection", Problem.source_id == row.id)).all():
        problem.source_id = new.id
        if target.id != company.id:
            problem.company_id, problem.listing_id, problem.owner = target.id, new.listing_id, target.name
        problem.version += 1
        session.add(problem)
        moved.append(problem.id)
    session.flush()
    audit.record(session, actor, "inspection.correct", "inspection", row.id, at=now,
                 before={"company": company.uscc, "department": row.department, "day": row.day.isoformat()},
                 after={"company": fix.company, "department": fix.department, "day": fix.day.isoformat(),
                        "corrected_by_inspection": new.id, "problems_moved": moved, "reason": fix.reason})
    settled = {
        "old": resettle(session, actor, company.id, row.department, months.month_of(row.day), now=now),
        "new": resettle(session, actor, target.id, fix.department, months.month_of(fix.day), now=now),
    }
    return {"id": row.id, "voided": True, "new_id": new.id, "changed": {k: [str(a), str(b)] for k, (a, b) in fix.changed.items()},
            "reason": fix.reason, "problems_moved": moved, "obligations": settled}


def resettle(session: Session, actor: Actor, company_id: int, department: str, month: str, *, now: dt.datetime) -> str | None:
    """Settle one month's obligation again after an inspection was voided or moved (the daily
    job only settles open ones); returns its state, None when the month has no obligation row."""
    from listing.services.inspections import _inspected, confirmed_on, ended_on

    ob = session.exec(select(InspectionObligation).where(
        InspectionObligation.company_id == company_id, InspectionObligation.month == month,
        InspectionObligation.department == department)).first()
    if ob is None:
        return None
    listing = session.get(Listing, ob.listing_id)
    today = to_local(now).date()
    since = confirmed_on(session, listing.id)
    end = ended_on(session, listing)
    still_owed = end is None or month in months.owed(since, end)
    old = months.Obligation(ob.state)
    new = months.resettle(old, month, _inspected(session, company_id, department, month, since, today), today, still_owed)
    if new is not old:
        won = session.execute(update(InspectionObligation).where(
            InspectionObligation.id == ob.id, InspectionObligation.state == old.value)
            .values(state=new.value, settled_at=now).execution_options(synchronize_session=False)).rowcount
        if not won:
            raise Conflict("err.inspection_state", id=ob.id, state="changed", action="resettle")
        audit.record(session, actor, f"inspection.{new.value}", "listing", listing.id, at=now,
                     before={"state": old.value}, after={"month": month, "department": department, "state": new.value,
                                                         "company_id": company_id, "resettled": True})
        if new is months.Obligation.MISSED:
            try:  # a miss recorded before the late inspection that was voided stays the one miss
                with session.begin_nested():
                    session.add(InspectionMiss(listing_id=listing.id, company_id=company_id, month=month,
                                               department=department, recorded_at=now))
            except IntegrityError:
                pass
    return new.value


# --- problems ------------------------------------------------------------------------------------

def _problem_recorder(session: Session, row: Problem) -> tuple[str | None, str]:
    """Who opened the problem and for which department: the inspection's inspector, or the
    police officer who confirmed the finding."""
    if row.source == "inspection" and row.source_id is not None:
        ins = session.get(Inspection, row.source_id)
        if ins is not None:
            return ins.inspector, ins.department
    if row.source == "finding" and row.source_id is not None:
        finding = session.get(Finding, row.source_id)
        if finding is not None:
            return finding.decided_by, POLICE
    return None, POLICE


def _void_problem_row(session: Session, row: Problem, actor_name: str, reason: str, now: dt.datetime) -> dict:
    new = problem_rules.void(problem_rules.ProblemCase(id=row.id, state=row.state, created_on=to_local(row.created_at).date()),
                             reason)
    before = {"state": row.state, "version": row.version}
    res = session.execute(update(Problem).where(Problem.id == row.id, Problem.version == row.version).values(
        state=new.state, version=row.version + 1, voided_at=now, voided_by=actor_name, void_reason=reason.strip())
        .execution_options(synchronize_session=False))
    if res.rowcount != 1:
        raise Conflict("err.problem_state", id=row.id, state="changed", action="void")
    session.refresh(row)
    return before


def void_problem(session: Session, actor: Actor, problem_id: int, *, reason: str | None, now: dt.datetime) -> Problem:
    """The problem was opened by mistake: voided, it no longer counts (board, story, to-do,
    the checklist's "all problems closed")."""
    row = session.get(Problem, problem_id)
    if row is None:
        raise NotFound("err.problem_not_found", id=problem_id)
    company = session.get(Company, row.company_id)
    recorder, department = _problem_recorder(session, row)
    authorize_correction(actor, "problem.void", recorder=recorder, department=department,
                         jurisdiction=company.jurisdiction)
    before = _void_problem_row(session, row, actor.name, reason or "", now)
    audit.record(session, actor, "problem.void", "problem", row.id, at=now, before=before,
                 after={"state": row.state, "reason": row.void_reason})
    return row


# --- findings ------------------------------------------------------------------------------------

def _change_finding(session: Session, actor: Actor, finding_id: int, action: str, reason: str | None,
                    now: dt.datetime) -> Finding:
    from listing.services.findings import _claim

    row = session.get(Finding, finding_id, with_for_update=True)
    if row is None:
        raise NotFound("err.finding_not_found", id=finding_id)
    company = session.get(Company, row.company_id)
    authorize_correction(actor, f"finding.{action}", recorder=row.decided_by, department=POLICE,
                         jurisdiction=company.jurisdiction)
    decision = finding_rules.decide(row.id, row.state, action, row.rule, reason)
    why = (reason or "").strip()
    before = {"state": row.state, "decided_by": row.decided_by, "reason": row.reason,
              "violation_id": row.violation_id, "problem_id": row.problem_id}
    undone = _undo_confirmation(session, actor, row, why, now) if decision.undoes_confirmation else {}
    values = {"state": decision.state}
    if action == "reopen":  # to be decided again: the decision goes (the audit keeps it)
        values |= {"decided_by": None, "decided_at": None, "reason": None, "violation_id": None, "problem_id": None}
    else:
        values |= {"voided_at": now, "voided_by": actor.name, "void_reason": why}
    _claim(session, row, values)
    session.refresh(row)
    audit.record(session, actor, f"finding.{action}", "finding", row.id, at=now, before=before,
                 after={"state": row.state, "reason": why, "rule": row.rule} | undone)
    return row


def _undo_confirmation(session: Session, actor: Actor, row: Finding, reason: str, now: dt.datetime) -> dict:
    """Void the violation and the problem a confirmation made (a violation shared with another
    confirmed finding of the same event stays)."""
    out = {}
    if row.violation_id is not None:
        shared = session.exec(select(Finding.id).where(Finding.violation_id == row.violation_id, Finding.id != row.id,
                                                       Finding.state == "confirmed")).first()
        if shared is None:
            session.execute(update(Violation).where(Violation.id == row.violation_id, Violation.voided_at.is_(None))
                            .values(voided_at=now, void_reason=f"finding-{row.id}: {reason}")
                            .execution_options(synchronize_session=False))
            out["violation_voided"] = row.violation_id
    if row.problem_id is not None:
        problem = session.get(Problem, row.problem_id)
        if problem is not None and problem.state != problem_rules.VOIDED:
            before = _void_problem_row(session, problem, actor.name, reason, now)
            audit.record(session, actor, "problem.void", "problem", problem.id, at=now, before=before,
                         after={"state": problem.state, "reason": reason, "finding": row.id})
            out["problem_voided"] = problem.id
    return out


def reopen_finding(session: Session, actor: Actor, finding_id: int, *, reason: str | None, now: dt.datetime) -> Finding:
    """Confirmed or dismissed by mistake: suspected again, to be decided again."""
    return _change_finding(session, actor, finding_id, "reopen", reason, now)


def void_finding(session: Session, actor: Actor, finding_id: int, *, reason: str | None, now: dt.datetime) -> Finding:
    """Not a finding at all: voided, with what a confirmation made."""
    return _change_finding(session, actor, finding_id, "void", reason, now)
