"""The monthly report (月度报告) leaders read: listed companies, inspections done and missed per
department, sampling volume and findings, problems, decisions — with charts (sampled violation
rate over the cycle per company; accidents before / during / after listing)."""
from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlmodel import Session, func, select

from listing.domain.policy import Actor, authorize
from listing.services.inspections import month_bounds
from listing.store.tables import (Accident, Company, Cycle, Finding, Inspection, InspectionMiss, Listing, Problem,
                                  Sample)
from listing.timeutil import LOCAL_TZ


def gather(session: Session, actor: Actor, month: str) -> dict:
    authorize(actor, "data.read")
    first, last = month_bounds(month)
    listings = session.exec(select(Listing, Company).join(Company, Company.id == Listing.company_id)
                            .where(Listing.state != "rejected", Listing.state != "proposed").order_by(Company.name)).all()
    if not actor.city_level:
        listings = [(l, c) for l, c in listings if c.jurisdiction == actor.jurisdiction]
    starts = dict(session.exec(select(Cycle.listing_id, Cycle.start).where(Cycle.number == 1)).all())
    ids = [c.id for _, c in listings]
    insp = defaultdict(lambda: {"transport": 0, "police": 0})
    for cid, dept, n in session.exec(select(Inspection.company_id, Inspection.department, func.count()).where(
            Inspection.day >= first, Inspection.day <= last).group_by(Inspection.company_id, Inspection.department)).all():
        insp[cid][dept] = n
    misses = defaultdict(list)
    for lid, dept in session.exec(select(InspectionMiss.listing_id, InspectionMiss.department).where(InspectionMiss.month == month)).all():
        misses[lid].append(dept)
    sampled = dict(session.exec(select(Sample.company_id, func.count()).where(Sample.day >= first, Sample.day <= last)
                                .group_by(Sample.company_id)).all())
    found = defaultdict(lambda: defaultdict(int))
    for cid, rule, state in session.exec(select(Finding.company_id, Finding.rule, Finding.state).where(
            Finding.day >= first, Finding.day <= last)).all():
        found[cid][state] += 1
    problems = defaultdict(lambda: {"open": 0, "verified": 0})
    for cid, state in session.exec(select(Problem.company_id, Problem.state)).all():
        problems[cid]["verified" if state == "verified" else "open"] += 1
    decisions = [{"company": c.name, "cycle": cy.number, "outcome": cy.outcome, "by": cy.decided_by,
                  "at": cy.decided_at, "reason": cy.reason}
                 for cy, l, c in session.exec(select(Cycle, Listing, Company).join(Listing, Listing.id == Cycle.listing_id)
                                              .join(Company, Company.id == Listing.company_id)).all()
                 if cy.decided_at and first <= cy.decided_at.astimezone(LOCAL_TZ).date() <= last]
    companies = []
    for listing, company in listings:
        companies.append({
            "company": company.name, "uscc": company.uscc, "jurisdiction": company.jurisdiction, "state": listing.state,
            "cycle": listing.cycle, "cycle_due": listing.cycle_due, "escalated": listing.escalated,
            "listed_since": starts.get(listing.id),
            "inspections_transport": insp[company.id]["transport"], "inspections_police": insp[company.id]["police"],
            "missed": ", ".join(sorted(misses.get(listing.id, []))),
            "sampled_vehicle_days": sampled.get(company.id, 0), "findings_suspected": found[company.id]["suspected"],
            "findings_confirmed": found[company.id]["confirmed"], "findings_dismissed": found[company.id]["dismissed"],
            "problems_open": problems[company.id]["open"], "problems_verified": problems[company.id]["verified"],
        })
    return {"month": month, "companies": companies, "decisions": decisions,
            "rate_series": _rate_series(session, listings, starts), "accidents": _accidents(session, listings, starts)}


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
                                                          Finding.state != "dismissed",
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
        end = listing.closed_at or None
        rows = session.exec(select(Accident.occurred_at).where(Accident.company_id == company.id)).all()
        before = sum(1 for t in rows if begin - dt.timedelta(days=30 * months) <= t < begin)
        during = sum(1 for t in rows if t >= begin and (end is None or t < end))
        after = sum(1 for t in rows if end is not None and t >= end)
        out.append({"company": company.name, "before": before, "during": during, "after": after})
    return out
