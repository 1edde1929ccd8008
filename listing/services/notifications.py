"""Sending notifications exactly once: the key is recorded in the same transaction as the
decision to send, and the channel (DingTalk / WeCom robots, or the log) is called after.
Notifications go to groups of people: every channel redacts title and text itself (no driver ID
numbers or phones, no secrets) before it writes or posts them, whoever calls it."""
from __future__ import annotations

import datetime as dt
import logging
from typing import Callable, Protocol

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from listing import redact
from listing.store.tables import SentNotification

log = logging.getLogger("guapai.notify")


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


def already_sent(session: Session, key: str) -> bool:
    return session.exec(select(SentNotification.id).where(SentNotification.key == key)).first() is not None


def notify_once(session: Session, channel: Channel, key: str, title: str, text: str, *, now: dt.datetime) -> bool:
    """Record `key` and send; False (and nothing sent) if it was sent before."""
    if already_sent(session, key):
        return False
    try:
        with session.begin_nested():
            session.add(SentNotification(key=key, channel=channel.name, sent_at=now))
    except IntegrityError:
        return False  # a concurrent run recorded it first
    channel.send(key, title, text)
    return True
