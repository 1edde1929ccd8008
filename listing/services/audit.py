"""Appending to and verifying the audit log. Every write in guapai goes through `record`
inside the same transaction as the change it describes."""
from __future__ import annotations

import datetime as dt
from typing import Any, Iterator

from sqlmodel import Session, select

from listing.domain.audit_chain import ChainEvent, Verdict, canonical, chain_hash, verify_chain
from listing.domain.policy import Actor, authorize
from listing.services.read.audit import log  # noqa: F401 - re-exported
from listing.store.tables import AuditEvent, AuditHead


def record(session: Session, actor: Actor | str, action: str, entity: str, entity_id: Any = None,
           *, before: Any = None, after: Any = None, at: dt.datetime) -> AuditEvent:
    """Append one event to the chain, in the caller's transaction."""
    head = session.exec(select(AuditHead).where(AuditHead.id == 1).with_for_update()).one()
    seq = head.seq + 1
    name = actor if isinstance(actor, str) else actor.name
    eid = None if entity_id is None else str(entity_id)
    at = at.astimezone(dt.timezone.utc)
    digest = chain_hash(head.hash, canonical(seq, at, name, action, entity, eid, before, after))
    event = AuditEvent(seq=seq, at=at, actor=name, action=action, entity=entity, entity_id=eid,
                       before=before, after=after, prev_hash=head.hash, hash=digest)
    head.seq, head.hash = seq, digest
    session.add(event)
    session.add(head)
    session.flush()
    return event


def _events(session: Session, batch: int = 5000) -> Iterator[ChainEvent]:
    last = 0
    while True:
        rows = session.exec(select(AuditEvent).where(AuditEvent.seq > last).order_by(AuditEvent.seq).limit(batch)).all()
        if not rows:
            return
        for r in rows:
            yield ChainEvent(r.seq, r.at, r.actor, r.action, r.entity, r.entity_id, r.before, r.after, r.prev_hash, r.hash)
        last = rows[-1].seq


def verify(session: Session, actor: Actor) -> Verdict:
    authorize(actor, "audit.verify")
    head = session.exec(select(AuditHead).where(AuditHead.id == 1)).one()
    return verify_chain(_events(session), head.seq, head.hash)


