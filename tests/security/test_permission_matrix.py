"""Every service action x every role x inside/outside the user's jurisdiction, against the one
declared policy table: allowed exactly when the policy says so, and a refused call changes
nothing. Generated from POLICY, so a new action without a case here fails the coverage check."""
import datetime as dt
import itertools

import pytest
from sqlalchemy import inspect, text

from listing.domain.policy import POLICY, Actor, Role
from listing.domain.states import Event
from listing.services import audit, corrections, findings, inspections, listings, problems, rules, user_admin, users
from listing.services.imports import import_file
from listing.store import tables
from messages.errors import Conflict, PermissionDenied
from tests.conftest import NOW
from tests.scenario import listed_company, local

HOME, ELSEWHERE = "西湖区", "上城区"
ROLES = [Role.POLICE, Role.TRANSPORT, Role.REVIEWER, Role.ADMIN]
NOT_SERVICE_ACTIONS = {"data.read", "driver.read_personal", "sampling.run", "listing.end_cycle", "jobs.run"}  # read scopes / system-run


def counts(store):
    with store.engine.connect() as conn:
        names = [t for t in inspect(conn).get_table_names() if t != "alembic_version"]
        return {t: conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar_one() for t in names}


def world(store, tmp_path):
    """A listed company in HOME with a proposal, a listing under review, a problem and a finding."""
    cid, lid, vids = listed_company(store, local(2026, 8, 1), jurisdiction=HOME)
    with store.session() as s:
        reviewer = users.resolve_actor(s, "reviewer")
        listings.apply(s, Actor("system", Role.SYSTEM, "x", "*"), lid, Event.END_CYCLE, now=NOW)
        company = s.get(tables.Company, cid)
        other = tables.Company(uscc="91110000600037341L", name="另一公司", business_type="bus", jurisdiction=HOME)
        s.add(other)
        s.flush()
        proposal = listings.propose(s, reviewer, other.id, rules_version="t", explanation={}, now=NOW).id
        problem = tables.Problem(company_id=cid, source="inspection", description="x", state="rectified",
                                 rectified_by="someone", created_at=NOW)
        s.add(problem)
        sample = tables.Sample(day=dt.date(2026, 11, 20), company_id=cid, vehicle_id=vids[0], rank=0, status="scanned")
        s.add(sample)
        s.flush()
        finding = tables.Finding(sample_id=sample.id, day=sample.day, company_id=cid, vehicle_id=vids[0], rule="overspeed",
                                 start=NOW, end=NOW)
        s.add(finding)
        s.flush()
        plate = s.get(tables.Vehicle, vids[0]).plate
        from listing.domain.identifiers import ric_check_char

        s.add(tables.Driver(id_number="33010619900101123" + ric_check_char("33010619900101123"), name="司机", company_id=cid))
        ids = {"company": company.uscc, "listing": lid, "proposal": proposal, "problem": problem.id, "finding": finding.id}
    companies_csv = tmp_path / "c.csv"
    companies_csv.write_text(f"uscc,name,business_type,jurisdiction\n91330106MA27Y5XH8W,新公司,freight,{HOME}\n", encoding="utf-8")
    from listing.domain.identifiers import ric_check_char

    driver_id = "33010619900101123" + ric_check_char("33010619900101123")
    new_driver = "11010519491231002X"
    rows = {
        "violations": f"occurred_at,plate,code,points,source\n2026-11-20 10:00:00,{plate},1352,3,camera\n",
        "vehicles": f"plate,company_uscc,vehicle_class,active_from\n浙C99999,{company.uscc},truck,2026-01-01\n",
        "drivers": f"id_number,name,company_uscc\n{new_driver},新司机,{company.uscc}\n",
        "assignments": f"driver_id_number,plate,start\n{driver_id},{plate},2026-11-01 06:00:00\n",
        "accidents": f"occurred_at,plate,fatalities,injuries,responsibility\n2026-11-20 10:00:00,{plate},0,0,none\n",
    }
    files = {}
    for kind, content in rows.items():
        files[kind] = tmp_path / f"{kind}.csv"
        files[kind].write_text(content, encoding="utf-8")
    rules_toml = tmp_path / "r.toml"
    rules_toml.write_text(rules.config.DEFAULT_RULES.read_text(encoding="utf-8").replace('"2026.1"', '"matrix-1"'), encoding="utf-8")
    return ids, {"companies": companies_csv, "rules": rules_toml, **files}


CASES = {
    "users.add": (False, lambda s, a, w, f: users.add_user(s, a.name, "newbie", "police", "x", HOME, now=NOW)),
    "users.list": (False, lambda s, a, w, f: users.list_users(s, a)),
    "db.grant": (False, lambda s, a, w, f: _grant(s, a)),
    "import.companies": (True, lambda s, a, w, f: _import(s, a, "companies", f)),
    "import.vehicles": (True, lambda s, a, w, f: _import(s, a, "vehicles", f)),
    "import.drivers": (True, lambda s, a, w, f: _import(s, a, "drivers", f)),
    "import.assignments": (True, lambda s, a, w, f: _import(s, a, "assignments", f)),
    "import.accidents": (True, lambda s, a, w, f: _import(s, a, "accidents", f)),
    "import.violations": (True, lambda s, a, w, f: _import(s, a, "violations", f)),
    "listing.propose": (True, lambda s, a, w, f: listings.propose(s, a, _other(s), rules_version="t", explanation={}, now=NOW)),
    "listing.confirm": (True, lambda s, a, w, f: listings.apply(s, a, w["proposal"], Event.CONFIRM, now=NOW)),
    "listing.reject": (True, lambda s, a, w, f: listings.apply(s, a, w["proposal"], Event.REJECT, now=NOW)),
    "listing.pass": (True, lambda s, a, w, f: listings.apply(s, a, w["listing"], Event.PASS, now=NOW)),
    "listing.fail": (True, lambda s, a, w, f: listings.apply(s, a, w["listing"], Event.FAIL, now=NOW)),
    "rules.change": (False, lambda s, a, w, f: rules.load_rules(s, a, f["rules"], now=NOW)),
    "inspection.record.police": (True, lambda s, a, w, f: inspections.record(s, a, w["company"], "police", dt.date(2026, 11, 20), now=NOW)),
    "inspection.record.transport": (True, lambda s, a, w, f: inspections.record(s, a, w["company"], "transport", dt.date(2026, 11, 20), now=NOW)),
    "problem.rectify": (True, lambda s, a, w, f: _reopen_then(s, a, w["problem"], "rectify")),
    "problem.verify": (True, lambda s, a, w, f: problems.change(s, a, w["problem"], "verify", now=NOW)),
    "problem.reopen": (True, lambda s, a, w, f: problems.change(s, a, w["problem"], "reopen", now=NOW)),
    "finding.confirm": (True, lambda s, a, w, f: findings.confirm(s, a, w["finding"], now=NOW)),
    "finding.dismiss": (True, lambda s, a, w, f: findings.dismiss(s, a, w["finding"], reason="误报", now=NOW)),
    # corrections: each actor voids a record of their own (the recorder may; others need to supervise)
    "inspection.void": (True, lambda s, a, w, f: corrections.void_inspection(s, a, _own_inspection(s, a, w), reason="r",
                                                                             now=NOW)),
    "inspection.correct": (True, lambda s, a, w, f: corrections.correct_inspection(
        s, a, _own_inspection(s, a, w), reason="r", now=NOW, day=dt.date(2026, 11, 19))),
    "problem.void": (True, lambda s, a, w, f: corrections.void_problem(s, a, _own_problem(s, a, w), reason="r", now=NOW)),
    "finding.reopen": (True, lambda s, a, w, f: corrections.reopen_finding(s, a, _decided_by(s, a, w), reason="r", now=NOW)),
    "finding.void": (True, lambda s, a, w, f: corrections.void_finding(s, a, _decided_by(s, a, w), reason="r", now=NOW)),
    "users.rename": (False, lambda s, a, w, f: user_admin.rename_user(s, a, "xihu", "xihu.renamed", now=NOW)),
    "audit.read": (False, lambda s, a, w, f: audit.log(s, a)),
    "audit.verify": (False, lambda s, a, w, f: audit.verify(s, a)),
}


def _own_inspection(s, a, w):
    from sqlmodel import select

    cid = s.exec(select(tables.Company.id).where(tables.Company.uscc == w["company"])).one()
    row = tables.Inspection(company_id=cid, department="police" if a.role is Role.POLICE else "transport",
                            inspector=a.name, day=dt.date(2026, 11, 20), recorded_at=NOW)
    s.add(row)
    s.flush()
    return row.id


def _own_problem(s, a, w):
    row = s.get(tables.Problem, w["problem"])
    row.source_id = _own_inspection(s, a, w)
    s.add(row)
    s.flush()
    return row.id


def _decided_by(s, a, w):
    row = s.get(tables.Finding, w["finding"])
    row.state, row.decided_by, row.reason = "dismissed", a.name, "误报"
    s.add(row)
    s.flush()
    return row.id


def _import(s, a, kind, f):
    result = import_file(s, a, kind, f[kind], now=NOW)
    assert result.ok, result.errors  # allowed: the file is valid and goes in
    return result


def _grant(s, a):
    """A real login role on PostgreSQL (rolled back with the cell: CREATE ROLE is transactional);
    on SQLite the role check passes and the store then says it has no roles."""
    from listing.services import db_roles
    from messages.errors import ValidationError

    try:
        return db_roles.grant(s, a, "police", db_role="gp_matrix_never_committed", now=NOW)
    except ValidationError as exc:
        assert exc.key == "err.db_roles_pg_only" and s.connection().dialect.name == "sqlite"


def _other(s):
    from sqlmodel import select

    return s.exec(select(tables.Company.id).where(tables.Company.uscc == "91330106MA27Y5XH8W")).first() or \
        s.exec(select(tables.Company.id).where(tables.Company.name == "另一公司")).one()


def _reopen_then(s, a, pid, action):
    row = s.get(tables.Problem, pid)
    row.state = "open"
    s.add(row)
    s.flush()
    return problems.change(s, a, pid, action, now=NOW)


def test_every_policy_action_has_a_case():
    assert set(POLICY) - NOT_SERVICE_ACTIONS == set(CASES)


@pytest.mark.parametrize("action", sorted(CASES))
def test_matrix(action, people, tmp_path):
    scoped, call = CASES[action]
    ids, files = world(people, tmp_path)
    for role, where in itertools.product(ROLES, (HOME, ELSEWHERE)):
        actor = Actor(f"{role.value}-{where}", role, "x", where)
        with people.session() as s:
            s.add(tables.User(name=actor.name, role=role.value, department="x", jurisdiction=where, created_at=NOW))
        allowed = role in POLICY[action] and (not scoped or where == HOME)
        before = counts(people)
        try:
            with people.session() as s:
                call(s, actor, ids, files)
                s.rollback()  # allowed calls are undone, so every cell starts from the same world
            refused = False
        except PermissionDenied:
            refused = True
        except Conflict:
            refused = False  # allowed, but the state did not permit it: the role check passed
        assert refused == (not allowed), (action, role.value, where)
        if refused:
            assert counts(people) == before, (action, role.value, where)
