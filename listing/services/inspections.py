"""Monthly safety inspections (每月开展一次以上安全检查) by the transport bureau and the police:
recording them, listing them, and the daily tracking that reminds before month end and
records a miss after it."""
from __future__ import annotations

import calendar
import datetime as dt

from sqlmodel import Session, func, select

from listing.domain.policy import Actor, authorize
from listing.domain.states import State
from listing.errors import NotFound, ValidationError
from listing.i18n import register
from listing.services import audit
from listing.services.notifications import Channel, notify_once
from listing.store.tables import Company, Cycle, Inspection, InspectionMiss, Listing, Problem

register(
    {
        "err.department": ("部门应为 transport 或 police", "department must be transport or police"),
        "err.company_unknown": ("企业 {company} 不存在", "no company {company}"),
        "msg.inspection_recorded": ("已记录检查 {id}({company},{department},{day})", "inspection {id} recorded ({company}, {department}, {day})"),
        "msg.inspection_not_listed": ("注意:该企业目前未挂牌整治", "note: this company is not currently listed"),
        "notify.remind.title": ("月度检查提醒", "Monthly inspection reminder"),
        "notify.remind.text": ("{company}:{department} 本月({month})尚未检查,请于月底前完成", "{company}: no {department} inspection yet this month ({month}); due by month end"),
        "notify.miss.title": ("月度检查缺失", "Monthly inspection missed"),
        "notify.miss.text": ("{company}:{department} 在 {month} 未开展检查", "{company}: no {department} inspection in {month}"),
        "dept.transport": ("运管", "transport"),
        "dept.police": ("交警", "police"),
    }
)

DEPARTMENTS = ("transport", "police")


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
    company = _company(session, company_ref)
    authorize(actor, f"inspection.record.{department}", company.jurisdiction)
    listing = open_listing(session, company.id)
    row = Inspection(company_id=company.id, listing_id=listing.id if listing else None, department=department,
                     inspector=actor.name, day=day, notes=notes, findings=list(findings),
                     company_not_listed=listing is None, recorded_at=now)
    session.add(row)
    session.flush()
    for text, due in problems:
        session.add(Problem(company_id=company.id, listing_id=row.listing_id, source="inspection", source_id=row.id,
                            description=text, owner=company.name, due=due, created_at=now))
    audit.record(session, actor, "inspection.record", "inspection", row.id, at=now, after={
        "company": company.uscc, "department": department, "day": day.isoformat(), "findings": list(findings),
        "problems": [p[0] for p in problems], "company_not_listed": listing is None})
    return row


def month_bounds(month: str) -> tuple[dt.date, dt.date]:
    year, mon = map(int, month.split("-"))
    return dt.date(year, mon, 1), dt.date(year, mon, calendar.monthrange(year, mon)[1])


def list_inspections(session: Session, actor: Actor, month: str | None = None) -> list[dict]:
    authorize(actor, "data.read")
    query = select(Inspection, Company).join(Company, Company.id == Inspection.company_id).order_by(Inspection.day, Inspection.id)
    if month:
        first, last = month_bounds(month)
        query = query.where(Inspection.day >= first, Inspection.day <= last)
    if not actor.city_level:
        query = query.where(Company.jurisdiction == actor.jurisdiction)
    return [{"id": i.id, "day": i.day, "company": c.name, "uscc": c.uscc, "department": i.department,
             "inspector": i.inspector, "findings": i.findings or [], "company_not_listed": i.company_not_listed}
            for i, c in session.exec(query).all()]


def _done(session: Session, company_id: int, department: str, first: dt.date, last: dt.date) -> bool:
    return session.exec(select(func.count()).select_from(Inspection).where(
        Inspection.company_id == company_id, Inspection.department == department,
        Inspection.day >= first, Inspection.day <= last)).one() > 0


def _month_required(session: Session, listing: Listing, month_first: dt.date, remind_from_day: int) -> bool:
    """The same rule as the acceptance checklist: a month is owed when the listing covered at
    least MONTH_MIN_DAYS of it (counted from the first confirmation)."""
    from listing.services.review import required_months

    confirmed = session.exec(select(Cycle.start).where(Cycle.listing_id == listing.id, Cycle.number == 1)).first()
    if confirmed is None:
        return False
    month_last = (month_first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    return f"{month_first:%Y-%m}" in required_months(max(confirmed, month_first), month_last)


def track(session: Session, day: dt.date, channel: Channel, *, now: dt.datetime, remind_from_day: int = 20,
          lang: str = "zh") -> dict:
    """The daily check (run for local date `day`): reminders from `remind_from_day` of the month
    on; on the 1st, a miss for each department without an inspection last month."""
    from listing.i18n import t

    listed = session.exec(select(Listing, Company).join(Company, Company.id == Listing.company_id).where(
        Listing.state.in_([State.LISTED.value, State.UNDER_REVIEW.value]))).all()
    month = f"{day:%Y-%m}"
    first, last = month_bounds(month)
    reminders = misses = 0
    for listing, company in listed:
        for dept in DEPARTMENTS:
            dept_label = t(f"dept.{dept}", lang)
            if day.day >= remind_from_day and not _done(session, company.id, dept, first, last):
                reminders += notify_once(session, channel, f"remind:{listing.id}:{month}:{dept}",
                                         t("notify.remind.title", lang),
                                         t("notify.remind.text", lang, company=company.name, department=dept_label, month=month), now=now)
        if day.day == 1:
            prev_last = first - dt.timedelta(days=1)
            prev = f"{prev_last:%Y-%m}"
            prev_first = prev_last.replace(day=1)
            if not _month_required(session, listing, prev_first, remind_from_day):
                continue
            for dept in DEPARTMENTS:
                if _done(session, company.id, dept, prev_first, prev_last):
                    continue
                exists = session.exec(select(InspectionMiss.id).where(InspectionMiss.listing_id == listing.id,
                                      InspectionMiss.month == prev, InspectionMiss.department == dept)).first()
                if exists:
                    continue
                session.add(InspectionMiss(listing_id=listing.id, company_id=company.id, month=prev, department=dept, recorded_at=now))
                session.flush()
                audit.record(session, "system", "inspection.miss", "listing", listing.id, at=now,
                             after={"month": prev, "department": dept, "company": company.uscc})
                misses += 1
                notify_once(session, channel, f"miss:{listing.id}:{prev}:{dept}", t("notify.miss.title", lang),
                            t("notify.miss.text", lang, company=company.name, department=t(f"dept.{dept}", lang), month=prev), now=now)
    return {"day": day, "listed": len(listed), "reminders": reminders, "misses": misses}
