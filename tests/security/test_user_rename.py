"""Renaming a user (issue 15): every record naming them follows in one transaction, so four eyes
keeps holding across a rename; the hash-chained audit log is not rewritten and the old name is
never given to anyone else; on PostgreSQL the officer's login role stays mapped to them."""
from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlmodel import SQLModel, select

from listing.services import audit, db_roles, inspections, problems, todo, user_admin, users
from listing.services.notifications import LogChannel
from listing.store import tables
from listing.store.db import open_store
from messages.errors import Conflict, NotFound, PermissionDenied
from tests.conftest import NOW, actor
from tests.scenario import listed_company, local


def test_every_column_naming_a_user_is_rewritten_by_a_rename():
    """A new `*_by` column (or another inspector) must join the rename, or four eyes would compare
    an old name with a new one."""
    import listing.store.tables  # noqa: F401 - every table registered

    covered = {(c.class_.__tablename__, c.key) for c in user_admin._user_name_columns()}
    naming = {(t.name, c.name) for t in SQLModel.metadata.sorted_tables for c in t.columns
              if c.name.endswith("_by") or c.name == "inspector"}
    not_users = {("outbox", "claimed_by")}  # a sender process (host:pid), not a person
    assert naming - not_users == covered


def test_four_eyes_holds_across_a_rename(people):
    cid, _, _ = listed_company(people, local(2026, 11, 1))
    with people.session() as s:
        uscc = s.get(tables.Company, cid).uscc
        users.add_user(s, "admin", "li", "transport", "运管处", "*", now=NOW)
    with people.session() as s:
        inspections.record(s, actor(people, "li"), uscc, "transport", dt.date(2026, 11, 20), now=NOW,
                           problems=[("灭火器过期", dt.date(2026, 12, 1))])
        pid = s.exec(select(tables.Problem.id)).one()
    with people.session() as s:
        problems.change(s, actor(people, "li"), pid, "rectify", now=NOW)
    with people.session() as s:
        out = user_admin.rename_user(s, actor(people, "admin"), "li", "li.wei", now=NOW)
    assert out["rewritten"] == {"inspection.inspector": 1, "problem.rectified_by": 1}
    with pytest.raises(PermissionDenied) as err:  # the same person under the new name
        with people.session() as s:
            problems.change(s, actor(people, "li.wei"), pid, "verify", now=NOW)
    assert err.value.key == "err.four_eyes"
    with people.session(readonly=True) as s:  # nor is it on their to-do list to verify
        assert not [t for t in todo.todo(s, actor(people, "li.wei"), NOW.date()) if t["kind"] == "verify"]
        assert [t["ref"] for t in todo.todo(s, actor(people, "transport"), NOW.date()) if t["kind"] == "verify"] == [pid]
    with pytest.raises(PermissionDenied):  # the old name no longer logs in
        actor(people, "li")
    with people.session() as s:
        assert problems.change(s, actor(people, "transport"), pid, "verify", now=NOW).verified_by == "transport"
    with people.session(readonly=True) as s:
        assert s.exec(select(tables.Inspection.inspector)).one() == "li.wei"
        ev = s.exec(select(tables.AuditEvent).where(tables.AuditEvent.action == "users.rename")).one()
        assert (ev.actor, ev.before, ev.after["name"]) == ("admin", {"name": "li"}, "li.wei")
        # the chain is not rewritten: earlier events keep the name they were made under
        assert "li" in s.exec(select(tables.AuditEvent.actor).where(tables.AuditEvent.action == "problem.rectify")).all()
        assert audit.verify(s, actor(people, "admin")).ok
        assert s.exec(select(tables.User.former_names).where(tables.User.name == "li.wei")).one() == ["li"]


def test_a_former_name_is_never_given_to_anyone_else_and_bad_renames_are_refused(people):
    admin = actor(people, "admin")
    with people.session() as s:
        user_admin.rename_user(s, admin, "xihu", "xihu.zhang", now=NOW)
    for attempt in (lambda s: users.add_user(s, "admin", "xihu", "police", "交警", "*", now=NOW),
                    lambda s: user_admin.rename_user(s, admin, "police", "xihu", now=NOW),
                    lambda s: user_admin.rename_user(s, admin, "police", "transport", now=NOW)):
        with pytest.raises(Conflict) as err:
            with people.session() as s:
                attempt(s)
        assert err.value.key == "err.user_exists"
    with pytest.raises(NotFound):
        with people.session() as s:
            user_admin.rename_user(s, admin, "nobody", "x", now=NOW)
    with pytest.raises(PermissionDenied):  # the administrator's alone
        with people.session() as s:
            user_admin.rename_user(s, actor(people, "reviewer"), "police", "p2", now=NOW)
    with people.session() as s:  # renaming back to one's own former name is fine
        user_admin.rename_user(s, admin, "xihu.zhang", "xihu", now=NOW)
        assert s.exec(select(tables.User.former_names).where(tables.User.name == "xihu")).one() == ["xihu", "xihu.zhang"]


@pytest.fixture
def login_role():
    """A login role name, dropped at the very end (after the test database that references it)."""
    import psycopg

    from tests.conftest import PG_ADMIN_URL

    role = f"gp_{uuid.uuid4().hex[:8]}_wang"
    yield role
    with psycopg.connect(PG_ADMIN_URL.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f'DROP ROLE IF EXISTS "{role}"')


@pytest.mark.postgres
def test_a_renamed_officer_keeps_their_postgresql_login_role(login_role, people, db_url):
    if not db_url.startswith("postgresql"):
        pytest.skip("PostgreSQL login roles")
    from listing.services import corrections

    role = login_role
    cid, _, _ = listed_company(people, local(2026, 11, 1))
    with people.session() as s:
        users.add_user(s, "admin", "wang", "police", "西湖交警大队", "西湖区", now=NOW)
    with people.session() as s:
        db_roles.grant(s, actor(people, "admin"), "wang", db_role=role, now=NOW)
        uscc = s.get(tables.Company, cid).uscc
    with people.session() as s:
        assert user_admin.rename_user(s, actor(people, "admin"), "wang", "wang.qiang", now=NOW)["db_role"] == role
    base, name = db_url.rsplit("/", 1)
    officer = open_store(f"postgresql+psycopg://{role}@127.0.0.1:5432/{name}")
    try:
        with officer.session() as s:
            me = users.resolve_actor(s, None)  # the database says who acts: the same person, new name
            assert (me.name, me.jurisdiction) == ("wang.qiang", "西湖区")
            with pytest.raises(PermissionDenied):
                users.resolve_actor(s, "wang")
            # the audit trigger takes events under the new name
            row = inspections.record(s, me, uscc, "police", dt.date(2026, 11, 20), now=NOW)
        with people.session() as s:  # the daily job (service connection) settles the month: met
            inspections.track(s, NOW.date(), LogChannel(), now=NOW)
        with officer.session() as s:  # the officer voids their own record; the month follows, on their role
            out = corrections.void_inspection(s, users.resolve_actor(s, None), row.id, reason="录错日期", now=NOW)
            assert out["obligation"] == "owed"
    finally:
        officer.engine.dispose()
    with people.session(readonly=True) as s:
        assert [u["db_role"] for u in db_roles.mapped_roles(s, actor(people, "admin"))] == [role]
        assert s.exec(select(tables.Inspection.voided_by)).one() == "wang.qiang"
        assert audit.verify(s, actor(people, "admin")).ok
