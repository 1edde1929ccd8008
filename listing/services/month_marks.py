"""Each month of a cycle, each department: was the monthly inspection done, is it owed, was it
missed? (每月检查完成情况). The board, the company story, the to-do list and the terminal read
the marks from here.

Which months are owed is today's rule (`review.required_months`, a month the listing covers for at
least 15 days, counted from the first confirmation). When the case engine's pure months-owed
module lands, `owed_months` is the one call to re-point.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from functools import lru_cache

from sqlmodel import Session, func, select

from listing.i18n import register
from listing.store.tables import Cycle, Inspection, InspectionMiss

register(
    {
        "mark.done": ("已检", "done"),
        "mark.missed": ("缺失", "missed"),
        "mark.owed": ("待检", "owed"),
        "mark.not_owed": ("不需", "not owed"),
        "mark.upcoming": ("未到", "upcoming"),
    }
)

DEPARTMENTS = ("transport", "police")
# done: inspected; missed: the month ended without one; owed: this month, not yet;
# not_owed: the listing covered too little of the month; upcoming: the month has not begun
MARKS = ("done", "missed", "owed", "not_owed", "upcoming")
SYMBOL = {"done": "✓", "missed": "✗", "owed": "!", "not_owed": "–", "upcoming": "·"}


def months_between(start: dt.date, end: dt.date) -> list[str]:
    """Calendar months (YYYY-MM) touched by the days start..end inclusive (the checklist's own)."""
    from listing.services.review import _months

    return _months(start, end)


def month_last_day(month: str) -> dt.date:
    from listing.services.inspections import month_bounds

    return month_bounds(month)[1]


def owed_months(confirmed: dt.date, months: list[str]) -> set[str]:
    """The months among `months` in which both departments owe an inspection."""
    return {month for month in months if _owed(confirmed, month)}


@lru_cache(maxsize=4096)
def _owed(confirmed: dt.date, month: str) -> bool:
    from listing.services.review import required_months

    first, last = dt.date.fromisoformat(month + "-01"), month_last_day(month)
    return last >= confirmed and month in required_months(max(confirmed, first), last)


def marks(months: list[str], owed: set[str], done: dict[tuple[str, str], int], missed: set[tuple[str, str]],
          today: dt.date) -> list[dict]:
    """Pure: one entry per month, {month, transport: mark, police: mark, transport_count, police_count}."""
    this_month = f"{today:%Y-%m}"
    out = []
    for month in months:
        entry = {"month": month}
        for dept in DEPARTMENTS:
            n = done.get((month, dept), 0)
            if n:
                mark = "done"
            elif (month, dept) in missed or (month in owed and month < this_month):
                mark = "missed"
            elif month > this_month:
                mark = "upcoming"
            elif month in owed:
                mark = "owed"
            else:
                mark = "not_owed"
            entry[dept], entry[f"{dept}_count"] = mark, n
        out.append(entry)
    return out


def cycle_marks(session: Session, listings_cycles: list[tuple], today: dt.date) -> dict[tuple[int, int], list[dict]]:
    """Marks for many (listing, company_id, cycle number, start, due) at once, in three queries:
    {(listing_id, cycle number): marks}."""
    if not listings_cycles:
        return {}
    listing_ids = sorted({lc[0] for lc in listings_cycles})
    company_ids = sorted({lc[1] for lc in listings_cycles})
    earliest = min(lc[3] for lc in listings_cycles)
    confirmed = dict(session.exec(select(Cycle.listing_id, func.min(Cycle.start)).where(
        Cycle.listing_id.in_(listing_ids)).group_by(Cycle.listing_id)).all())
    done: dict[int, dict] = defaultdict(lambda: defaultdict(int))
    for cid, dept, day in session.exec(select(Inspection.company_id, Inspection.department, Inspection.day).where(
            Inspection.company_id.in_(company_ids), Inspection.day >= earliest.replace(day=1))).all():
        done[cid][(f"{day:%Y-%m}", dept)] += 1
    missed: dict[int, set] = defaultdict(set)
    for lid, month, dept in session.exec(select(InspectionMiss.listing_id, InspectionMiss.month,
                                                InspectionMiss.department).where(
            InspectionMiss.listing_id.in_(listing_ids))).all():
        missed[lid].add((month, dept))
    out = {}
    for lid, cid, number, start, due in listings_cycles:
        months = months_between(start, due - dt.timedelta(days=1))
        owed = owed_months(confirmed.get(lid, start), months)
        out[(lid, number)] = marks(months, owed, done[cid], missed[lid], today)
    return out


def compact(entry: dict, labels: dict[str, str]) -> str:
    """One board cell: each department's label and symbol, e.g. 运✓警!"""
    return "".join(f"{labels[d]}{SYMBOL[entry[d]]}" for d in DEPARTMENTS)
