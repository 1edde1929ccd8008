"""The city summary that opens the monthly report (全市概况): the figures a leader reads first.

Pure: the facts of one month come in as plain rows (loaded by monthly.py), the counts go out.
Nothing here reads the database or the clock.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from listing.domain import months as months_owed

DEPARTMENTS = ("transport", "police")
WITH_DATA = ("scanned", "partial")  # a sample whose trajectory was read (no_data / failed are not)


@dataclass(frozen=True)
class ListingFact:
    listing_id: int
    company_id: int
    confirmed: dt.date | None  # first day of cycle 1 (None: never confirmed)
    closed: dt.date | None  # local day it was delisted, if it was
    escalated: bool


@dataclass(frozen=True)
class ProblemFact:
    created: dt.date  # local days
    verified: dt.date | None
    due: dt.date | None


@dataclass
class MonthFacts:
    first: dt.date  # the month's first and last local day
    last: dt.date
    as_of: dt.date  # the last day counted (the month's end, or today inside the current month)
    listings: list[ListingFact] = field(default_factory=list)
    decisions: list[tuple[int, str, dt.date]] = field(default_factory=list)  # (listing, pass/fail, local day)
    inspections: list[tuple[int, str, dt.date]] = field(default_factory=list)  # (company, department, day)
    misses: list[tuple[int, str]] = field(default_factory=list)  # (listing, department) recorded for the month
    problems: list[ProblemFact] = field(default_factory=list)
    findings: list[tuple[str, str]] = field(default_factory=list)  # (rule, state) of the month's findings
    samples: list[tuple[int, int, dt.date, str]] = field(default_factory=list)  # (company, vehicle, day, status)
    active_vehicles: dict[int, int] = field(default_factory=dict)  # company -> vehicles active in the month


def listed_in_month(f: ListingFact, first: dt.date, last: dt.date) -> bool:
    """Listed on at least one day of the month."""
    return f.confirmed is not None and f.confirmed <= last and (f.closed is None or f.closed >= first)


def _owes(f: ListingFact, first: dt.date, last: dt.date) -> bool:
    """The acceptance checklist's rule: a month is owed when the listing covered enough of it."""
    end = min(last, f.closed) if f.closed else last
    return listed_in_month(f, first, last) and \
        f"{first:%Y-%m}" in months_owed.owed(max(f.confirmed, first), end + dt.timedelta(days=1))


def summarise(facts: MonthFacts) -> dict:
    first, last, as_of = facts.first, facts.last, facts.as_of
    month = [f for f in facts.listings if listed_in_month(f, first, last)]
    outcomes = Counter(outcome for _, outcome, _ in facts.decisions)
    decided_fail = {lid for lid, outcome, _ in facts.decisions if outcome == "fail"}
    listings = {
        "listed": len(month),
        "newly_listed": sum(1 for f in month if f.confirmed >= first),
        "delisted": outcomes["pass"],
        "kept": outcomes["fail"],
        "escalated": sum(1 for f in month if f.escalated and (f.listing_id in decided_fail or f.closed is None)),
        "listed_at_end": sum(1 for f in month if f.closed is None or f.closed > as_of),
    }
    owed = {d: {f.company_id for f in month if _owes(f, first, last)} for d in DEPARTMENTS}
    visited = {d: {c for c, dept, _ in facts.inspections if dept == d} for d in DEPARTMENTS}
    missed = Counter(dept for _, dept in facts.misses)
    inspections = {d: {"done": len(owed[d] & visited[d]), "owed": len(owed[d]), "missed": missed[d],
                       "inspections": sum(1 for _, dept, _ in facts.inspections if dept == d)} for d in DEPARTMENTS}
    problems = {
        "opened": sum(1 for p in facts.problems if first <= p.created <= last),
        "closed": sum(1 for p in facts.problems if p.verified is not None and first <= p.verified <= last),
        "open_at_end": sum(1 for p in facts.problems if p.created <= as_of and (p.verified is None or p.verified > as_of)),
        "overdue": sum(1 for p in facts.problems if p.created <= as_of and (p.verified is None or p.verified > as_of)
                       and p.due is not None and p.due < as_of),
    }
    by_rule: dict[str, Counter] = {}
    for rule, state in facts.findings:
        by_rule.setdefault(rule, Counter())[state] += 1
    findings = [{"rule": rule, "total": sum(c.values()), "confirmed": c["confirmed"], "dismissed": c["dismissed"],
                 "suspected": c["suspected"]} for rule, c in sorted(by_rule.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))]
    return {"listings": listings, "inspections": inspections, "problems": problems, "findings": findings,
            "sampling": _sampling(facts, month)}


def _sampling(facts: MonthFacts, month: list[ListingFact]) -> dict:
    """Vehicle-days sampled and read, and days on which each listed company was sampled out of
    the days it was listed (the checklist's coverage), summed over the city."""
    first, as_of = facts.first, min(facts.last, facts.as_of)
    listed_days = 0
    for f in month:
        start, end = max(f.confirmed, first), min(as_of, f.closed or as_of)
        listed_days += max(0, (end - start).days + 1)
    days = {(c, d) for c, _, d, _ in facts.samples}
    with_data = sum(1 for *_, status in facts.samples if status in WITH_DATA)
    vehicles = {(c, v) for c, v, _, _ in facts.samples}
    active = sum(facts.active_vehicles.get(f.company_id, 0) for f in {f.company_id: f for f in month}.values())
    return {"vehicle_days": len(facts.samples), "with_data": with_data, "without_data": len(facts.samples) - with_data,
            "company_days_sampled": len(days), "company_days_listed": listed_days,
            "coverage": round(len(days) / listed_days, 3) if listed_days else None,
            "vehicles_sampled": len(vehicles), "vehicles_active": active}
