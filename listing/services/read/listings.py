"""The listings in the actor's jurisdiction (`guapai listing list`)."""
from __future__ import annotations

from listing.domain.policy import Actor, authorize
from listing.store.reader import BOOL, DATE, Reader, query

_LISTINGS = query("""
    SELECT l.id, c.name AS company, c.uscc, c.jurisdiction, l.state, l.cycle, l.cycle_due, l.escalated,
           l.rules_version
    FROM listing l JOIN company c ON c.id = l.company_id
    WHERE (:state IS NULL OR l.state = :state) AND (:everywhere OR c.jurisdiction = :jurisdiction)
    ORDER BY l.id""", cycle_due=DATE, escalated=BOOL)


def list_listings(db, actor: Actor, *, state: str | None = None) -> list[dict]:
    authorize(actor, "data.read")
    return [dict(r) for r in Reader.of(db).rows(_LISTINGS, state=state, everywhere=actor.city_level,
                                                 jurisdiction=actor.jurisdiction)]
