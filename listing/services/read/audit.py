"""The newest events of the hash-chained audit log (`guapai audit log`)."""
from __future__ import annotations

from listing.domain.policy import Actor, authorize
from listing.services.read.sql import where
from listing.store.reader import JSON, TIME, Reader, query


def _events(action: bool):
    return query(f"""
        SELECT seq, at, actor, action, entity, entity_id, before, after, hash FROM audit_event
        {where(action and "action = :action")}
        ORDER BY seq DESC
        LIMIT :limit""", at=TIME, before=JSON, after=JSON)


def log(db, actor: Actor, *, limit: int = 50, action: str | None = None) -> list[dict]:
    """`db`: a Reader or an ORM session."""
    authorize(actor, "audit.read")
    return [dict(r) for r in Reader.of(db).rows(_events(bool(action)), action=action, limit=limit)]
