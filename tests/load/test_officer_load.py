"""Officer load on PostgreSQL (issue 7): 20 officer processes and the scheduler on one database
for a bounded time. Every write an officer saw succeed is in the database exactly once with its
audit event, nothing else was written, no finding was decided twice, no problem was verified by
the officer who rectified it, the audit chain is intact, each (job, period) ran once, deadlocks
were retried away and no process hung. Throughput and latency are printed (`pytest -s`) and
written to load_report.json in the test's tmp dir: reported, not asserted (a shared machine).

~18 s of load in CI; GUAPAI_LONG=1 runs five minutes.
"""
import json

import pytest
from sqlmodel import select

from tools.load.run import LoadPlan, run
from tools.load.check import summary, verify_workdir
from listing.store import tables
from tests.budget import LONG

KINDS = ("inspection", "finding.confirm", "finding.dismiss", "problem.rectify", "problem.verify", "problem.reopen")


@pytest.mark.postgres
def test_twenty_officers_and_the_scheduler_lose_duplicate_and_hang_nothing(pg_url, tmp_path):
    plan = LoadPlan(workers=20, duration=300.0 if LONG else 18.0)
    report = run(pg_url, plan, tmp_path / "results", progress=print)
    print(summary(report))
    (tmp_path / "load_report.json").write_text(json.dumps(report, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    print(f"report: {tmp_path / 'load_report.json'}")

    assert report["violations"] == [], "\n".join(report["violations"][:30])
    checked = report["checked"]
    assert (checked["lost"], checked["duplicated"], checked["unacknowledged"], report["errors"]) == (0, 0, 0, 0)
    assert report["processes"] == {"officers": 20, "scheduler": 1, "not_ready": [], "hung": [], "failed": {}}
    assert checked["audit_chain_ok"]
    # what the officers acknowledged is what the database holds, kind by kind
    ops = report["ops"]
    assert checked["inspections"] == ops["inspection"]
    assert checked["findings_decided"] == ops["finding.confirm"] + ops["finding.dismiss"]
    assert checked["problem_transitions"] == ops["problem.rectify"] + ops["problem.verify"] + ops["problem.reopen"]
    assert checked["verifications_four_eyes_checked"] == ops["problem.verify"]
    # the load really ran every kind of write, and the scheduler really ran its jobs
    assert all(ops.get(kind, 0) > 0 for kind in KINDS), ops
    assert report["scheduler"]["ticks"] >= 1 and {"deadlines", "inspections", "sampling"} <= set(checked["job_runs_by_job"])


@pytest.mark.postgres
def test_the_check_names_lost_duplicated_and_four_eyes_breaches(pg_url, tmp_path):
    """The verification is not a rubber stamp: after a short clean run, damage the database the
    way a lost write, a duplicate or a broken four-eyes check would, and each is named."""
    workdir = tmp_path / "results"
    report = run(pg_url, LoadPlan(workers=4, duration=3.0, scheduler=False, findings=1000, problems=60), workdir)
    assert report["violations"] == [], report["violations"]
    from listing.store.db import open_store

    store = open_store(pg_url, migrate=False)
    with store.session() as s:
        inspections = s.exec(select(tables.Inspection).order_by(tables.Inspection.id)).all()
        assert len(inspections) >= 2
        lost, copied = inspections[0], inspections[1]
        s.add(tables.Inspection(company_id=copied.company_id, department=copied.department, inspector=copied.inspector,
                                day=copied.day, notes=copied.notes, recorded_at=copied.recorded_at))
        s.delete(lost)
        suspected = s.exec(select(tables.Finding).where(tables.Finding.state == "suspected")).first()
        suspected.state, suspected.decided_by = "dismissed", "officer00"
        s.add(suspected)
        verified = s.exec(select(tables.Problem).where(tables.Problem.state == "verified")).first()
        assert verified is not None, "the short run verified no problem"
        verified.rectified_by = verified.verified_by
        s.add(verified)
    found = "\n".join(verify_workdir(store, workdir)["violations"])
    store.engine.dispose()
    assert f"inspection {lost.id} ({lost.notes}) acknowledged but not in the database" in found
    assert f"inspection written twice: {copied.notes}" in found
    assert f"finding {suspected.id} dismissed by officer00: officers acknowledged []" in found
    assert f"problem {verified.id} verified and rectified by {verified.verified_by}" in found


@pytest.mark.postgres
def test_a_deadlock_postgres_breaks_is_retried_and_the_write_lands_once(pg_url):
    """The load above may see no deadlock at all, so the retry path is proven on a real one: this
    unit of work and another transaction lock two rows in opposite orders; PostgreSQL aborts this
    one (SQLSTATE 40P01, its deadlock_timeout fires first), and the retry commits it once."""
    import threading
    import time

    from sqlalchemy import text

    from tools.load.officer import write_retrying
    from listing.store.db import open_store

    store = open_store(pg_url, migrate=False)
    with store.engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE lock_pair (id int PRIMARY KEY, writes int NOT NULL DEFAULT 0)")
        conn.exec_driver_sql("INSERT INTO lock_pair (id) VALUES (1), (2)")
    mine_holds_2, other_holds_1 = threading.Event(), threading.Event()
    errors = []

    def other():
        try:
            with store.engine.begin() as conn:
                conn.exec_driver_sql("SET LOCAL deadlock_timeout = '30s'")  # never the victim
                mine_holds_2.wait(10)
                conn.exec_driver_sql("UPDATE lock_pair SET writes = writes + 1 WHERE id = 1")
                other_holds_1.set()
                time.sleep(0.3)  # let the unit of work start waiting for row 1 first
                conn.exec_driver_sql("UPDATE lock_pair SET writes = writes + 1 WHERE id = 2")
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    def work(session):
        session.execute(text("SET LOCAL deadlock_timeout = '2s'"))
        session.execute(text("UPDATE lock_pair SET writes = writes + 1 WHERE id = 2"))
        if not mine_holds_2.is_set():  # first attempt: walk into the cycle
            mine_holds_2.set()
            other_holds_1.wait(10)
        session.execute(text("UPDATE lock_pair SET writes = writes + 1 WHERE id = 1"))
        return "written"

    retried = []
    thread = threading.Thread(target=other)
    thread.start()
    result, attempts = write_retrying(store, work, on_retry=lambda state, attempt: retried.append((state, attempt)))
    thread.join(30)
    with store.engine.connect() as conn:
        writes = dict(conn.exec_driver_sql("SELECT id, writes FROM lock_pair").all())
    store.engine.dispose()
    assert errors == [] and not thread.is_alive()
    assert retried == [("40P01", 1)] and (result, attempts) == ("written", 2)
    assert writes == {1: 2, 2: 2}  # the other transaction's two writes and the retried unit's, each once
