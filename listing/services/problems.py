"""The problem list, closed loop (问题清单化督办、整改清单化反馈):
open -> rectified -> verified, or reopened; verified only by a different officer than the one
who marked it rectified (four eyes)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import update
from sqlmodel import Session

from listing.domain import problems as domain
from listing.domain.policy import Actor, authorize
from listing.services import audit
from listing.services.read.problems import list_problems  # noqa: F401 - re-exported
from listing.store.tables import Company, Problem
from listing.timeutil import LOCAL_TZ, to_local
from messages.errors import Conflict, NotFound


def _case(row: Problem) -> domain.ProblemCase:
    return domain.ProblemCase(id=row.id, state=row.state, created_on=to_local(row.created_at).date(),
                              rectified_by=row.rectified_by, verified_by=row.verified_by)


def change(session: Session, actor: Actor, problem_id: int, action: str, *, now: dt.datetime, note: str | None = None,
           on: dt.date | None = None) -> Problem:
    """Rectify, verify or reopen a problem, dated `on` (default: today); the lifecycle decides
    (listing.domain.problems), this writes the result and its audit event."""
    row = session.get(Problem, problem_id)
    if row is None:
        raise NotFound("err.problem_not_found", id=problem_id)
    company = session.get(Company, row.company_id)
    authorize(actor, f"problem.{action}", company.jurisdiction)
    today = to_local(now).date()
    new = domain.change(_case(row), action, actor.name, on or today, today)
    stamp = now if on is None or on == today else dt.datetime.combine(on, dt.time(12), tzinfo=LOCAL_TZ)
    before = {"state": row.state, "version": row.version}
    values = {"state": new.state, "version": row.version + 1}
    if action == "rectify":
        values |= {"rectified_by": new.rectified_by, "rectified_at": stamp}
    elif action == "verify":
        values |= {"verified_by": new.verified_by, "verified_at": stamp}
    else:
        values |= {"verified_by": None, "verified_at": None}
    res = session.execute(update(Problem).where(Problem.id == problem_id, Problem.version == row.version).values(**values)
                          .execution_options(synchronize_session=False))
    if res.rowcount != 1:
        raise Conflict("err.problem_state", id=problem_id, state="changed", action=action)
    session.refresh(row)
    audit.record(session, actor, f"problem.{action}", "problem", problem_id, before=before,
                 after={"state": new.state, "note": note} | ({"on": on.isoformat()} if on else {}), at=now)
    return row
