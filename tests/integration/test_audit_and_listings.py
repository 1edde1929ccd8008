"""Audit chain on a real store, and the listing apply path (atomic, optimistic lock)."""
import datetime as dt
import threading

import pytest
from sqlalchemy import text
from sqlmodel import select

from listing.domain.identifiers import uscc_check_char
from listing.domain.states import Event
from listing.services import audit, listings
from listing.store import tables
from messages.errors import Conflict, PermissionDenied
from tests.conftest import NOW, actor


def company(store, uscc="91110000600037341L", jurisdiction="西湖区"):
    with store.session() as s:
        c = tables.Company(uscc=uscc, name="测试运输公司", business_type="freight", jurisdiction=jurisdiction)
        s.add(c)
        s.flush()
        return c.id


def propose(store, company_id):
    with store.session() as s:
        return listings.propose(s, actor(store, "reviewer"), company_id, rules_version="test-1",
                                explanation={"criterion": "fatal"}, now=NOW).id


def verdict(store):
    with store.session() as s:
        return audit.verify(s, actor(store, "admin"))


def test_edit_delete_of_audit_rows_is_detected(people):
    if people.dialect == "postgresql":
        pytest.skip("on PostgreSQL the database refuses the edit itself: see the append-only test")
    lid = propose(people, company(people))
    with people.session() as s:
        listings.apply(s, actor(people, "reviewer"), lid, Event.CONFIRM, now=NOW)
    assert verdict(people).ok
    with people.engine.begin() as conn:
        conn.execute(text("UPDATE audit_event SET actor = 'mallory' WHERE seq = 3"))
    bad = verdict(people)
    assert (bad.ok, bad.first_bad_seq, bad.reason) == (False, 3, "audit.bad.content")
    with people.engine.begin() as conn:
        conn.execute(text("UPDATE audit_event SET actor = 'admin' WHERE seq = 3"))
    assert verdict(people).ok
    with people.engine.begin() as conn:
        seq = conn.execute(text("SELECT max(seq) FROM audit_event")).scalar_one()
        conn.execute(text("DELETE FROM audit_event WHERE seq = :s"), {"s": seq})
    assert verdict(people).reason == "audit.bad.tail"


def test_confirm_opens_cycle_one_with_deadline_and_audit_in_one_transaction(people):
    lid = propose(people, company(people))
    with people.session() as s:
        row = listings.apply(s, actor(people, "reviewer"), lid, Event.CONFIRM, now=NOW)
    assert (row.state, row.cycle, row.cycle_start, row.cycle_due, row.version) == (
        "listed", 1, dt.date(2026, 11, 24), dt.date(2027, 2, 24), 2)
    with people.session() as s:
        cycles = s.exec(select(tables.Cycle).where(tables.Cycle.listing_id == lid)).all()
        deadlines = s.exec(select(tables.Deadline).where(tables.Deadline.listing_id == lid)).all()
        events = s.exec(select(tables.AuditEvent).where(tables.AuditEvent.entity == "listing")).all()
    assert [(c.number, c.due) for c in cycles] == [(1, dt.date(2027, 2, 24))]
    assert [d.kind for d in deadlines] == ["cycle_end"]
    assert [e.action for e in events] == ["listing.propose", "listing.confirm"]
    assert events[-1].before["state"] == "proposed" and events[-1].after["state"] == "listed"


def test_refused_or_illegal_transition_changes_nothing(people):
    lid = propose(people, company(people))
    before = verdict(people).checked
    with pytest.raises(PermissionDenied):
        with people.session() as s:
            listings.apply(s, actor(people, "police"), lid, Event.CONFIRM, now=NOW)
    with pytest.raises(Conflict):
        with people.session() as s:
            listings.apply(s, actor(people, "reviewer"), lid, Event.PASS, now=NOW)
    with people.session() as s:
        assert s.get(tables.Listing, lid).state == "proposed"
    assert verdict(people).checked == before


def test_a_company_has_at_most_one_open_listing(people):
    cid = company(people)
    propose(people, cid)
    with pytest.raises(Conflict):
        propose(people, cid)


def test_stale_version_loses(people):
    """An officer acting on what they saw (version 1) loses once someone else changed it."""
    lid = propose(people, company(people))
    reviewer = actor(people, "reviewer")
    with people.session() as s:
        listings.apply(s, reviewer, lid, Event.REJECT, now=NOW)
    with pytest.raises(Conflict) as err:
        with people.session() as s:
            listings.apply(s, reviewer, lid, Event.CONFIRM, now=NOW, expected_version=1)
    assert err.value.key == "err.stale_listing"
    with people.session() as s:
        assert s.get(tables.Listing, lid).state == "rejected"


@pytest.mark.postgres
def test_concurrent_confirm_and_reject_on_postgres_only_one_wins(pg_url):
    """Real concurrency: threads with their own connections race on one listing."""
    from listing.services.users import add_user
    from listing.store.db import open_store
    from tests.conftest import NOW as now

    store = open_store(pg_url)
    with store.session() as s:
        add_user(s, None, "admin", "admin", "x", "*", now=now)
        add_user(s, "admin", "reviewer", "reviewer", "x", "*", now=now)
    reviewer = actor(store, "reviewer")
    for round_ in range(10):
        first17 = f"9111000060003{round_:04d}"
        lid = propose(store, company(store, uscc=first17 + uscc_check_char(first17)))
        barrier = threading.Barrier(2)
        results = []

        def attempt(event):
            try:
                with store.session() as s:
                    s.get(tables.Listing, lid)
                    barrier.wait()
                    listings.apply(s, reviewer, lid, event, now=now)
                results.append(event)
            except Conflict:
                results.append("conflict")

        threads = [threading.Thread(target=attempt, args=(e,)) for e in (Event.CONFIRM, Event.REJECT)]
        [t.start() for t in threads]
        [t.join() for t in threads]
        assert results.count("conflict") == 1, results
        with store.session() as s:
            row = s.get(tables.Listing, lid)
            assert row.state in ("listed", "rejected") and row.version == 2
    with store.session() as s:
        assert audit.verify(s, actor(store, "admin")).ok
    store.engine.dispose()


@pytest.mark.postgres
def test_audit_log_is_append_only_on_postgres(pg_url):
    import sqlalchemy.exc

    from listing.services.users import add_user
    from listing.store.db import open_store

    store = open_store(pg_url)
    with store.session() as s:
        add_user(s, None, "admin", "admin", "x", "*", now=NOW)
        add_user(s, "admin", "reviewer", "reviewer", "x", "*", now=NOW)  # appends still work
    for sql in ("UPDATE audit_event SET actor = 'mallory' WHERE seq = 1", "DELETE FROM audit_event WHERE seq = 2",
                "TRUNCATE audit_event"):
        with pytest.raises(sqlalchemy.exc.DBAPIError) as err:
            with store.engine.begin() as conn:
                conn.execute(text(sql))
        assert "append-only" in str(err.value)
    with store.session() as s:
        verdict = audit.verify(s, actor(store, "admin"))
    assert verdict.ok and verdict.checked == 2
    store.engine.dispose()
