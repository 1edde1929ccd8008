"""The listings in the actor's jurisdiction (`guapai listing list`)."""
from __future__ import annotations

from listing.domain.policy import Actor, authorize
from listing.services.read.sql import where
from listing.store.reader import BOOL, DATE, Reader, query
from messages.errors import NotFound

_OF_COMPANY = query("SELECT id, state FROM listing WHERE company_id = :company ORDER BY id DESC")


def _listings(state: bool, everywhere: bool):
    return query(f"""
        SELECT l.id, c.name AS company, c.uscc, c.jurisdiction, l.state, l.cycle, l.cycle_due, l.escalated,
               l.rules_version
        FROM listing l JOIN company c ON c.id = l.company_id
        {where(state and "l.state = :state", not everywhere and "c.jurisdiction = :jurisdiction")}
        ORDER BY l.id""", cycle_due=DATE, escalated=BOOL)


def list_listings(db, actor: Actor, *, state: str | None = None) -> list[dict]:
    authorize(actor, "data.read")
    return [dict(r) for r in Reader.of(db).rows(_listings(bool(state), actor.city_level), state=state,
                                                 jurisdiction=actor.jurisdiction)]


def listing_of(db, actor: Actor, company, states: tuple[str, ...]) -> int:
    """The id of the company's newest listing in one of `states` (a company named where a listing
    is asked for: `review decide 路捷 --pass`). `company`: the resolved row, in the actor's scope.
    None there: NotFound saying so (err.company_no_<first state>)."""
    authorize(actor, "data.read")
    for row in Reader.of(db).rows(_OF_COMPANY, company=company.id):
        if row["state"] in states:
            return row["id"]
    raise NotFound(f"err.company_no_{states[0]}", company=company.name, uscc=company.uscc)
