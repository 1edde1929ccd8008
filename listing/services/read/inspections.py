"""The inspections of the actor's jurisdiction (`guapai inspect list`)."""
from __future__ import annotations

import calendar
import datetime as dt

from listing.domain.policy import Actor, authorize
from listing.services.read.sql import where
from listing.store.reader import BOOL, DATE, JSON, Reader, query


def month_bounds(month: str) -> tuple[dt.date, dt.date]:
    year, mon = map(int, month.split("-"))
    return dt.date(year, mon, 1), dt.date(year, mon, calendar.monthrange(year, mon)[1])


def _inspections(voided: bool, month: bool, everywhere: bool, company: bool = False):
    return query(f"""
        SELECT i.id, i.day, c.name AS company, c.uscc, i.department, i.inspector, i.findings, i.company_not_listed,
               i.voided_at, i.void_reason, i.corrects_id
        FROM inspection i JOIN company c ON c.id = i.company_id
        {where(not voided and "i.voided_at IS NULL", month and "i.day >= :first AND i.day <= :last",
               not everywhere and "c.jurisdiction = :jurisdiction", company and "c.uscc = :uscc")}
        ORDER BY i.day, i.id""", day=DATE, findings=JSON, company_not_listed=BOOL)


def list_inspections(db, actor: Actor, month: str | None = None, *, voided: bool = False,
                     company: str | None = None) -> list[dict]:
    """Inspections of the actor's jurisdiction, of one company when `company` (its credit code)
    is given; voided ones only when asked (`voided`). `db`: a Reader or an ORM session."""
    authorize(actor, "data.read")
    first, last = month_bounds(month) if month else (None, None)
    rows = Reader.of(db).rows(_inspections(voided, bool(month), actor.city_level, bool(company)), first=first, last=last,
                              jurisdiction=actor.jurisdiction, uscc=company)
    return [{"id": i["id"], "day": i["day"], "company": i["company"], "uscc": i["uscc"], "department": i["department"],
             "inspector": i["inspector"], "findings": i["findings"] or [], "company_not_listed": i["company_not_listed"],
             "voided": i["voided_at"] is not None, "void_reason": i["void_reason"], "corrects": i["corrects_id"]}
            for i in rows]
