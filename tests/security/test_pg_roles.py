"""Identity on PostgreSQL: each officer connects with a database role of their own, mapped to
their guapai user (`guapai db grant`). Two real login roles in two jurisdictions show that the
database itself — not the client — decides who acts and which rows they reach: `--as` cannot
claim another user, row-level security hides and protects other jurisdictions, the groups'
grants refuse writes the role has no business making, and the audit log only takes events
that name the connected user. A modified client (services called with a forged actor) is
refused by PostgreSQL all the same."""
from __future__ import annotations

import datetime as dt
import uuid

import psycopg
import pytest
from sqlalchemy.exc import DBAPIError
from sqlmodel import select
from typer.testing import CliRunner

import main
from listing.domain.policy import Actor, Role
from listing.domain.states import Event
from listing.services import (
    audit,
    db_roles,
    findings,
    inspections,
    listings,
    problems,
    review,
    users,
)
from listing.store import tables
from listing.store.db import open_store
from messages.errors import GuapaiError, NotFound, PermissionDenied
from tests.conftest import NOW, PG_ADMIN_URL
from tests.scenario import listed_company, local

pytestmark = pytest.mark.postgres
XIHU, SHANGCHENG = "西湖区", "上城区"


def _admin_sql(sql: str) -> None:
    with psycopg.connect(PG_ADMIN_URL.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(sql)


@pytest.fixture
def login_roles():
    """Role names to drop at the very end: set up before the database, so torn down after it
    (a login role cannot be dropped while a database still holds its temporary objects)."""
    names: list[str] = []
    yield names
    for role in names:
        _admin_sql(f'DROP ROLE IF EXISTS "{role}"')


@pytest.fixture
def city(login_roles, pg_url):
    """Owner's store with two listed companies (西湖区, 上城区), officers in each, and two real
    login roles: wang (police, 西湖区) and li (transport, 上城区)."""
    tag = uuid.uuid4().hex[:8]
    owner = open_store(pg_url)
    with owner.session() as s:
        users.add_user(s, None, "admin", "admin", "信息中心", "*", now=NOW)
        users.add_user(s, "admin", "reviewer", "reviewer", "交安委", "*", now=NOW)
        users.add_user(s, "admin", "wang", "police", "西湖交警大队", XIHU, now=NOW)
        users.add_user(s, "admin", "li", "transport", "上城运管所", SHANGCHENG, now=NOW)
        users.add_user(s, "admin", "zhou", "police", "上城交警大队", SHANGCHENG, now=NOW)
    home = listed_company(owner, local(2026, 9, 1), vehicles=3, jurisdiction=XIHU)
    away = listed_company(owner, local(2026, 9, 1), vehicles=3, jurisdiction=SHANGCHENG)
    roles = {"wang": f"gp_{tag}_wang", "li": f"gp_{tag}_li", "reviewer": f"gp_{tag}_zhao"}
    login_roles.extend(roles.values())
    admin = Actor("admin", Role.ADMIN, "信息中心", "*")
    with owner.session() as s:
        for name, role in roles.items():
            db_roles.grant(s, admin, name, db_role=role, now=NOW)
    base = pg_url.rsplit("/", 1)
    urls = {name: f"postgresql+psycopg://{role}@127.0.0.1:5432/{base[1]}" for name, role in roles.items()}
    stores = {name: open_store(url) for name, url in urls.items()}
    yield {"owner": owner, "stores": stores, "urls": urls, "roles": roles, "home": home, "away": away, "tag": tag}
    for s_ in (owner, *stores.values()):
        s_.engine.dispose()


def sql(store, statement: str):
    with store.engine.begin() as conn:
        return conn.exec_driver_sql(statement)


def uscc_of(store, company_id: int) -> str:
    with store.session(readonly=True) as s:
        return s.get(tables.Company, company_id).uscc


def test_the_database_says_who_acts_and_as_cannot_claim_another_user(city):
    wang = city["stores"]["wang"]
    with wang.session(readonly=True) as s:
        me = users.resolve_actor(s, None)  # no --as needed: the role is the user
        assert (me.name, me.role, me.jurisdiction) == ("wang", Role.POLICE, XIHU)
        assert users.resolve_actor(s, "wang").name == "wang"
        with pytest.raises(PermissionDenied) as refused:
            users.resolve_actor(s, "li")
        assert refused.value.key == "err.as_mismatch"
    # through the CLI, as an officer would type it
    runner = CliRunner()
    claimed = runner.invoke(main.app, ["--db", city["urls"]["wang"], "--as", "reviewer", "--lang", "en", "listing", "list"])
    assert claimed.exit_code == 3 and "cannot act as reviewer" in " ".join(claimed.output.split())
    own = runner.invoke(main.app, ["--db", city["urls"]["wang"], "--lang", "en", "listing", "list", "--json"])
    assert own.exit_code == 0, own.output
    assert '"state": "listed"' in own.stdout and own.stdout.count('"listing_id"') + own.stdout.count('"id"') >= 1


def test_each_role_sees_only_its_jurisdiction(city):
    for name, jurisdiction in (("wang", XIHU), ("li", SHANGCHENG)):
        store = city["stores"][name]
        assert {r[0] for r in sql(store, "SELECT jurisdiction FROM company")} == {jurisdiction}
        for table, expected in (("listing", 1), ("vehicle", 3), ("cycle", 1), ("deadline", 1)):
            assert sql(store, f"SELECT count(*) FROM {table}").scalar_one() == expected, (name, table)
        # the service layer on top shows the same (and would show it even if its own filter were wrong)
        with store.session(readonly=True) as s:
            rows = listings.list_listings(s, users.resolve_actor(s, None))
        assert len(rows) == 1
    # the owner (scheduler, migrations) is not limited
    assert sql(city["owner"], "SELECT count(*) FROM company").scalar_one() == 2


def test_writes_outside_the_jurisdiction_or_the_role_are_refused_by_postgres(city):
    wang = city["stores"]["wang"]
    away_cid, away_lid, _ = city["away"]
    home_cid, home_lid, _ = city["home"]
    with city["owner"].session() as s:
        s.add(tables.Problem(company_id=away_cid, source="inspection", description="台账不全", created_at=NOW))
    # other jurisdiction: invisible rows are not updated ...
    assert sql(wang, f"UPDATE problem SET state = 'verified' WHERE company_id = {away_cid}").rowcount == 0
    # ... and rows cannot be written into it
    with pytest.raises(DBAPIError, match="row-level security"):
        sql(wang, f"INSERT INTO inspection (company_id, department, inspector, day, company_not_listed, recorded_at) "
                  f"VALUES ({away_cid}, 'police', 'wang', '2026-11-20', false, now())")
    # police may not touch listings at all, in any jurisdiction
    with pytest.raises(DBAPIError, match="permission denied"):
        sql(wang, f"UPDATE listing SET state = 'delisted' WHERE id = {home_lid}")
    with pytest.raises(DBAPIError, match="permission denied"):
        sql(wang, "INSERT INTO \"user\" (name, role, department, jurisdiction, active, created_at) "
                  "VALUES ('x', 'admin', 'x', '*', true, now())")
    with pytest.raises(DBAPIError, match="permission denied"):
        sql(wang, "UPDATE audit_event SET actor = 'someone'")
    with pytest.raises(DBAPIError, match="permission denied"):
        sql(wang, "DELETE FROM audit_event")
    # nothing of it landed
    with city["owner"].session(readonly=True) as s:
        assert s.get(tables.Listing, home_lid).state == "listed"
        assert s.exec(select(tables.Problem.state)).all() == ["open"]
        assert s.exec(select(tables.Inspection)).all() == []
        assert audit.verify(s, Actor("admin", Role.ADMIN, "x", "*")).ok


def test_problem_update_into_another_jurisdiction_is_checked(city):
    """WITH CHECK applies per row: an existing problem cannot be moved to another company."""
    home_cid = city["home"][0]
    with city["owner"].session() as s:
        s.add(tables.Problem(company_id=home_cid, source="inspection", description="台账不全", created_at=NOW))
    with pytest.raises(DBAPIError, match="row-level security"):
        sql(city["stores"]["wang"], f"UPDATE problem SET company_id = {city['away'][0]}")


def test_a_modified_client_with_a_forged_actor_is_refused(city):
    wang = city["stores"]["wang"]
    away_uscc = uscc_of(city["owner"], city["away"][0])
    forged_city_level = Actor("wang", Role.POLICE, "x", "*")  # claims the whole city
    with pytest.raises(NotFound):  # the company is simply not there for this role
        with wang.session() as s:
            inspections.record(s, forged_city_level, away_uscc, "police", dt.date(2026, 11, 20), now=NOW)
    forged_other_user = Actor("zhou", Role.POLICE, "x", "*")  # another user, forged city-wide
    home_uscc = uscc_of(city["owner"], city["home"][0])
    with pytest.raises(DBAPIError, match="audit event names zhou"):
        with wang.session() as s:
            inspections.record(s, forged_other_user, home_uscc, "police", dt.date(2026, 11, 20), now=NOW)
    forged_reviewer = Actor("wang", Role.REVIEWER, "x", XIHU)  # a police role playing reviewer
    with pytest.raises(DBAPIError, match="permission denied"):
        with wang.session() as s:
            listings.apply(s, forged_reviewer, city["home"][1], Event.END_CYCLE, now=NOW)
    with city["owner"].session(readonly=True) as s:
        assert s.exec(select(tables.Inspection)).all() == []
        assert s.get(tables.Listing, city["home"][1]).state == "listed"


def test_officers_do_their_daily_work_on_their_own_roles(city, tmp_path):
    """The grants are enough for the real work: wang records a police inspection, confirms a
    finding (a violation and a problem follow); li records a transport inspection, rectifies
    the problem and imports a vehicle; each in their own jurisdiction, audited under their name."""
    home_cid, _, home_vids = city["home"]
    away_cid, _, _ = city["away"]
    with city["owner"].session() as s:
        sample = tables.Sample(day=dt.date(2026, 11, 20), company_id=home_cid, vehicle_id=home_vids[0], rank=0, status="scanned")
        s.add(sample)
        s.flush()
        finding = tables.Finding(sample_id=sample.id, day=sample.day, company_id=home_cid, vehicle_id=home_vids[0],
                                 rule="overspeed", start=NOW, end=NOW + dt.timedelta(minutes=2))
        s.add(finding)
        s.add(tables.Problem(company_id=away_cid, source="inspection", description="台账不全", created_at=NOW))
        s.flush()
        finding_id = s.exec(select(tables.Finding.id)).one()
        problem_id = s.exec(select(tables.Problem.id)).one()
    wang, li = city["stores"]["wang"], city["stores"]["li"]
    with wang.session() as s:
        me = users.resolve_actor(s, None)
        inspections.record(s, me, uscc_of(city["owner"], home_cid), "police", dt.date(2026, 11, 20), now=NOW,
                           problems=[("超速未处理", dt.date(2026, 12, 1))])
        findings.confirm(s, me, finding_id, now=NOW)
    with li.session() as s:
        me = users.resolve_actor(s, None)
        inspections.record(s, me, uscc_of(city["owner"], away_cid), "transport", dt.date(2026, 11, 21), now=NOW)
        problems.change(s, me, problem_id, "rectify", now=NOW)
    vehicles = tmp_path / "vehicles.csv"
    vehicles.write_text(f"plate,company_uscc,vehicle_class,active_from\n浙A9Z001,{uscc_of(city['owner'], away_cid)},truck,2026-01-01\n",
                        encoding="utf-8")
    done = CliRunner().invoke(main.app, ["--db", city["urls"]["li"], "--lang", "en", "import", "vehicles", str(vehicles)])
    assert done.exit_code == 0, done.output
    with city["stores"]["reviewer"].session() as s:  # the leader ends a cycle and keeps the company listed
        me = users.resolve_actor(s, None)
        listings.apply(s, me, city["home"][1], Event.END_CYCLE, now=NOW)
        review.decide(s, me, city["home"][1], False, reason="整改未到位", now=NOW)
    with city["owner"].session(readonly=True) as s:
        by_actor = {}
        for e in s.exec(select(tables.AuditEvent).where(tables.AuditEvent.actor.in_(["wang", "li", "reviewer"]))).all():
            by_actor.setdefault(e.actor, []).append(e.action)
        assert sorted(by_actor["wang"]) == ["finding.confirm", "inspection.record"]
        assert sorted(by_actor["li"]) == ["import.vehicles", "inspection.record", "problem.rectify"]
        assert s.get(tables.Listing, city["home"][1]).cycle == 2
        assert len(s.exec(select(tables.Cycle).where(tables.Cycle.listing_id == city["home"][1])).all()) == 2
        assert s.get(tables.Finding, finding_id).state == "confirmed"
        assert s.get(tables.Problem, problem_id).state == "rectified"
        assert s.exec(select(tables.Vehicle).where(tables.Vehicle.plate == "浙A9Z001")).one().company_id == away_cid
        assert audit.verify(s, Actor("admin", Role.ADMIN, "x", "*")).ok


def test_an_unmapped_role_sees_nothing_and_cannot_write_the_audit_log(city, pg_url, login_roles):
    role = f"gp_{city['tag']}_ghost"
    login_roles.append(role)
    _admin_sql(f'CREATE ROLE "{role}" LOGIN IN ROLE guapai_police')  # a DBA's slip: grants without a user
    ghost = open_store(f"postgresql+psycopg://{role}@127.0.0.1:5432/{pg_url.rsplit('/', 1)[1]}", migrate=False)
    try:
        assert sql(ghost, "SELECT count(*) FROM company").scalar_one() == 0
        assert sql(ghost, "SELECT count(*) FROM finding").scalar_one() == 0
        with pytest.raises(DBAPIError, match="not mapped to a guapai user"):
            with ghost.session() as s:
                audit.record(s, "admin", "forged", "x", at=NOW)
        with pytest.raises(PermissionDenied):  # and the CLI knows no one there without --as
            with ghost.session(readonly=True) as s:
                users.resolve_actor(s, None)
    finally:
        ghost.engine.dispose()


def test_revoked_role_loses_its_rights_and_grant_is_audited(city):
    admin = Actor("admin", Role.ADMIN, "信息中心", "*")
    with city["owner"].session() as s:
        db_roles.revoke(s, admin, "wang", now=NOW)
    for statement in ("SELECT count(*) FROM company", "INSERT INTO audit_head (id, seq, hash) VALUES (2, 0, 'x')"):
        with pytest.raises(DBAPIError, match="permission denied"):
            sql(city["stores"]["wang"], statement)
    with city["owner"].session(readonly=True) as s:
        actions = [e.action for e in s.exec(select(tables.AuditEvent).order_by(tables.AuditEvent.seq)).all()]
        assert actions.count("db.grant") == 3 and actions[-1] == "db.revoke"
        assert all("password" not in str(e.after) for e in s.exec(select(tables.AuditEvent)).all())


def test_grant_refuses_a_role_already_mapped_and_needs_postgres(city, sqlite_url):
    admin = Actor("admin", Role.ADMIN, "信息中心", "*")
    with pytest.raises(GuapaiError, match="already mapped"):
        with city["owner"].session() as s:
            db_roles.grant(s, admin, "zhou", db_role=city["roles"]["wang"], now=NOW)
    store = open_store(sqlite_url)
    with store.session() as s:
        users.add_user(s, None, "admin", "admin", "x", "*", now=NOW)
    with pytest.raises(GuapaiError, match="need PostgreSQL"):
        with store.session() as s:
            db_roles.grant(s, admin, "admin", now=NOW)


def test_jobs_run_only_on_the_service_connection(city):
    """An officer's role sees one jurisdiction: a sampling run on it would mark the whole
    city's day done. The CLI refuses it, and so does PostgreSQL (no grant on job_run)."""
    out = CliRunner().invoke(main.app, ["--db", city["urls"]["wang"], "--lang", "en", "jobs", "run", "sampling",
                                        "--date", "2026-11-20"])
    assert out.exit_code == 3 and "service connection" in " ".join(out.output.split())
    with pytest.raises(DBAPIError, match="permission denied"):
        sql(city["stores"]["wang"], "INSERT INTO job_run (job, period, state, owner, attempts, started_at, heartbeat_at) "
                                    "VALUES ('sampling', '2026-11-20', 'running', 'x', 1, now(), now())")
    with city["owner"].session(readonly=True) as s:
        assert s.exec(select(tables.JobRun)).all() == []


def test_refusals_on_an_officers_role_are_audited_under_that_officer(city):
    runner = CliRunner()
    base = ["--db", city["urls"]["wang"], "--lang", "en"]
    assert runner.invoke(main.app, base + ["--as", "li", "board"]).exit_code == 3  # claims li
    assert runner.invoke(main.app, base + ["users", "list"]).exit_code == 3  # police may not
    with city["owner"].session(readonly=True) as s:
        denials = s.exec(select(tables.AuditEvent.actor, tables.AuditEvent.action)
                         .where(tables.AuditEvent.action.startswith("denied."))).all()
        assert sorted(denials) == [("wang", "denied.as"), ("wang", "denied.users.list")]
        assert audit.verify(s, Actor("admin", Role.ADMIN, "x", "*")).ok


def test_a_temporary_user_table_does_not_widen_what_a_role_sees(city):
    """pg_temp comes first on the search path: the policy's lookup of the user names its schema."""
    with city["stores"]["wang"].engine.connect() as conn:
        conn.exec_driver_sql('CREATE TEMP TABLE "user" (name text, db_role text, active boolean, jurisdiction text)')
        conn.exec_driver_sql(f"""INSERT INTO "user" VALUES ('wang', '{city["roles"]["wang"]}', true, '*')""")
        assert conn.exec_driver_sql('SELECT jurisdiction FROM "user"').scalar_one() == "*"  # the fake is in place
        assert {r[0] for r in conn.exec_driver_sql("SELECT jurisdiction FROM company")} == {XIHU}


def test_the_documented_setup_works_with_an_owner_that_is_not_a_superuser(login_roles):
    """docs/multi-user.md: a CREATEROLE owner (not a superuser) migrates, adds users and grants
    an officer's role; the officer then sees their jurisdiction only."""
    tag = uuid.uuid4().hex[:8]
    owner_role, officer_role, dbname = f"gp_{tag}_owner", f"gp_{tag}_sun", f"guapai_owned_{tag}"
    login_roles.extend([officer_role, owner_role])
    _admin_sql(f'CREATE ROLE "{owner_role}" LOGIN CREATEROLE')
    _admin_sql(f'CREATE DATABASE "{dbname}" OWNER "{owner_role}"')
    stores = []
    try:
        owner = open_store(f"postgresql+psycopg://{owner_role}@127.0.0.1:5432/{dbname}")
        stores.append(owner)
        with owner.session() as s:
            users.add_user(s, None, "admin", "admin", "信息中心", "*", now=NOW)
            users.add_user(s, "admin", "reviewer", "reviewer", "交安委", "*", now=NOW)
            users.add_user(s, "admin", "sun", "transport", "西湖运管所", XIHU, now=NOW)
        listed_company(owner, local(2026, 9, 1), vehicles=2, jurisdiction=XIHU)
        listed_company(owner, local(2026, 9, 1), vehicles=2, jurisdiction=SHANGCHENG)
        password = "s3cr'et pw"  # a quote in it: the statement must not break, nor show it
        granted = CliRunner().invoke(main.app, ["--db", owner.url, "--as", "admin", "--lang", "en", "db", "grant", "sun",
                                                "--db-role", officer_role, "--password-stdin", "--json"], input=password + "\n")
        assert granted.exit_code == 0, granted.output
        assert '"group": "guapai_transport"' in granted.stdout and password not in granted.output
        with psycopg.connect(PG_ADMIN_URL.replace("+psycopg", "")) as conn:
            stored = conn.execute("SELECT rolpassword FROM pg_authid WHERE rolname = %s", (officer_role,)).fetchone()[0]
        assert stored and stored.startswith(("SCRAM-SHA-256$", "md5")) and password not in stored
        officer = open_store(f"postgresql+psycopg://{officer_role}@127.0.0.1:5432/{dbname}")
        stores.append(officer)
        assert {r[0] for r in sql(officer, "SELECT jurisdiction FROM company")} == {XIHU}
        with officer.session() as s:
            inspections.record(s, users.resolve_actor(s, None), uscc_of(owner, 1), "transport", dt.date(2026, 11, 2), now=NOW)
        with owner.session(readonly=True) as s:
            assert s.exec(select(tables.Inspection.inspector)).all() == ["sun"]
            assert all(password not in str(e.after) for e in s.exec(select(tables.AuditEvent)).all())
            assert audit.verify(s, Actor("admin", Role.ADMIN, "x", "*")).ok
    finally:
        for store in stores:
            store.engine.dispose()
        _admin_sql(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
