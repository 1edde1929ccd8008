"""Police review of sampled findings: confirm (a violation record of the driver and company,
source trajectory, and a problem for the company to rectify) or dismiss (with a reason)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import update
from sqlmodel import Session, select

from listing.domain import findings as lifecycle
from listing.domain.policy import Actor, authorize
from listing.services import audit
from listing.services.read.findings import list_findings  # noqa: F401 - re-exported
from listing.store.tables import Company, Finding, Listing, Problem, Vehicle, Violation
from listing.timeutil import local_text
from messages import t
from messages.errors import Conflict, NotFound

PROBLEM_DAYS = 15  # days a company has to rectify what sampling found


def _load(session: Session, actor: Actor, finding_id: int, action: str) -> tuple[Finding, Company]:
    # Lock the finding before deciding: two officers confirming it at once would otherwise both
    # insert its violation, and the second would fail on uq_violation instead of a Conflict.
    row = session.get(Finding, finding_id, with_for_update=True)
    if row is None:
        raise NotFound("err.finding_not_found", id=finding_id)
    company = session.get(Company, row.company_id)
    authorize(actor, f"finding.{action}", company.jurisdiction)
    return row, company


def _claim(session: Session, row: Finding, values: dict) -> None:
    res = session.execute(update(Finding).where(Finding.id == row.id, Finding.version == row.version)
                          .values(version=row.version + 1, **values).execution_options(synchronize_session=False))
    if res.rowcount != 1:
        raise Conflict("err.finding_state", id=row.id, state="changed")


def confirm(session: Session, actor: Actor, finding_id: int, *, now: dt.datetime, lang: str = "zh") -> Finding:
    row, company = _load(session, actor, finding_id, "confirm")
    decision = lifecycle.decide(row.id, row.state, "confirm", row.rule)
    vehicle = session.get(Vehicle, row.vehicle_id)
    violation_id = None
    if decision.makes_violation:
        code = f"TRJ-{row.rule}"
        # the same event may reach two findings (a run across midnight is sampled on both days):
        # it is one violation, counted once
        violation = session.exec(select(Violation).where(Violation.vehicle_id == row.vehicle_id,
                                                         Violation.occurred_at == row.start, Violation.code == code)).first()
        if violation is None:
            violation = Violation(occurred_at=row.start, vehicle_id=row.vehicle_id, company_id=row.company_id,
                                  driver_id=row.driver_id, code=code, points=0, source="trajectory",
                                  record_no=f"finding-{row.id}")
            session.add(violation)
            session.flush()
        elif violation.voided_at is not None:  # confirmed again after a reopen: the same violation counts again
            violation.voided_at, violation.void_reason = None, None
            session.add(violation)
            session.flush()
        violation_id = violation.id
    when = local_text(row.start)  # Beijing time with its offset, as every time people read
    problem = Problem(company_id=row.company_id, listing_id=None, source="finding", source_id=row.id,
                      description=t("problem.from_finding", lang, rule=t(f"rule.{row.rule}", lang), plate=vehicle.plate, when=when),
                      owner=company.name, due=(now + dt.timedelta(days=PROBLEM_DAYS)).date(), created_at=now)
    from listing.services.inspections import open_listing

    listing = open_listing(session, company.id)
    problem.listing_id = listing.id if listing else None
    session.add(problem)
    session.flush()
    _claim(session, row, {"state": decision.state, "decided_by": actor.name, "decided_at": now,
                          "violation_id": violation_id, "problem_id": problem.id})
    session.refresh(row)
    audit.record(session, actor, "finding.confirm", "finding", row.id, at=now,
                 after={"violation_id": violation_id, "problem_id": problem.id, "rule": row.rule})
    return row


def confirm_many(session: Session, actor: Actor, finding_ids: list[int], *, now: dt.datetime, lang: str = "zh") -> list[Finding]:
    """Confirm several findings in one sitting: for each, in this order, what `confirm` does
    (the same violations, problems, states and audit events, the same ids), with the reads done
    once for all: the findings (locked), their companies and vehicles, the violations they may
    repeat, the companies' open listings."""
    from listing.domain.states import State

    ids = list(finding_ids)
    if len(set(ids)) != len(ids):  # the second confirmation of a finding must meet its new state
        return [confirm(session, actor, fid, now=now, lang=lang) for fid in ids]
    if not ids:
        return []
    rows = {r.id: r for r in session.exec(select(Finding).where(Finding.id.in_(ids)).with_for_update()).all()}
    for fid in ids:
        if fid not in rows:
            raise NotFound("err.finding_not_found", id=fid)
    findings = [rows[fid] for fid in ids]
    companies = {c.id: c for c in session.exec(select(Company).where(Company.id.in_({r.company_id for r in findings}))).all()}
    for row in findings:
        authorize(actor, "finding.confirm", companies[row.company_id].jurisdiction)
    decisions = [lifecycle.decide(row.id, row.state, "confirm", row.rule) for row in findings]
    vehicles = {v.id: v for v in session.exec(select(Vehicle).where(Vehicle.id.in_({r.vehicle_id for r in findings}))).all()}
    # the same event may reach two findings (a run across midnight is sampled on both days): one violation
    wanted = [row for row, d in zip(findings, decisions) if d.makes_violation]
    violations = {}
    if wanted:
        for v in session.exec(select(Violation).where(Violation.vehicle_id.in_({r.vehicle_id for r in wanted}),
                                                      Violation.code.in_({f"TRJ-{r.rule}" for r in wanted}),
                                                      Violation.occurred_at.in_({r.start for r in wanted}))).all():
            violations.setdefault((v.vehicle_id, _instant(v.occurred_at), v.code), v)
    listings = {}
    for listing in session.exec(select(Listing).where(Listing.company_id.in_(companies),
                                                      Listing.state.in_([State.LISTED.value, State.UNDER_REVIEW.value]))).all():
        listings.setdefault(listing.company_id, listing)
    made = []
    for row, decision in zip(findings, decisions):
        violation = None
        if decision.makes_violation:
            code = f"TRJ-{row.rule}"
            key = (row.vehicle_id, _instant(row.start), code)
            violation = violations.get(key)
            if violation is None:
                violation = violations[key] = Violation(occurred_at=row.start, vehicle_id=row.vehicle_id, company_id=row.company_id,
                                                        driver_id=row.driver_id, code=code, points=0, source="trajectory",
                                                        record_no=f"finding-{row.id}")
                session.add(violation)
            elif violation.voided_at is not None:  # confirmed again after a reopen: the same violation counts again
                violation.voided_at, violation.void_reason = None, None
                session.add(violation)
        company = companies[row.company_id]
        listing = listings.get(company.id)
        problem = Problem(company_id=row.company_id, listing_id=listing.id if listing else None, source="finding", source_id=row.id,
                          description=t("problem.from_finding", lang, rule=t(f"rule.{row.rule}", lang),
                                        plate=vehicles[row.vehicle_id].plate, when=local_text(row.start)),
                          owner=company.name, due=(now + dt.timedelta(days=PROBLEM_DAYS)).date(), created_at=now)
        session.add(problem)
        made.append((violation, problem))
    session.flush()  # each table's rows inserted in this order: the ids confirming one by one gives
    for row, decision, (violation, problem) in zip(findings, decisions, made):
        violation_id = violation.id if violation is not None else None
        _claim(session, row, {"state": decision.state, "decided_by": actor.name, "decided_at": now,
                              "violation_id": violation_id, "problem_id": problem.id})
        audit.record(session, actor, "finding.confirm", "finding", row.id, at=now,
                     after={"violation_id": violation_id, "problem_id": problem.id, "rule": row.rule})
    session.exec(select(Finding).where(Finding.id.in_(ids)).execution_options(populate_existing=True)).all()  # refreshed
    return [session.get(Finding, fid) for fid in ids]


def _instant(when: dt.datetime) -> dt.datetime:
    """A stored time as a key: aware times in UTC without their offset, naive ones as stored."""
    return when.astimezone(dt.timezone.utc).replace(tzinfo=None) if when.tzinfo else when


def dismiss(session: Session, actor: Actor, finding_id: int, *, reason: str, now: dt.datetime) -> Finding:
    row, _ = _load(session, actor, finding_id, "dismiss")
    decision = lifecycle.decide(row.id, row.state, "dismiss", row.rule, reason)
    _claim(session, row, {"state": decision.state, "decided_by": actor.name, "decided_at": now, "reason": reason})
    session.refresh(row)
    audit.record(session, actor, "finding.dismiss", "finding", row.id, at=now, after={"reason": reason, "rule": row.rule})
    return row


