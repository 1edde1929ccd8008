"""The audit log's hash chain (审计链), pure.

hash_n = SHA-256(hash_{n-1} || canonical JSON of event n). Editing, deleting, inserting or
reordering any event breaks the chain from that event on; deleting the tail shows against the
head row that every append updates.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any, Iterable

GENESIS = "0" * 64


def _iso(value: dt.datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone.utc).isoformat(timespec="microseconds")


def canonical(seq: int, at: dt.datetime, actor: str, action: str, entity: str,
              entity_id: str | None, before: Any, after: Any) -> bytes:
    body = {"seq": seq, "at": _iso(at), "actor": actor, "action": action, "entity": entity,
            "entity_id": entity_id, "before": before, "after": after}
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str).encode()


def chain_hash(prev_hash: str, content: bytes) -> str:
    return hashlib.sha256(prev_hash.encode() + content).hexdigest()


@dataclass(frozen=True)
class ChainEvent:
    seq: int
    at: dt.datetime
    actor: str
    action: str
    entity: str
    entity_id: str | None
    before: Any
    after: Any
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class Verdict:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    reason: str | None = None  # i18n key


def verify_chain(events: Iterable[ChainEvent], head_seq: int, head_hash: str) -> Verdict:
    """Walk events in seq order; name the first one that does not fit."""
    prev, expected_seq, checked = GENESIS, 1, 0
    for ev in events:
        if ev.seq != expected_seq:
            return Verdict(False, checked, expected_seq if ev.seq > expected_seq else ev.seq, "audit.bad.sequence")
        if ev.prev_hash != prev:
            return Verdict(False, checked, ev.seq, "audit.bad.link")
        content = canonical(ev.seq, ev.at, ev.actor, ev.action, ev.entity, ev.entity_id, ev.before, ev.after)
        if chain_hash(prev, content) != ev.hash:
            return Verdict(False, checked, ev.seq, "audit.bad.content")
        prev, expected_seq, checked = ev.hash, expected_seq + 1, checked + 1
    if checked != head_seq or prev != head_hash:
        return Verdict(False, checked, checked + 1, "audit.bad.tail")
    return Verdict(True, checked)
