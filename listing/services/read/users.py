"""The users (`guapai users list`)."""
from __future__ import annotations

from listing.domain.policy import Actor, authorize
from listing.store.reader import BOOL, Reader, query

_USERS = query('SELECT name, role, department, jurisdiction, active, db_role FROM "user" ORDER BY name', active=BOOL)


def list_users(db, actor: Actor) -> list[dict]:
    authorize(actor, "users.list")
    return [dict(r) for r in Reader.of(db).rows(_USERS)]
