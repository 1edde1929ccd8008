"""The board (挂牌企业看板): one row per open listing, built from a dozen grouped queries over the
listings in scope (never a query per company), so it stays fast with a thousand listed companies."""
from __future__ import annotations

import datetime as dt
from collections import defaultdict

from listing.domain.findings import NOT_COUNTED
from listing.domain.policy import Actor, authorize
from listing.domain.states import State
from listing.store.reader import BOOL, DATE, TIME, Query, Reader, query
from listing.timeutil import to_local

SPARK = "▁▂▃▄▅▆▇█"
WEEKS = 8


def sparkline(values: list[float | None]) -> str:
    present = [v for v in values if v is not None]
    if not present:
        return "·" * len(values)
    top = max(present) or 1.0
    return "".join("·" if v is None else SPARK[min(int(v / top * (len(SPARK) - 1) + 0.5), len(SPARK) - 1)] for v in values)


def _week_of(column: str) -> str:
    """The week (0..WEEKS-1) after `:week0` a day falls in, computed by the database (a portable
    CASE over :week1 .. :week7), so the trend is grouped there rather than fetched a row per vehicle-day."""
    return "CASE " + " ".join(f"WHEN {column} > :week{k} THEN {k}" for k in range(WEEKS - 1, 0, -1)) + " ELSE 0 END"


_SCOPE = query("""
    SELECT l.id, l.company_id, l.state, l.cycle, l.cycle_start, l.cycle_due, l.escalated,
           c.name, c.uscc, c.jurisdiction
    FROM listing l JOIN company c ON c.id = l.company_id
    WHERE l.state IN :open AND (:everywhere OR c.jurisdiction = :own)
      AND (:jurisdiction IS NULL OR c.jurisdiction = :jurisdiction) AND (:state IS NULL OR l.state = :state)
    ORDER BY c.jurisdiction, c.name""", cycle_start=DATE, cycle_due=DATE, escalated=BOOL)
_INSPECTED = query("""
    SELECT company_id, department, COUNT(*) AS n FROM inspection
    WHERE company_id IN :companies AND day >= :month_first AND day <= :today AND voided_at IS NULL
    GROUP BY company_id, department""")
_SAMPLED_DAYS = query("""
    SELECT s.company_id, COUNT(DISTINCT s.day) AS n FROM sample s JOIN listing l ON l.company_id = s.company_id
    WHERE l.id IN :listings AND s.day >= l.cycle_start GROUP BY s.company_id""")
_VEHICLE_DAYS = query(f"""
    SELECT company_id, {_week_of("day")} AS week, COUNT(*) AS n FROM sample
    WHERE company_id IN :companies AND day > :week0 AND status IN ('scanned', 'partial') GROUP BY 1, 2""")
_VIOLATIONS = query(f"""
    SELECT company_id, {_week_of("day")} AS week, COUNT(*) AS n FROM finding
    WHERE company_id IN :companies AND day > :week0 AND state NOT IN :not_counted
      AND rule NOT IN ('no_data', 'partial_data', 'signal_gap') GROUP BY 1, 2""")
_MISSES = query("""
    SELECT listing_id, COUNT(*) AS n FROM inspection_obligation
    WHERE listing_id IN :listings AND state = 'missed' GROUP BY listing_id""")
_REVIEW_DUE = query("""
    SELECT listing_id, MAX(due_at) AS due_at FROM deadline
    WHERE listing_id IN :listings AND kind = 'review_due' GROUP BY listing_id""", due_at=TIME)


SORTS = ("days", "name", "colour", "problems", "coverage", "jurisdiction")
COLOURS = ("red", "yellow", "green")
_COLOUR_RANK = {"red": 0, "yellow": 1, "green": 2}


def board(db, actor: Actor, today: dt.date, jurisdiction: str | None = None, *,
          colour: str | None = None, state: str | None = None, search: str | None = None,
          sort: str = "jurisdiction") -> list[dict]:
    """One row per open listing (listed or under review) the actor may see, filtered and sorted.

    Set-based: the open listings in scope are one query, and each figure (inspections this
    month, days sampled, weekly rates, problems, missed months, review deadlines, month marks) is
    one grouped query over their ids: a dozen queries whatever the number of companies, read
    without the ORM (listing.store.reader). `db`: a Reader or an ORM session."""
    from listing.services.month_marks import cycle_marks
    from listing.services.problem_counts import problem_counts

    authorize(actor, "data.read")
    reader = Reader.of(db)
    listings = reader.rows(_SCOPE, open=[State.LISTED.value, State.UNDER_REVIEW.value], everywhere=actor.city_level,
                           own=actor.jurisdiction, jurisdiction=jurisdiction or None, state=state or None)
    if search:  # a part of the name or code as typed; if none has it, the name by sound (路杰, lujie, ljwl)
        needle = search.casefold()
        typed = [r for r in listings if needle in r.name.casefold() or needle in r.uscc.casefold()]
        if not typed:
            from listing.services.read.companies import sounding

            heard = sounding(search, {r.id: r.name for r in listings})
            typed = [r for r in listings if r.id in heard]
        listings = typed
    if not listings:
        return []
    ids, listing_ids = [r.company_id for r in listings], [r.id for r in listings]

    def grouped(q: Query, **params) -> list[tuple]:
        return [tuple(r.values()) for r in reader.rows(q, **params)]

    month_first = today.replace(day=1)
    inspected = defaultdict(lambda: {"transport": 0, "police": 0})
    for cid, dept, n in grouped(_INSPECTED, companies=ids, month_first=month_first, today=today):
        inspected[cid][dept] = n
    sampled_days = dict(grouped(_SAMPLED_DAYS, listings=listing_ids))  # days sampled in each current cycle
    week0 = today - dt.timedelta(days=7 * WEEKS)
    weeks = {f"week{k}": week0 + dt.timedelta(days=7 * k) for k in range(WEEKS)}
    vehicle_days = defaultdict(lambda: [0] * WEEKS)
    for cid, k, n in grouped(_VEHICLE_DAYS, companies=ids, **weeks):
        vehicle_days[cid][k] += n
    violations = defaultdict(lambda: [0] * WEEKS)
    for cid, k, n in grouped(_VIOLATIONS, companies=ids, not_counted=list(NOT_COUNTED), **weeks):
        violations[cid][k] += n
    problems = problem_counts(reader, ids, today)
    # months missed and not made good since (an obligation missed, then met by a late record, is met)
    misses = dict(grouped(_MISSES, listings=listing_ids))
    review_due = dict(grouped(_REVIEW_DUE, listings=listing_ids))
    marks = cycle_marks(reader, [(r.id, r.company_id, r.cycle, r.cycle_start, r.cycle_due) for r in listings
                                 if r.cycle_start and r.cycle_due], today)
    rows = []
    for listing in listings:
        cid = listing.company_id
        start = listing.cycle_start or today
        elapsed = (min(today, listing.cycle_due or today) - start).days  # complete days so far
        coverage = min(sampled_days.get(cid, 0) / elapsed, 1.0) if elapsed >= 1 else 1.0
        rates = [(v / d if d else None) for v, d in zip(violations[cid], vehicle_days[cid])]
        insp = inspected[cid]
        days_left = (listing.cycle_due - today).days if listing.cycle_due else None
        review_date = listing.cycle_due
        if listing.state == State.UNDER_REVIEW.value and listing.id in review_due:
            review_date = to_local(review_due[listing.id]).date()
        missed = misses.get(listing.id, 0)
        pc = problems[cid]
        ready = (listing.state == State.UNDER_REVIEW.value or (days_left is not None and days_left <= 14)) and \
            missed == 0 and pc.open == 0 and coverage >= 0.9
        late_month = today.day >= 20 and (insp["transport"] == 0 or insp["police"] == 0)
        colour_ = ("red" if listing.escalated or pc.overdue or missed or coverage < 0.5
                   else "yellow" if late_month or pc.open or coverage < 0.9 else "green")
        rows.append({
            "listing_id": listing.id, "company": listing.name, "uscc": listing.uscc, "jurisdiction": listing.jurisdiction,
            "state": listing.state, "cycle": listing.cycle, "cycle_start": listing.cycle_start, "cycle_due": listing.cycle_due,
            "days_left": days_left, "review_date": review_date,
            "days_to_review": (review_date - today).days if review_date else None,
            "inspections_transport": insp["transport"], "inspections_police": insp["police"],
            "months": marks.get((listing.id, listing.cycle), []),
            "missed_inspection_months": missed, "sampling_coverage": round(coverage, 3),
            "violation_rate_weekly": [None if r is None else round(r, 3) for r in rates], "trend": sparkline(rates),
            "open_problems": pc.open, "overdue_problems": pc.overdue, "problems_awaiting_verification": pc.awaiting_verification,
            "escalated": listing.escalated, "ready_for_acceptance": ready, "colour": colour_,
        })
    if colour:
        rows = [r for r in rows if r["colour"] == colour]
    return sort_rows(rows, sort)


def sort_rows(rows: list[dict], sort: str) -> list[dict]:
    far = 10 ** 6
    keys = {
        "days": lambda r: (r["days_to_review"] if r["days_to_review"] is not None else far, r["company"]),
        "name": lambda r: r["company"],
        "colour": lambda r: (_COLOUR_RANK[r["colour"]], r["days_to_review"] if r["days_to_review"] is not None else far),
        "problems": lambda r: (-r["overdue_problems"], -r["open_problems"], r["company"]),
        "coverage": lambda r: (r["sampling_coverage"], r["company"]),
        "jurisdiction": lambda r: (r["jurisdiction"], r["company"]),
    }
    return sorted(rows, key=keys[sort])
