"""The board (挂牌企业看板): one row per open listing, built from a handful of grouped queries
(never a query per company), so it stays fast with a thousand listed companies."""
from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import case
from sqlmodel import Session, func, select

from listing.domain.findings import NOT_COUNTED
from listing.domain.policy import Actor, authorize
from listing.domain.states import State
from listing.store.tables import (
    Company,
    Deadline,
    Finding,
    Inspection,
    InspectionObligation,
    Listing,
    Sample,
)
from listing.timeutil import to_local

SPARK = "▁▂▃▄▅▆▇█"
WEEKS = 8


def sparkline(values: list[float | None]) -> str:
    present = [v for v in values if v is not None]
    if not present:
        return "·" * len(values)
    top = max(present) or 1.0
    return "".join("·" if v is None else SPARK[min(int(v / top * (len(SPARK) - 1) + 0.5), len(SPARK) - 1)] for v in values)


def _week_of(day_column, week0: dt.date):
    """The week (0..WEEKS-1) after `week0` a day falls in, computed by the database (portable
    CASE), so the trend is grouped there rather than fetched a row per vehicle-day."""
    return case(*((day_column > week0 + dt.timedelta(days=7 * k), k) for k in range(WEEKS - 1, 0, -1)), else_=0)


SORTS = ("days", "name", "colour", "problems", "coverage", "jurisdiction")
COLOURS = ("red", "yellow", "green")
_COLOUR_RANK = {"red": 0, "yellow": 1, "green": 2}


def board(session: Session, actor: Actor, today: dt.date, jurisdiction: str | None = None, *,
          colour: str | None = None, state: str | None = None, search: str | None = None,
          sort: str = "jurisdiction") -> list[dict]:
    """One row per open listing (listed or under review) the actor may see, filtered and sorted."""
    from listing.services.month_marks import cycle_marks
    from listing.services.problem_counts import problem_counts

    authorize(actor, "data.read")
    query = select(Listing, Company).join(Company, Company.id == Listing.company_id).where(
        Listing.state.in_([State.LISTED.value, State.UNDER_REVIEW.value]))
    if not actor.city_level:
        query = query.where(Company.jurisdiction == actor.jurisdiction)
    if jurisdiction:
        query = query.where(Company.jurisdiction == jurisdiction)
    if state:
        query = query.where(Listing.state == state)
    pairs = session.exec(query.order_by(Company.jurisdiction, Company.name)).all()
    if search:
        needle = search.casefold()
        pairs = [(l, c) for l, c in pairs if needle in c.name.casefold() or needle in c.uscc.casefold()]
    if not pairs:
        return []
    ids = [c.id for _, c in pairs]
    month_first = today.replace(day=1)
    inspected = defaultdict(lambda: {"transport": 0, "police": 0})
    for cid, dept, n in session.exec(select(Inspection.company_id, Inspection.department, func.count())
                                     .where(Inspection.company_id.in_(ids), Inspection.day >= month_first, Inspection.day <= today,
                                            Inspection.voided_at.is_(None))
                                     .group_by(Inspection.company_id, Inspection.department)).all():
        inspected[cid][dept] = n
    listing_ids = [l.id for l, _ in pairs]
    # days sampled in each company's current cycle (one grouped query)
    sampled_days = dict(session.exec(select(Sample.company_id, func.count(func.distinct(Sample.day)))
                                     .join(Listing, Listing.company_id == Sample.company_id)
                                     .where(Listing.id.in_(listing_ids), Sample.day >= Listing.cycle_start)
                                     .group_by(Sample.company_id)).all())
    week0 = today - dt.timedelta(days=7 * WEEKS)
    vehicle_days = defaultdict(lambda: [0] * WEEKS)
    week = _week_of(Sample.day, week0)
    for cid, k, n in session.connection().execute(select(Sample.company_id, week, func.count()).where(
            Sample.company_id.in_(ids), Sample.day > week0, Sample.status.in_(["scanned", "partial"]))
            .group_by(Sample.company_id, week)).all():
        vehicle_days[cid][k] += n
    violations = defaultdict(lambda: [0] * WEEKS)
    week = _week_of(Finding.day, week0)
    for cid, k, n in session.connection().execute(select(Finding.company_id, week, func.count()).where(
            Finding.company_id.in_(ids), Finding.day > week0, Finding.state.notin_(NOT_COUNTED),
            Finding.rule.notin_(["no_data", "partial_data", "signal_gap"])).group_by(Finding.company_id, week)).all():
        violations[cid][k] += n
    problems = problem_counts(session, ids, today)
    # months missed and not made good since (an obligation missed, then met by a late record, is met)
    misses = dict(session.exec(select(InspectionObligation.listing_id, func.count()).where(
        InspectionObligation.listing_id.in_(listing_ids), InspectionObligation.state == "missed")
        .group_by(InspectionObligation.listing_id)).all())
    review_due = dict(session.exec(select(Deadline.listing_id, func.max(Deadline.due_at)).where(
        Deadline.listing_id.in_(listing_ids), Deadline.kind == "review_due").group_by(Deadline.listing_id)).all())
    marks = cycle_marks(session, [(l.id, c.id, l.cycle, l.cycle_start, l.cycle_due) for l, c in pairs
                                  if l.cycle_start and l.cycle_due], today)
    rows = []
    for listing, company in pairs:
        start = listing.cycle_start or today
        elapsed = (min(today, listing.cycle_due or today) - start).days  # complete days so far
        coverage = min(sampled_days.get(company.id, 0) / elapsed, 1.0) if elapsed >= 1 else 1.0
        rates = [(v / d if d else None) for v, d in zip(violations[company.id], vehicle_days[company.id])]
        insp = inspected[company.id]
        days_left = (listing.cycle_due - today).days if listing.cycle_due else None
        review_date = listing.cycle_due
        if listing.state == State.UNDER_REVIEW.value and listing.id in review_due:
            review_date = to_local(review_due[listing.id]).date()
        missed = misses.get(listing.id, 0)
        pc = problems[company.id]
        ready = (listing.state == State.UNDER_REVIEW.value or (days_left is not None and days_left <= 14)) and \
            missed == 0 and pc.open == 0 and coverage >= 0.9
        late_month = today.day >= 20 and (insp["transport"] == 0 or insp["police"] == 0)
        colour_ = ("red" if listing.escalated or pc.overdue or missed or coverage < 0.5
                   else "yellow" if late_month or pc.open or coverage < 0.9 else "green")
        rows.append({
            "listing_id": listing.id, "company": company.name, "uscc": company.uscc, "jurisdiction": company.jurisdiction,
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
