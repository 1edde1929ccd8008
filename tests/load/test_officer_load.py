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

from listing.simulation.load import LoadPlan, run, summary, verify_workdir
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
    report = run(pg_url, LoadPlan(workers=4, duration=3.0, scheduler=False, findings=60, problems=30), workdir)
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
