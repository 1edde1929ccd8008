"""Deterministic fault injection: restart the private PostgreSQL at a named point of real work.

Points are SQLAlchemy engine events (the n-th statement matching a pattern is about to run; the
n-th COMMIT after a matching statement is about to be sent), session events (after a flush,
before a commit) and an httpx transport (after the k-th platform response). The restart itself
is real (pg_ctl restart) and synchronous: the server is back when the hook returns, and the
connection the hook ran on is dead.
"""
from __future__ import annotations

import re
import threading
from contextlib import contextmanager
from typing import Callable

import httpx
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session


class Trigger:
    """Fires `restart` once, when `n` matching occurrences have been seen."""

    def __init__(self, restart: Callable[[], None], n: int = 1):
        self.restart, self.n = restart, n
        self.seen = 0
        self.fired = False
        self._lock = threading.Lock()

    def hit(self) -> None:
        with self._lock:
            if self.fired:
                return
            self.seen += 1
            if self.seen < self.n:
                return
            self.fired = True
        self.restart()


@contextmanager
def on_statement(engine: Engine, pattern: str, trigger: Trigger):
    """Restart just before the n-th statement matching `pattern` (regex, case-insensitive)."""
    rx = re.compile(pattern, re.I)

    def before(conn, cursor, statement, parameters, context, executemany):
        if rx.search(statement):
            trigger.hit()

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield trigger
    finally:
        event.remove(engine, "before_cursor_execute", before)


@contextmanager
def on_commit_after(engine: Engine, pattern: str, trigger: Trigger):
    """Restart just before the DBAPI COMMIT of the n-th transaction that ran a statement matching
    `pattern`: every write of that transaction has reached the server, the commit has not."""
    rx = re.compile(pattern, re.I)
    marked: set[int] = set()

    def before(conn, cursor, statement, parameters, context, executemany):
        if rx.search(statement):
            marked.add(id(conn.connection.dbapi_connection))

    def commit(conn):
        key = id(conn.connection.dbapi_connection)
        if key in marked:
            marked.discard(key)
            trigger.hit()

    def rollback(conn):
        marked.discard(id(conn.connection.dbapi_connection))

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "commit", commit)
    event.listen(engine, "rollback", rollback)
    try:
        yield trigger
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "commit", commit)
        event.remove(engine, "rollback", rollback)


@contextmanager
def on_session(name: str, trigger: Trigger):
    """Restart in a Session event (`after_flush`, `before_commit`) of any session."""
    def hook(session, *args):
        trigger.hit()

    event.listen(Session, name, hook)
    try:
        yield trigger
    finally:
        event.remove(Session, name, hook)


class RestartAfterResponses(httpx.BaseTransport):
    """An httpx transport that lets the k-th platform response through, then restarts the
    database before handing it back (the job is between vehicles: fetched, not yet stored)."""

    def __init__(self, trigger: Trigger, inner: httpx.BaseTransport | None = None):
        self.trigger = trigger
        self.inner = inner or httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        response.read()
        self.trigger.hit()
        return response

    def close(self) -> None:
        self.inner.close()
