"""Each month of a cycle, each department: was the monthly inspection done, is it owed, was it
missed? (每月检查完成情况). The board, the company story, the to-do list and the terminal read
the marks from here.

Which months a cycle owes is the case engine's rule (`listing.domain.months.owed` over the cycle's
days from the confirmation on, as the acceptance checklist counts them); where the daily job has
settled a month's obligation row (owed / met / missed / waived) that state is the answer.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict

from listing.domain import months as months_owed
from listing.store.reader import DATE, Reader, query

DEPARTMENTS = months_owed.DEPARTMENTS
# done: inspected; missed: the month ended without one; owed: this month, not yet;
# not_owed: the listing covered too little of the month (or it was waived); upcoming: not begun
MARKS = ("done", "missed", "owed", "not_owed", "upcoming")
SYMBOL = {"done": "✓", "missed": "✗", "owed": "!", "not_owed": "–", "upcoming": "·"}
_FROM_OBLIGATION = {"met": "done", "missed": "missed", "waived": "not_owed"}


def months_between(start: dt.date, due: dt.date) -> list[str]:
    """Calendar months touched by the days start <= day < due."""
    return months_owed.months_between(start, due)


def month_last_day(month: str) -> dt.date:
    return months_owed.due_date(month) - dt.timedelta(days=1)


def owed_months(confirmed: dt.date, start: dt.date, due: dt.date) -> set[str]:
    """The months a cycle start <= day < due owes, counted from the confirmation (the checklist's rule)."""
    return set(months_owed.owed(max(start, confirmed), due))


def marks(months: list[str], owed: set[str], done: dict[tuple[str, str], int], settled: dict[tuple[str, str], str],
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
            elif (month, dept) in settled:
                mark = settled[(month, dept)]
            elif month in owed and month < this_month:
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


_CONFIRMED = query("""
    SELECT listing_id, MIN(start) AS start FROM cycle WHERE listing_id IN :listings GROUP BY listing_id""", start=DATE)
_INSPECTED = query("""
    SELECT company_id, department, day FROM inspection
    WHERE company_id IN :companies AND day >= :since AND day <= :today AND voided_at IS NULL""", day=DATE)
_SETTLED = query("""
    SELECT company_id, month, department, state FROM inspection_obligation
    WHERE company_id IN :companies AND state IN :states""")


def cycle_marks(db, listings_cycles: list[tuple], today: dt.date) -> dict[tuple[int, int], list[dict]]:
    """Marks for many (listing, company_id, cycle number, start, due) at once, in three queries:
    {(listing_id, cycle number): marks}. An inspection counts from the confirmation on and up to today.
    `db`: a Reader or an ORM session. The month arithmetic is done once per distinct
    (confirmation, start, due): a thousand listings opened together share it."""
    if not listings_cycles:
        return {}
    reader = Reader.of(db)
    listing_ids, company_ids = sorted({lc[0] for lc in listings_cycles}), sorted({lc[1] for lc in listings_cycles})
    earliest = min(lc[3] for lc in listings_cycles)
    confirmed = {r.listing_id: r.start for r in reader.rows(_CONFIRMED, listings=listing_ids)}
    days: dict[int, list] = defaultdict(list)
    for r in reader.rows(_INSPECTED, companies=company_ids, since=earliest.replace(day=1), today=today):
        days[r.company_id].append((r.department, r.day))
    settled: dict[int, dict] = defaultdict(dict)
    for r in reader.rows(_SETTLED, companies=company_ids, states=list(_FROM_OBLIGATION)):
        settled[r.company_id][(r.month, r.department)] = _FROM_OBLIGATION[r.state]
    calendar: dict[tuple, tuple[list[str], set[str]]] = {}
    month_of: dict[dt.date, str] = {}
    out = {}
    for lid, cid, number, start, due in listings_cycles:
        since = confirmed.get(lid, start)
        key = (since, start, due)
        if key not in calendar:
            calendar[key] = (months_between(start, due), owed_months(since, start, due))
        months, owed = calendar[key]
        done: dict[tuple[str, str], int] = defaultdict(int)
        for dept, day in days[cid]:
            if day >= since:
                month = month_of.get(day) or month_of.setdefault(day, months_owed.month_of(day))
                done[(month, dept)] += 1
        out[(lid, number)] = marks(months, owed, done, settled[cid], today)
    return out


def compact(entry: dict, labels: dict[str, str]) -> str:
    """One board cell: each department's label and symbol, e.g. 运✓警!"""
    return "".join(f"{labels[d]}{SYMBOL[entry[d]]}" for d in DEPARTMENTS)
