"""The board (挂牌企业看板): one row per open listing, built from a dozen grouped queries over the
listings in scope (never a query per company), so it stays fast with a thousand listed companies."""
from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import case, func, select
from sqlmodel import Session

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
    """One row per open listing (listed or under review) the actor may see, filtered and sorted.

    Set-based: the open listings in scope are one subquery, and each figure (inspections this
    month, days sampled, weekly rates, problems, missed months, review deadlines, month marks) is
    one grouped query over it: a dozen queries whatever the number of companies, and plain
    column tuples, no ORM objects."""
    from listing.services.month_marks import cycle_marks
    from listing.services.problem_counts import problem_counts

    authorize(actor, "data.read")
    conn = session.connection()
    scope = select(Listing.id, Listing.company_id).join(Company, Company.id == Listing.company_id).where(
        Listing.state.in_([State.LISTED.value, State.UNDER_REVIEW.value]))
    if not actor.city_level:
        scope = scope.where(Company.jurisdiction == actor.jurisdiction)
    if jurisdiction:
        scope = scope.where(Company.jurisdiction == jurisdiction)
    if state:
        scope = scope.where(Listing.state == state)
    listings = conn.execute(scope.add_columns(
        Listing.state, Listing.cycle, Listing.cycle_start, Listing.cycle_due, Listing.escalated,
        Company.name, Company.uscc, Company.jurisdiction).order_by(Company.jurisdiction, Company.name)).all()
    if search:
        needle = search.casefold()
        listings = [r for r in listings if needle in r.name.casefold() or needle in r.uscc.casefold()]
    if not listings:
        return []
    if search:  # a few companies: name them; otherwise every grouped query joins the scope
        ids, listing_ids = [r.company_id for r in listings], [r.id for r in listings]
        companies, open_listings = ids, listing_ids
    else:
        ids = [r.company_id for r in listings]
        scoped = scope.subquery()
        companies, open_listings = select(scoped.c.company_id), select(scoped.c.id)

    def grouped(query) -> list:
        return conn.execute(query).all()

    month_first = today.replace(day=1)
    inspected = defaultdict(lambda: {"transport": 0, "police": 0})
    for cid, dept, n in grouped(select(Inspection.company_id, Inspection.department, func.count())
                                .where(Inspection.company_id.in_(companies), Inspection.day >= month_first,
                                       Inspection.day <= today, Inspection.voided_at.is_(None))
                                .group_by(Inspection.company_id, Inspection.department)):
        inspected[cid][dept] = n
    # days sampled in each company's current cycle
    sampled_days = dict(grouped(select(Sample.company_id, func.count(func.distinct(Sample.day)))
                                .join(Listing, Listing.company_id == Sample.company_id)
                                .where(Listing.id.in_(open_listings), Sample.day >= Listing.cycle_start)
                                .group_by(Sample.company_id)))
    week0 = today - dt.timedelta(days=7 * WEEKS)
    vehicle_days = defaultdict(lambda: [0] * WEEKS)
    week = _week_of(Sample.day, week0)
    for cid, k, n in grouped(select(Sample.company_id, week, func.count()).where(
            Sample.company_id.in_(companies), Sample.day > week0, Sample.status.in_(["scanned", "partial"]))
            .group_by(Sample.company_id, week)):
        vehicle_days[cid][k] += n
    violations = defaultdict(lambda: [0] * WEEKS)
    week = _week_of(Finding.day, week0)
    for cid, k, n in grouped(select(Finding.company_id, week, func.count()).where(
            Finding.company_id.in_(companies), Finding.day > week0, Finding.state.notin_(NOT_COUNTED),
            Finding.rule.notin_(["no_data", "partial_data", "signal_gap"])).group_by(Finding.company_id, week)):
        violations[cid][k] += n
    problems = problem_counts(session, ids, today, among=companies)
    # months missed and not made good since (an obligation missed, then met by a late record, is met)
    misses = dict(grouped(select(InspectionObligation.listing_id, func.count()).where(
        InspectionObligation.listing_id.in_(open_listings), InspectionObligation.state == "missed")
        .group_by(InspectionObligation.listing_id)))
    review_due = dict(grouped(select(Deadline.listing_id, func.max(Deadline.due_at)).where(
        Deadline.listing_id.in_(open_listings), Deadline.kind == "review_due").group_by(Deadline.listing_id)))
    marks = cycle_marks(session, [(r.id, r.company_id, r.cycle, r.cycle_start, r.cycle_due) for r in listings
                                  if r.cycle_start and r.cycle_due], today,
                        among=(open_listings, companies))
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
