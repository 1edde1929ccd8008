"""The problems of the actor's jurisdiction (`guapai problems list`)."""
from __future__ import annotations

import datetime as dt

from listing.domain import problems as domain
from listing.domain.policy import Actor, authorize
from listing.services.read.sql import where
from listing.store.reader import DATE, Reader, query


def _problems(state: bool, company: bool, everywhere: bool):
    return query(f"""
        SELECT p.id, c.name AS company, c.uscc, p.description, p.source, p.owner, p.due, p.state,
               p.rectified_by, p.verified_by
        FROM problem p JOIN company c ON c.id = p.company_id
        {where(state and "p.state = :state", company and "c.uscc = :company",
               not everywhere and "c.jurisdiction = :jurisdiction")}
        ORDER BY p.due, p.id""", due=DATE)


def list_problems(db, actor: Actor, *, today: dt.date, state: str | None = None,
                  company: str | None = None, overdue: bool = False) -> list[dict]:
    """`db`: a Reader or an ORM session."""
    authorize(actor, "data.read")
    q = _problems(bool(state), bool(company), actor.city_level)
    rows = []
    for p in Reader.of(db).rows(q, state=state, company=company, jurisdiction=actor.jurisdiction):
        late = p["state"] != domain.CLOSED and p["due"] is not None and p["due"] < today
        if overdue and not late:
            continue
        rows.append({"id": p["id"], "company": p["company"], "uscc": p["uscc"], "description": p["description"],
                     "source": p["source"], "owner": p["owner"], "due": p["due"], "state": p["state"], "overdue": late,
                     "rectified_by": p["rectified_by"], "verified_by": p["verified_by"]})
    return rows
