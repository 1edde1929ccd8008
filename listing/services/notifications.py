"""Notifications through an outbox (发件箱).

`queue_notice` writes one outbox row per channel (DingTalk, WeCom, the log) in the caller's
transaction, beside the event that causes the notice: if that transaction rolls back, no notice
exists; if it commits, the notice will be sent. `deliver` runs after commit: it claims each due
row, sends it, and marks it sent; a failure is recorded with the next attempt time (backoff) and
never touches the case. Each (key, channel) is sent once: a robot that is down is retried on its
own, and a working robot never posts the same notice again because another one failed.

Notifications go to groups of people: every channel redacts title and text itself (no driver ID
numbers or phones, no secrets) before it writes or posts them, whoever calls it."""
from __future__ import annotations

import datetime as dt
import logging
import os
import socket
from typing import Callable, Protocol

from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, func, select

from listing import redact
from listing.store.tables import OutboxMessage

log = logging.getLogger("guapai.notify")

CLAIM_STALE = dt.timedelta(minutes=10)  # a sender that died holding a row loses it after this
MAX_BACKOFF = dt.timedelta(hours=6)
TRIES = 2  # immediate attempts per notice in one delivery (then it waits for its next attempt time)
RETRY_WAIT: object = None  # tenacity wait between them; None: exponential 0.5 s .. 4 s (tests set wait_none())


class Channel(Protocol):
    name: str

    def send(self, key: str, title: str, text: str) -> None: ...


class LogChannel:
    """The channel when no group robot is configured: messages go to the log (stderr)."""

    name = "log"

    def __init__(self, sink: Callable[[str], None] | None = None) -> None:
        self.sink = sink
        self.sent: list[tuple[str, str, str]] = []

    def send(self, key: str, title: str, text: str) -> None:
        title, text = redact.redact(title), redact.redact(text)
        self.sent.append((key, title, text))
        (self.sink or log.info)(f"[{title}] {text}")


def leaves(channel) -> list:
    """The single channels behind `channel` (a fan-out lists several)."""
    return list(getattr(channel, "channels", None) or [channel])


def already_sent(session: Session, key: str) -> bool:
    """Whether a notice with `key` exists (queued or sent)."""
    return session.exec(select(OutboxMessage.id).where(OutboxMessage.key == key)).first() is not None


def queue_notice(session: Session, channel: Channel, key: str, title: str, text: str, *, now: dt.datetime) -> bool:
    """Queue the notice for every channel, in the caller's transaction; False (nothing queued) if
    `key` was queued before. Nothing leaves the process here: `deliver` sends after commit."""
    if already_sent(session, key):
        return False
    queued = False
    for leaf in leaves(channel):
        try:
            with session.begin_nested():
                session.add(OutboxMessage(key=key, channel=leaf.name, title=title, text=text, created_at=now,
                                          next_attempt_at=now))
            queued = True
        except IntegrityError:
            pass  # a concurrent transaction queued it first
    return queued


def next_attempt(now: dt.datetime, attempts: int) -> dt.datetime:
    """Backoff between delivery attempts: 1, 2, 4, ... minutes, at most MAX_BACKOFF."""
    return now + min(dt.timedelta(minutes=2 ** max(0, attempts - 1)), MAX_BACKOFF)


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def deliver(store, channel: Channel, *, now: dt.datetime, owner: str | None = None, tries: int | None = None,
            wait=None) -> dict:
    """Send every due notice queued for the channels of `channel`, each in its own short
    transaction. `tries` immediate attempts per notice (tenacity, exponential `wait`); after
    that the notice waits for its next attempt time. Never raises for a channel's failure."""
    from tenacity import Retrying, stop_after_attempt, wait_exponential

    by_name = {leaf.name: leaf for leaf in leaves(channel)}
    owner = owner or _owner()
    tries = tries or TRIES
    wait = wait if wait is not None else RETRY_WAIT
    with store.session() as s:
        due = s.exec(select(OutboxMessage.id).where(
            OutboxMessage.sent_at.is_(None), OutboxMessage.next_attempt_at <= now,
            OutboxMessage.channel.in_(list(by_name))).order_by(OutboxMessage.id)).all()
    sent = failed = 0
    for message_id in due:
        with store.session() as s:  # claim: a second sender skips the row
            claimed = s.execute(update(OutboxMessage).where(
                OutboxMessage.id == message_id, OutboxMessage.sent_at.is_(None),
                or_(OutboxMessage.claimed_at.is_(None), OutboxMessage.claimed_at < now - CLAIM_STALE))
                .values(claimed_by=owner, claimed_at=now).execution_options(synchronize_session=False)).rowcount
            row = s.get(OutboxMessage, message_id) if claimed else None
            message = (row.key, row.channel, row.title, row.text, row.attempts) if row else None
        if message is None:
            continue
        key, name, title, text, attempts = message
        try:
            for attempt in Retrying(stop=stop_after_attempt(tries), reraise=True,
                                    wait=wait if wait is not None else wait_exponential(multiplier=0.5, max=4)):
                with attempt:
                    by_name[name].send(key, title, text)
        except Exception as exc:  # noqa: BLE001 - a channel's failure is recorded, never raised
            failed += 1
            error = redact.redact(str(exc) or type(exc).__name__)[:500]
            log.warning("notice %s via %s not sent (attempt %d): %s", key, name, attempts + 1, error)
            values = {"attempts": attempts + 1, "last_error": error, "claimed_by": None, "claimed_at": None,
                      "next_attempt_at": next_attempt(now, attempts + 1)}
        else:
            sent += 1
            values = {"attempts": attempts + 1, "sent_at": now, "last_error": None, "claimed_by": None}
        with store.session() as s:
            s.execute(update(OutboxMessage).where(OutboxMessage.id == message_id, OutboxMessage.claimed_by == owner)
                      .values(**values).execution_options(synchronize_session=False))
    with store.session(readonly=True) as s:
        pending = s.exec(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.sent_at.is_(None))).one()
    return {"sent": sent, "failed": failed, "pending": pending}


def pending(session: Session) -> list[OutboxMessage]:
    return list(session.exec(select(OutboxMessage).where(OutboxMessage.sent_at.is_(None)).order_by(OutboxMessage.id)).all())
