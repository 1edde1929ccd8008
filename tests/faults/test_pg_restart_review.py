"""PostgreSQL restarted in the middle of an acceptance decision (验收), through the CLI as a
reviewer runs it. The transition is all or nothing: after the restart every table it touches
(listing, cycle, deadline, audit) is exactly as before and the officer reads one clear line;
the retry applies it exactly once; a second retry is refused as a conflict (exit code 5).

Restart points: after the first flush (the listing row updated, the cycle decided, the audit
event not yet written), before the session commits (every write flushed), and just before the
DBAPI COMMIT of the transaction that wrote the audit event.
"""
from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import select
from typer.testing import CliRunner

import main
from listing.domain.policy import SYSTEM_ACTOR
from listing.domain.states import Event
from listing.services import listings
from listing.store.tables import AuditEvent, Cycle, Listing
from tests.budget import LONG
from tests.faults import inject
from tests.scenario import listed_company, local

PASSWORD = "s3cret-pw"  # trust auth ignores it; it must never reach the officer's screen
TOUCHED = ("listing", "cycle", "deadline", "audit_event", "audit_head", "sent_notification")


@dataclass(frozen=True)
class Point:
    name: str
    hook: str  # after_flush / before_commit / commit
    mode: str = "immediate"


POINTS = [Point("mid-writes (after the first flush)", "after_flush"), Point("before commit", "before_commit"),
          Point("at the DBAPI COMMIT", "commit")]
LONG_POINTS = [Point("mid-writes, fast shutdown", "after_flush", "fast"), Point("at COMMIT, fast shutdown", "commit", "fast")]


def _hook(point: Point, trigger: inject.Trigger):
    if point.hook == "commit":
        return inject.on_commit_after(Engine, r"^INSERT INTO audit_event", trigger)
    return inject.on_session(point.hook, trigger)


def _dump(store) -> dict:
    with store.engine.connect() as conn:
        return {t: [tuple(r) for r in conn.execute(text(f"SELECT * FROM {t} ORDER BY 1"))] for t in TOUCHED}


def _under_review(store) -> int:
    from listing.services.users import add_user
    from tests.conftest import NOW

    with store.session() as s:
        add_user(s, None, "admin", "admin", "x", "*", now=NOW)
        add_user(s, "admin", "reviewer", "reviewer", "x", "*", now=NOW)
    _, lid, _ = listed_company(store, local(2026, 1, 10), vehicles=3)
    with store.session() as s:
        listings.apply(s, SYSTEM_ACTOR, lid, Event.END_CYCLE, now=local(2026, 4, 10, 1))
    return lid


@pytest.mark.parametrize("passed", [True, False], ids=["pass", "fail"])
@pytest.mark.parametrize("point", POINTS + (LONG_POINTS if LONG else []), ids=lambda p: p.name)
def test_postgres_restarted_mid_decision_applies_it_all_or_nothing_then_once(fault_pg, point, passed, monkeypatch):
    from listing.store.db import open_store

    for var in ("GUAPAI_USER", "GUAPAI_DATABASE_URL", "GUAPAI_DINGTALK_WEBHOOK", "GUAPAI_WECOM_WEBHOOK"):
        monkeypatch.delenv(var, raising=False)
    store = open_store(fault_pg.url)
    lid = _under_review(store)
    url = fault_pg.cluster.url(fault_pg.database, password=PASSWORD)
    runner = CliRunner()

    def decide(lang="en"):
        return runner.invoke(main.app, ["--db", url, "--as", "reviewer", "--lang", lang, "review", "decide", str(lid),
                                        "--pass" if passed else "--fail", "--reason", "整改到位" if passed else "未达标"])

    before = _dump(store)
    trigger = inject.Trigger(lambda: fault_pg.restart(point.mode))
    with _hook(point, trigger):
        first = decide()
    assert trigger.fired, f"the restart point {point.name!r} was never reached"
    # nothing applied, and one clear line for the officer
    assert first.exit_code == 1, (first.exit_code, first.stderr, first.exception)
    lines = first.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: lost the connection to the database"), first.stderr
    assert PASSWORD not in first.stderr + first.stdout and "Traceback" not in first.stderr
    assert _dump(store) == before

    # the retry applies it exactly once
    second = decide()
    assert second.exit_code == 0, second.stderr
    after = _dump(store)
    with store.session(readonly=True) as s:
        listing = s.get(Listing, lid)
        cycles = s.exec(select(Cycle).where(Cycle.listing_id == lid).order_by(Cycle.number)).all()
        events = [(e.action, e.entity_id) for e in s.exec(select(AuditEvent).where(
            AuditEvent.seq > len(before["audit_event"]))).all()]
    assert events == [("listing.pass" if passed else "listing.fail", str(lid))]
    assert listing.version == before["listing"][0][_col(store, "listing", "version")] + 1
    assert cycles[0].outcome == ("pass" if passed else "fail") and cycles[0].decided_by == "reviewer"
    if passed:
        assert (listing.state, listing.cycle, len(cycles)) == ("delisted", 1, 1) and listing.closed_at is not None
        assert len(after["deadline"]) == len(before["deadline"])
    else:
        assert (listing.state, listing.cycle, [c.number for c in cycles]) == ("listed", 2, [1, 2])
        assert len(after["deadline"]) == len(before["deadline"]) + 1  # the new cycle's end, once

    # a second retry is refused as a conflict, in the officer's language, and changes nothing
    third = decide(lang="zh")
    assert third.exit_code == 5, third.stderr
    assert "不在验收阶段" in third.stderr and len(third.stderr.strip().splitlines()) == 1
    assert _dump(store) == after
    with store.session(readonly=True) as s:
        from listing.services import audit
        from tests.conftest import actor

        assert audit.verify(s, actor(store, "admin")).ok
    store.engine.dispose()


def _col(store, table: str, column: str) -> int:
    with store.engine.connect() as conn:
        return list(conn.execute(text(f"SELECT * FROM {table} LIMIT 0")).keys()).index(column)


def test_postgres_down_the_decision_says_so_in_one_line_then_applies_once_when_back(fault_pg, monkeypatch):
    from listing.store.db import open_store

    monkeypatch.delenv("GUAPAI_USER", raising=False)
    store = open_store(fault_pg.url)
    lid = _under_review(store)
    before = _dump(store)
    url = fault_pg.cluster.url(fault_pg.database, password=PASSWORD)
    runner = CliRunner()
    args = ["--db", url, "--as", "reviewer", "--lang", "zh", "review", "decide", str(lid), "--pass", "--reason", "整改到位"]
    fault_pg.cluster.stop("fast")
    try:
        down = runner.invoke(main.app, args)
    finally:
        fault_pg.cluster.start()
    assert down.exit_code == 1, (down.stderr, down.exception)
    lines = down.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("错误: 无法连接数据库"), down.stderr
    assert PASSWORD not in down.stderr and "***" in down.stderr and "Traceback" not in down.stderr
    assert _dump(store) == before
    assert runner.invoke(main.app, args).exit_code == 0
    assert runner.invoke(main.app, args).exit_code == 5
    with store.session(readonly=True) as s:
        assert [e.action for e in s.exec(select(AuditEvent).where(AuditEvent.seq > len(before["audit_event"])))] == ["listing.pass"]
    store.engine.dispose()
