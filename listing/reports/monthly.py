"""The monthly report (月度报告) leaders read and pass on: a city summary first (listed, delisted,
kept, escalated; inspections done / owed / missed per department; problems opened / closed /
overdue; findings by rule; sampling coverage), then listed companies, inspections done and
missed per department, sampling volume and findings, problems, decisions — with charts (sampled
violation rate over the cycle per company; accidents before / during / after listing).

The same data and the same clock give the same report: the only time in it is the one passed in."""
from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlmodel import Session, func, select

from listing.domain.policy import Actor, authorize
from listing.reports.summary import ListingFact, MonthFacts, ProblemFact, listed_in_month, summarise
from listing.services.inspections import month_bounds
from listing.store.tables import (Accident, Company, Cycle, Finding, Inspection, InspectionMiss, Listing, Problem,
                                  Sample, Vehicle)
from listing.timeutil import LOCAL_TZ, to_local


def gather(session: Session, actor: Actor, month: str, now: dt.datetime | None = None) -> dict:
    """The report's data for `month` (YYYY-MM) as `actor` may see it. `now` (aware) is the
    report's time: inside the current month figures run to its day; without it, to month end."""
    authorize(actor, "data.read")
    first, last = month_bounds(month)
    as_of = min(last, to_local(now).date()) if now is not None else last
    rows = session.exec(select(Listing, Company).join(Company, Company.id == Listing.company_id)
                        .where(Listing.state != "rejected", Listing.state != "proposed").order_by(Company.name, Listing.id)).all()
    if not actor.city_level:
        rows = [(l, c) for l, c in rows if c.jurisdiction == actor.jurisdiction]
    starts = dict(session.exec(select(Cycle.listing_id, Cycle.start).where(Cycle.number == 1)).all())
    facts = {l.id: _listing_fact(l, starts.get(l.id)) for l, _ in rows}
    listings = [(l, c) for l, c in rows if listed_in_month(facts[l.id], first, last)]
    scope = {c.id for _, c in rows}
    summary = summarise(_month_facts(session, first, last, as_of, [facts[l.id] for l, _ in rows], scope))
    return {"month": month, "generated_at": to_local(now) if now is not None else None, "as_of": as_of,
            "summary": summary, "companies": _companies(session, month, first, last, listings, starts),
            "decisions": _decisions(session, first, last, scope),
            "rate_series": _rate_series(session, listings, starts), "accidents": _accidents(session, listings, starts)}


def _listing_fact(listing: Listing, confirmed: dt.date | None) -> ListingFact:
    closed = to_local(listing.closed_at).date() if listing.closed_at and listing.state == "delisted" else None
    return ListingFact(listing.id, listing.company_id, confirmed, closed, bool(listing.escalated))


def _day_bounds(first: dt.date, last: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The month's local days as instants [from, to)."""
    lo = dt.datetime.combine(first, dt.time(), tzinfo=LOCAL_TZ)
    hi = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tzinfo=LOCAL_TZ)
    return lo, hi


def _month_facts(session: Session, first: dt.date, last: dt.date, as_of: dt.date, listings: list[ListingFact],
                 scope: set[int]) -> MonthFacts:
    lo, hi = _day_bounds(first, last)
    ids = {f.listing_id for f in listings}
    facts = MonthFacts(first=first, last=last, as_of=as_of, listings=listings)
    facts.decisions = [(lid, outcome, to_local(at).date()) for lid, outcome, at in session.exec(
        select(Cycle.listing_id, Cycle.outcome, Cycle.decided_at).where(Cycle.decided_at >= lo, Cycle.decided_at < hi)).all()
        if lid in ids and outcome]
    facts.inspections = [r for r in session.exec(select(Inspection.company_id, Inspection.department, Inspection.day).where(
        Inspection.day >= first, Inspection.day <= last, Inspection.voided_at.is_(None))).all() if r[0] in scope]
    facts.misses = [(lid, dept) for lid, dept in session.exec(select(InspectionMiss.listing_id, InspectionMiss.department)
                                                              .where(InspectionMiss.month == f"{first:%Y-%m}")).all() if lid in ids]
    facts.problems = [ProblemFact(to_local(created).date(), to_local(verified).date() if verified else None, due)
                      for company, created, verified, due in session.exec(select(
                          Problem.company_id, Problem.created_at, Problem.verified_at, Problem.due).where(
                          Problem.created_at < hi, Problem.voided_at.is_(None))).all() if company in scope]
    facts.findings = [(rule, state) for company, rule, state in session.exec(select(
        Finding.company_id, Finding.rule, Finding.state).where(Finding.day >= first, Finding.day <= last,
                                                           Finding.voided_at.is_(None))).all()
        if company in scope]
    facts.samples = [r for r in session.exec(select(Sample.company_id, Sample.vehicle_id, Sample.day, Sample.status).where(
        Sample.day >= first, Sample.day <= last)).all() if r[0] in scope]
    facts.active_vehicles = dict(session.exec(select(Vehicle.company_id, func.count()).where(
        Vehicle.active_from <= last, (Vehicle.active_to.is_(None)) | (Vehicle.active_to >= first))
        .group_by(Vehicle.company_id)).all())
    return facts


def _companies(session: Session, month: str, first: dt.date, last: dt.date, listings, starts) -> list[dict]:
    insp = defaultdict(lambda: {"transport": 0, "police": 0})
    for cid, dept, n in session.exec(select(Inspection.company_id, Inspection.department, func.count()).where(
            Inspection.day >= first, Inspection.day <= last, Inspection.voided_at.is_(None))
            .group_by(Inspection.company_id, Inspection.department)).all():
        insp[cid][dept] = n
    misses = defaultdict(list)
    for lid, dept in session.exec(select(InspectionMiss.listing_id, InspectionMiss.department).where(InspectionMiss.month == month)).all():
        misses[lid].append(dept)
    sampled = dict(session.exec(select(Sample.company_id, func.count()).where(Sample.day >= first, Sample.day <= last)
                                .group_by(Sample.company_id)).all())
    found = defaultdict(lambda: defaultdict(int))
    for cid, state, n in session.exec(select(Finding.company_id, Finding.state, func.count()).where(
            Finding.day >= first, Finding.day <= last).group_by(Finding.company_id, Finding.state)).all():
        found[cid][state] += n
    problems = defaultdict(lambda: {"open": 0, "verified": 0})
    for cid, state, n in session.exec(select(Problem.company_id, Problem.state, func.count())
                                      .where(Problem.voided_at.is_(None))
                                      .group_by(Problem.company_id, Problem.state)).all():
        problems[cid]["verified" if state == "verified" else "open"] += n
    companies = []
    for listing, company in listings:
        companies.append({
            "company": company.name, "uscc": company.uscc, "jurisdiction": company.jurisdiction, "state": listing.state,
            "cycle": listing.cycle, "cycle_due": listing.cycle_due, "escalated": listing.escalated,
            "listed_since": starts.get(listing.id),
            "inspections_transport": insp[company.id]["transport"], "inspections_police": insp[company.id]["police"],
            "missed": sorted(misses.get(listing.id, [])),
            "sampled_vehicle_days": sampled.get(company.id, 0), "findings_suspected": found[company.id]["suspected"],
            "findings_confirmed": found[company.id]["confirmed"], "findings_dismissed": found[company.id]["dismissed"],
            "problems_open": problems[company.id]["open"], "problems_verified": problems[company.id]["verified"],
        })
    return companies


def _decisions(session: Session, first: dt.date, last: dt.date, scope: set[int]) -> list[dict]:
    lo, hi = _day_bounds(first, last)
    rows = session.exec(select(Cycle, Company).join(Listing, Listing.id == Cycle.listing_id)
                        .join(Company, Company.id == Listing.company_id)
                        .where(Cycle.decided_at >= lo, Cycle.decided_at < hi).order_by(Cycle.decided_at, Cycle.id)).all()
    return [{"company": c.name, "cycle": cy.number, "outcome": cy.outcome, "by": cy.decided_by,
             "at": to_local(cy.decided_at), "reason": cy.reason} for cy, c in rows if c.id in scope]


def _rate_series(session: Session, listings, starts) -> dict[str, list[tuple[str, float | None]]]:
    """Sampled violations per vehicle-day, by week of the current cycle, per company."""
    out = {}
    for listing, company in listings[:12]:  # a chart stays readable with a dozen lines
        start = listing.cycle_start or starts.get(listing.id)
        if not start:
            continue
        days = defaultdict(lambda: [0, 0])
        for day, status in session.exec(select(Sample.day, Sample.status).where(Sample.company_id == company.id, Sample.day >= start)).all():
            if status in ("scanned", "partial"):
                days[(day - start).days // 7][1] += 1
        for day in session.exec(select(Finding.day).where(Finding.company_id == company.id, Finding.day >= start,
                                                          Finding.state.notin_(("dismissed", "voided")),
                                                          Finding.rule.notin_(["no_data", "partial_data", "signal_gap"]))).all():
            days[(day - start).days // 7][0] += 1
        out[company.name] = [(f"W{w + 1}", (v / d) if d else None) for w, (v, d) in sorted(days.items())]
    return out


def _accidents(session: Session, listings, starts, months: int = 3) -> list[dict]:
    """Accidents in the `months` before listing, during it (until now or delisting) and after."""
    out = []
    for listing, company in listings:
        start = starts.get(listing.id)
        if not start:
            continue
        begin = dt.datetime.combine(start, dt.time(), tzinfo=LOCAL_TZ)
        end = to_local(listing.closed_at) if listing.closed_at else None
        rows = [to_local(t) for t in session.exec(select(Accident.occurred_at).where(Accident.company_id == company.id)).all()]
        before = sum(1 for t in rows if begin - dt.timedelta(days=30 * months) <= t < begin)
        during = sum(1 for t in rows if t >= begin and (end is None or t < end))
        after = sum(1 for t in rows if end is not None and t >= end)
        out.append({"company": company.name, "before": before, "during": during, "after": after})
    return out
