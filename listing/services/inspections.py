"""Monthly safety inspections (每月开展一次以上安全检查) by the transport bureau and the police:
recording them, listing them, and the daily tracking that reminds before month end and
records a miss after it."""
from __future__ import annotations

import datetime as dt
from bisect import bisect_left
from collections import defaultdict

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, func, select

from listing.dates import not_after_today
from listing.domain import months
from listing.domain.policy import Actor, authorize
from listing.domain.states import State
from listing.services import audit
from listing.services.notifications import Channel, queue_notice
from listing.services.read.cycles import confirmed_on  # noqa: F401 - re-exported
from listing.services.read.inspections import list_inspections, month_bounds  # noqa: F401 - re-exported
from listing.store.tables import (
    Company,
    Cycle,
    Inspection,
    InspectionMiss,
    InspectionObligation,
    Listing,
    Problem,
)
from listing.timeutil import LOCAL_TZ, to_local
from messages.errors import NotFound, ValidationError

DEPARTMENTS = months.DEPARTMENTS
RECENTLY_CLOSED = dt.timedelta(days=120)


def _company(session: Session, ref: str) -> Company:
    company = session.exec(select(Company).where(Company.uscc == ref)).first()
    if company is None and ref.isdigit() and len(ref) < 18:  # an id; an all-digit USCC is not one
        company = session.get(Company, int(ref))
    if company is None:
        raise NotFound("err.company_unknown", company=ref)
    return company


def open_listing(session: Session, company_id: int) -> Listing | None:
    return session.exec(select(Listing).where(Listing.company_id == company_id,
                                              Listing.state.in_([State.LISTED.value, State.UNDER_REVIEW.value]))).first()


def record(session: Session, actor: Actor, company_ref: str, department: str, day: dt.date, *, now: dt.datetime,
           notes: str | None = None, findings: list[str] = (), problems: list[tuple[str, dt.date | None]] = ()) -> Inspection:
    """Record an inspection; the inspector's role must match the department. Problems found
    open on the company's problem list (问题清单)."""
    if department not in DEPARTMENTS:
        raise ValidationError("err.department")
    not_after_today(day, to_local(now).date())
    company = _company(session, company_ref)
    authorize(actor, f"inspection.record.{department}", company.jurisdiction)
    row = new_row(session, company, department, day, actor.name, now=now, notes=notes, findings=findings)
    listing = row.listing_id  # None: not listed (or dated before the confirmation)
    for text, due in problems:
        session.add(Problem(company_id=company.id, listing_id=row.listing_id, source="inspection", source_id=row.id,
                            description=text, owner=company.name, due=due, created_at=now))
    audit.record(session, actor, "inspection.record", "inspection", row.id, at=now, after={
        "company": company.uscc, "department": department, "day": day.isoformat(), "findings": list(findings),
        "problems": [p[0] for p in problems], "company_not_listed": listing is None})
    return row


def same_day(session: Session, row: Inspection) -> list[int]:
    """The other inspections in force of the same company by the same department on the same day:
    usually the same visit recorded twice (a command run again), sometimes a second visit. The
    CLI names them so that a repeat can be voided at once."""
    return list(session.exec(select(Inspection.id).where(
        Inspection.company_id == row.company_id, Inspection.department == row.department, Inspection.day == row.day,
        Inspection.voided_at.is_(None), Inspection.id != row.id).order_by(Inspection.id)))


def new_row(session: Session, company: Company, department: str, day: dt.date, inspector: str, *, now: dt.datetime,
            notes: str | None = None, findings=(), corrects_id: int | None = None) -> Inspection:
    """An inspection row, tied to the company's open listing when it counts for it."""
    listing = open_listing(session, company.id)
    if listing is not None and day < (confirmed_on(session, listing.id) or day):
        listing = None  # dated before the confirmation: it does not count for this listing
    row = Inspection(company_id=company.id, listing_id=listing.id if listing else None, department=department,
                     inspector=inspector, day=day, notes=notes, findings=list(findings or []),
                     company_not_listed=listing is None, recorded_at=now, corrects_id=corrects_id)
    session.add(row)
    session.flush()
    return row


def ended_on(session: Session, listing: Listing) -> dt.date | None:
    """The day a closed listing stopped being supervised: the reviewer's decision (inspections
    stay owed while a review is pending, the company is still listed); None while it is open."""
    if listing.state in (State.LISTED.value, State.UNDER_REVIEW.value) or listing.closed_at is None:
        return None
    return to_local(listing.closed_at).date()


def _inspected(session: Session, company_id: int, department: str, month: str, since: dt.date, today: dt.date) -> bool:
    first = months.first_day(month)
    last = months.due_date(month) - dt.timedelta(days=1)
    return session.exec(select(func.count()).select_from(Inspection).where(
        Inspection.company_id == company_id, Inspection.department == department, Inspection.voided_at.is_(None),
        Inspection.day >= max(first, since), Inspection.day <= min(last, today))).one() > 0


def _open_obligations(session: Session, listing: Listing, company: Company, today: dt.date, now: dt.datetime,
                      start: dt.date | None, have: set) -> None:
    """Create the obligation rows of every month this listing owes up to today's month. `start`
    is its confirmation day, `have` the company's (month, department) obligations (kept up to
    date here)."""
    if start is None:
        return
    for month in months.owed_while_listed(start, ended_on(session, listing), today):
        for dept in DEPARTMENTS:
            if (month, dept) in have:
                continue
            due_at = dt.datetime.combine(months.due_date(month), dt.time(), tzinfo=LOCAL_TZ)
            try:  # a second scheduler running another day may create it at the same moment
                with session.begin_nested():
                    session.add(InspectionObligation(company_id=company.id, listing_id=listing.id, month=month,
                                                     department=dept, due_at=due_at, state=months.Obligation.OWED.value,
                                                     created_at=now))
            except IntegrityError:
                pass
            have.add((month, dept))


def _confirmed(session: Session, listing_ids) -> dict[int, dt.date]:
    """Each listing's confirmation day (the start of its cycle 1), one query for all."""
    ids = sorted(set(listing_ids))
    if not ids:
        return {}
    return dict(session.exec(select(Cycle.listing_id, Cycle.start).where(Cycle.number == 1, Cycle.listing_id.in_(ids))).all())


def _inspection_days(session: Session, company_ids, since: dt.date) -> dict[tuple[int, str], list[dt.date]]:
    """The days of the companies' inspections that count (not voided) from `since` on, sorted,
    by (company, department): one query for all."""
    ids = sorted(set(company_ids))
    days = defaultdict(list)
    if ids:
        for cid, dept, day in session.exec(select(Inspection.company_id, Inspection.department, Inspection.day).where(
                Inspection.company_id.in_(ids), Inspection.voided_at.is_(None), Inspection.day >= since)
                .order_by(Inspection.day)).all():
            days[(cid, dept)].append(day)
    return days


def _any_between(days: list[dt.date], lo: dt.date, hi: dt.date) -> bool:
    i = bisect_left(days, lo)
    return i < len(days) and days[i] <= hi


def track(session: Session, day: dt.date, channel: Channel, *, now: dt.datetime, remind_from_day: int = 20,
          lang: str = "zh") -> dict:
    """The daily check for local date `day`: create the obligation row of every month owed (also
    for months the job was not running in), settle each open obligation (met, missed once it has
    fallen due, waived when the listing ended before the month was owed), and remind before
    month end for owed months only."""
    from messages import t

    listed = session.exec(select(Listing, Company).join(Company, Company.id == Listing.company_id).where(
        Listing.state.in_([State.LISTED.value, State.UNDER_REVIEW.value]))).all()
    # and listings closed lately: a month owed before the delisting took effect is owed even
    # when the job did not run while the listing was open (scheduler stopped for weeks)
    recent = session.exec(select(Listing, Company).join(Company, Company.id == Listing.company_id).where(
        Listing.state == State.DELISTED.value, Listing.closed_at >= now - RECENTLY_CLOSED)).all()
    supervised = [*listed, *recent]
    started = _confirmed(session, [listing.id for listing, _ in supervised])
    have = defaultdict(set)
    if supervised:
        for cid, month, dept in session.exec(select(InspectionObligation.company_id, InspectionObligation.month,
                                                    InspectionObligation.department).where(
                InspectionObligation.company_id.in_(sorted({company.id for _, company in supervised})))).all():
            have[cid].add((month, dept))
    for listing, company in supervised:
        _open_obligations(session, listing, company, day, now, started.get(listing.id), have[company.id])
    pending = session.exec(select(InspectionObligation, Listing, Company)
                           .join(Listing, Listing.id == InspectionObligation.listing_id)
                           .join(Company, Company.id == InspectionObligation.company_id)
                           .where(InspectionObligation.state.in_([months.Obligation.OWED.value, months.Obligation.MISSED.value]))
                           .order_by(InspectionObligation.month, InspectionObligation.id)).all()
    reminders = misses = 0
    # set-based: the confirmation days and the inspections of every pending obligation, two queries
    started = {**started, **_confirmed(session, {listing.id for _, listing, _ in pending} - started.keys())}
    inspected = _inspection_days(session, {company.id for _, _, company in pending},
                                 min((months.first_day(ob.month) for ob, _, _ in pending), default=day))
    for ob, listing, company in pending:
        since = started.get(listing.id)
        end = ended_on(session, listing)
        still_owed = end is None or ob.month in months.owed(since, end)
        old = months.Obligation(ob.state)
        met = _any_between(inspected.get((company.id, ob.department), []), max(months.first_day(ob.month), since),
                           min(months.due_date(ob.month) - dt.timedelta(days=1), day))  # as _inspected, for all at once
        new = months.settle(old, ob.month, met, day, still_owed)
        dept_label = t(f"dept.{ob.department}", lang)
        if new is not old:
            # compare-and-set: of two schedulers settling the same month, one writes it
            won = session.execute(update(InspectionObligation).where(
                InspectionObligation.id == ob.id, InspectionObligation.state == old.value)
                .values(state=new.value, settled_at=now).execution_options(synchronize_session=False)).rowcount
            if not won:
                continue
            audit.record(session, "system", f"inspection.{new.value}", "listing", listing.id, at=now,
                         before={"state": old.value}, after={"month": ob.month, "department": ob.department,
                                                             "company": company.uscc, "state": new.value})
        if new is months.Obligation.MISSED and old is months.Obligation.OWED:
            try:  # recorded before this upgrade already: one miss
                with session.begin_nested():
                    session.add(InspectionMiss(listing_id=listing.id, company_id=company.id, month=ob.month,
                                               department=ob.department, recorded_at=now))
            except IntegrityError:
                pass
            misses += 1
            queue_notice(session, channel, f"miss:{listing.id}:{ob.month}:{ob.department}", t("notify.miss.title", lang),
                        t("notify.miss.text", lang, company=company.name, department=dept_label, month=ob.month), now=now)
        elif months.reminder_due(new, ob.month, day, remind_from_day):
            reminders += queue_notice(session, channel, f"remind:{listing.id}:{ob.month}:{ob.department}",
                                     t("notify.remind.title", lang),
                                     t("notify.remind.text", lang, company=company.name, department=dept_label,
                                       month=ob.month), now=now)
        session.flush()
    return {"day": day, "listed": len(listed), "reminders": reminders, "misses": misses}
