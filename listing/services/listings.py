"""Listing cases: propose, and the one `apply` path for every state change.

`apply` loads the case, lets the pure state machine decide, writes the new state with an
optimistic version check (so two officers cannot both win), records the cycle and deadline
rows, and appends the audit event — all in the caller's single transaction.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, select

from listing.domain.policy import Actor, authorize
from listing.domain.states import OPEN_STATES, Case, CyclePolicy, Event, State, advance
from listing.services import audit
from listing.services.read.listings import list_listings  # noqa: F401 - re-exported
from listing.store.tables import Company, Cycle, Deadline, Listing
from listing.timeutil import LOCAL_TZ
from messages.errors import Conflict, NotFound

_EVENT_ACTION = {
    Event.CONFIRM: "listing.confirm", Event.REJECT: "listing.reject", Event.END_CYCLE: "listing.end_cycle",
    Event.PASS: "listing.pass", Event.FAIL: "listing.fail",
}


def _case(session: Session, row: Listing) -> Case:
    confirmed = session.exec(select(Cycle.start).where(Cycle.listing_id == row.id, Cycle.number == 1)).first()
    return Case(id=row.id, state=State(row.state), cycle=row.cycle, cycle_start=row.cycle_start,
                cycle_due=row.cycle_due, consecutive_failures=row.consecutive_failures, escalated=row.escalated,
                confirmed_on=confirmed)


def snapshot(row: Listing) -> dict[str, Any]:
    return {"state": row.state, "cycle": row.cycle, "cycle_start": row.cycle_start and row.cycle_start.isoformat(),
            "cycle_due": row.cycle_due and row.cycle_due.isoformat(), "consecutive_failures": row.consecutive_failures,
            "escalated": row.escalated, "version": row.version}


def propose(session: Session, actor: Actor, company_id: int, *, rules_version: str, explanation: Any,
            now: dt.datetime) -> Listing:
    """Open a `proposed` listing; refused while the company has an open one."""
    company = session.get(Company, company_id)
    if company is None:
        raise NotFound("err.company_not_found", company=company_id)
    authorize(actor, "listing.propose", company.jurisdiction)
    open_ = session.exec(select(Listing).where(Listing.company_id == company_id,
                                               Listing.state.in_([s.value for s in OPEN_STATES]))).first()
    if open_ is not None:
        raise Conflict("err.listing_open", company=company.uscc, listing=open_.id)
    row = Listing(company_id=company_id, state=State.PROPOSED.value, rules_version=rules_version,
                  explanation=explanation, proposed_at=now)
    session.add(row)
    session.flush()  # the partial unique index refuses a concurrent second open listing here
    audit.record(session, actor, "listing.propose", "listing", row.id, after=snapshot(row) | {"company": company.uscc,
                 "rules_version": rules_version}, at=now)
    return row


def apply(session: Session, actor: Actor, listing_id: int, event: Event, *, now: dt.datetime,
          reason: str | None = None, checklist: Any = None, policy: CyclePolicy = CyclePolicy(),
          expected_version: int | None = None) -> Listing:
    """The one path for every listing state change. `expected_version`: the version the officer
    saw; if someone changed the listing since, the change is refused rather than applied blind."""
    row = session.get(Listing, listing_id)
    if row is None:
        raise NotFound("err.listing_not_found", listing=listing_id)
    if expected_version is not None and row.version != expected_version:
        raise Conflict("err.stale_listing", listing=listing_id)
    company = session.get(Company, row.company_id)
    authorize(actor, _EVENT_ACTION[event], company.jurisdiction)
    before = snapshot(row)
    old_cycle = row.cycle
    new = advance(_case(session, row), event, now.astimezone(LOCAL_TZ).date(), policy)
    values = {"state": new.state.value, "cycle": new.cycle, "cycle_start": new.cycle_start,
              "cycle_due": new.cycle_due, "consecutive_failures": new.consecutive_failures,
              "escalated": new.escalated, "version": row.version + 1}
    if new.state in (State.DELISTED, State.REJECTED):
        values["closed_at"] = now
    # Optimistic lock: only the writer that still sees the version it read may change the row.
    result = session.execute(update(Listing).where(Listing.id == listing_id, Listing.version == row.version).values(**values))
    if result.rowcount != 1:
        raise Conflict("err.stale_listing", listing=listing_id)
    session.refresh(row)
    if event in (Event.PASS, Event.FAIL):
        _decide_cycle(session, listing_id, old_cycle, event, actor, now, reason, checklist)
    if event in (Event.CONFIRM, Event.FAIL):
        session.add(Cycle(listing_id=listing_id, number=new.cycle, start=new.cycle_start, due=new.cycle_due))
        due_at = dt.datetime.combine(new.cycle_due, dt.time(0, 0), tzinfo=LOCAL_TZ)  # cycle ends at local midnight
        session.add(Deadline(kind="cycle_end", listing_id=listing_id, due_at=due_at))
    if event is Event.END_CYCLE:
        _close_deadlines(session, listing_id, "cycle_end", now)
    session.flush()
    audit.record(session, actor, _EVENT_ACTION[event], "listing", listing_id, before=before,
                 after=snapshot(row) | ({"reason": reason} if reason else {}), at=now)
    return row


def _decide_cycle(session, listing_id, number, event, actor, now, reason, checklist) -> None:
    cycle = session.exec(select(Cycle).where(Cycle.listing_id == listing_id, Cycle.number == number)).one()
    cycle.outcome, cycle.decided_by, cycle.decided_at = event.value, actor.name, now
    cycle.reason, cycle.checklist = reason, checklist
    session.add(cycle)


def _close_deadlines(session, listing_id: int, kind: str, now: dt.datetime) -> None:
    for d in session.exec(select(Deadline).where(Deadline.listing_id == listing_id, Deadline.kind == kind,
                                                 Deadline.done_at.is_(None))).all():
        d.done_at = now
        session.add(d)


def store_checklist(session: Session, listing_id: int, checklist: Any) -> None:
    """Keep the assembled acceptance checklist with the cycle under review."""
    row = session.get(Listing, listing_id)
    cycle = session.exec(select(Cycle).where(Cycle.listing_id == listing_id, Cycle.number == row.cycle)).one()
    cycle.checklist = checklist
    session.add(cycle)
