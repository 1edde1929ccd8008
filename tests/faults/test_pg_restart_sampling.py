"""PostgreSQL restarted (crash-like, `pg_ctl restart -m immediate`) in the middle of the daily
sampling job, at named points of real work; then the period is rerun through run_period, the
scheduler's own path. Afterwards: the keyed selection complete (no vehicle missing), every
planted violation found exactly once (no duplicate, no lost finding), the (job, period) run
done exactly once with its attempts counted, the audit chain intact.

What a restart does, by point (the `expect` column, asserted):
- "failed": the statement on the killed connection fails, the job records its run as failed
  (the pool's pre-ping hands the next unit of work a fresh connection), the rerun takes the
  failed run over: attempts = 2.
- "raised": the restart hits the claim itself; nothing is claimed, run_period raises the
  connection error; the rerun claims afresh: attempts = 1.
- "recovered": the restart falls between two units of work: pre-ping replaces the dead pooled
  connections and the job finishes in its first attempt: attempts = 1.
- "either": after a platform response. The job fetches the next batch while it stores the one
  before, so the restart may land between units of work (recovered) or on a write (failed).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from sqlalchemy.exc import OperationalError
from sqlmodel import func, select

from listing.simulation.platform import Faults, start_simulator
from jobs.definitions import JOBS
from jobs.scheduler import run_period
from listing.services import sampling
from listing.services.notifications import LogChannel
from listing.settings import Settings
from listing.store import tables
from tests.budget import LONG
from tests.faults import inject
from tests.scenario import drivers_on_duty, found_and_expected, listed_company, local

DAY = dt.date(2026, 11, 23)
COMPANIES, VEHICLES = 3, 20  # 2 sampled vehicles per company: 6 vehicles, batches of 2


@dataclass(frozen=True)
class Point:
    name: str
    kind: str  # statement / commit / platform
    pattern: str = ""
    n: int = 1
    expect: str = "failed"
    mode: str = "immediate"


POINTS = [
    Point("claim", "statement", r"^INSERT INTO job_run", expect="raised"),
    Point("before first write of the work", "statement", r"^INSERT INTO sample"),
    Point("between vehicles (after the 3rd platform response)", "platform", n=3, expect="either"),
    Point("writing a finding", "statement", r"^INSERT INTO finding"),
    Point("committing a vehicle's findings", "commit", r"^UPDATE sample SET", n=2),
    Point("heartbeat", "statement", r"^UPDATE job_run SET heartbeat_at", n=2),
    Point("recording the run as done", "statement", r"^UPDATE job_run SET state", expect="recovered"),
]
LONG_POINTS = [
    *(Point(f"after platform response {k}", "platform", n=k, expect="either") for k in (1, 2, 4, 5, 6)),
    *(Point(f"committing vehicle {k}", "commit", r"^UPDATE sample SET", n=k) for k in (1, 3, 4, 5, 6)),
    *(Point(f"writing finding batch {k}", "statement", r"^INSERT INTO finding", n=k) for k in (2, 3)),
    Point("committing the selection", "commit", r"^INSERT INTO sample"),
    Point("claim, fast shutdown", "statement", r"^INSERT INTO job_run", expect="raised", mode="fast"),
    Point("writing a finding, fast shutdown", "statement", r"^INSERT INTO finding", mode="fast"),
    Point("between vehicles, fast shutdown", "platform", n=3, expect="either", mode="fast"),
]


def _world(store):
    from listing.services.users import add_user
    from tests.conftest import NOW

    with store.session() as s:
        add_user(s, None, "admin", "admin", "x", "*", now=NOW)
        add_user(s, "admin", "reviewer", "reviewer", "x", "*", now=NOW)
        add_user(s, "admin", "police", "police", "x", "*", now=NOW)
    for _ in range(COMPANIES):
        cid, _, vids = listed_company(store, local(2026, 11, 1), vehicles=VEHICLES)
        drivers_on_duty(store, cid, vids)
    with store.session() as s:
        return dict(s.exec(select(tables.Vehicle.plate, tables.Vehicle.vehicle_class)).all())


def _first_run(store, fault_pg, settings, point: Point):
    trigger = inject.Trigger(lambda: fault_pg.restart(point.mode), n=point.n)
    transport = None
    if point.kind == "platform":
        transport = inject.RestartAfterResponses(trigger)
        ctx = _nothing()
    elif point.kind == "statement":
        ctx = inject.on_statement(store.engine, point.pattern, trigger)
    else:
        ctx = inject.on_commit_after(store.engine, point.pattern, trigger)
    with ctx:
        try:
            outcome = run_period(store, settings, LogChannel(), JOBS["sampling"], str(DAY), platform_transport=transport)
        except OperationalError:
            outcome = None
    assert trigger.fired, f"the restart point {point.name!r} was never reached"
    return outcome


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@pytest.mark.parametrize("point", LONG_POINTS + POINTS if LONG else POINTS, ids=lambda p: p.name)
def test_postgres_restarted_mid_sampling_then_rerun_completes_exactly_once(fault_pg, point):
    from listing.store.db import open_store

    store = open_store(fault_pg.url)
    vehicles = _world(store)
    restarts = fault_pg.cluster.restarts
    with start_simulator(vehicles, seed=7, plant_rate=0.6) as sim:
        settings = Settings(platform_url=sim.url, platform_token="sim-token", sampling_secret="test-secret", sampling_batch=2)
        first = _first_run(store, fault_pg, settings, point)
        assert fault_pg.cluster.restarts == restarts + 1

        # right after the restart: failed cleanly, or recovered; never half applied
        with store.session(readonly=True) as s:
            runs = s.exec(select(tables.JobRun)).all()
            half = s.exec(select(func.count()).select_from(tables.Finding).join(tables.Sample).where(
                tables.Sample.status == "selected")).one()
        assert half == 0, "findings stored for a vehicle whose sample is not marked scanned"
        expect = _resolved(point, first)
        if expect == "raised":
            assert first is None and runs == []
        elif expect == "failed":
            assert first.status == "failed" and [(r.state, r.attempts) for r in runs] == [("failed", 1)]
            assert "connection" in (runs[0].error or "").lower() or "server" in (runs[0].error or "").lower(), runs[0].error
        else:
            assert first.status == "done" and [(r.state, r.attempts) for r in runs] == [("done", 1)]

        again = run_period(store, settings, LogChannel(), JOBS["sampling"], str(DAY))
        assert again.status == ("skipped" if expect == "recovered" else "done"), again
        assert run_period(store, settings, LogChannel(), JOBS["sampling"], str(DAY)).status == "skipped"

        with store.session(readonly=True) as s:
            runs = s.exec(select(tables.JobRun)).all()
            samples = s.exec(select(tables.Sample, tables.Vehicle.plate).join(tables.Vehicle)).all()
            findings = s.exec(select(tables.Finding, tables.Vehicle.plate).join(tables.Vehicle)).all()
            companies = s.exec(select(tables.Company)).all()
            police = _actor(s, "police")
            draws = [sampling.verify(s, police, DAY, c.uscc, b"test-secret", settings.sampling_fraction) for c in companies]
            from listing.services import audit

            verdict = audit.verify(s, _actor(s, "admin"))
        attempts = 2 if expect == "failed" else 1
        assert [(r.job, r.period, r.state, r.attempts) for r in runs] == [("sampling", str(DAY), "done", attempts)]
        # no vehicle missing: every company's stored sample is exactly its keyed draw, all scanned
        assert all(d["match"] for d in draws) and sum(len(d["expected"]) for d in draws) == len(samples) == 2 * COMPANIES
        assert {s.status for s, _ in samples} == {"scanned"}
        # no duplicate, no lost finding: exactly the planted violations of the sampled vehicles
        keys = [(f.sample_id, f.rule, f.start) for f, _ in findings]
        assert len(keys) == len(set(keys))
        found, planted = found_and_expected(samples, findings, sim.platform, DAY)
        assert sum(planted.values()) > 0
        assert found == planted
        assert verdict.ok, verdict
    store.engine.dispose()


def _actor(session, name):
    from listing.services.users import resolve_actor

    return resolve_actor(session, name)


# garbage answers are left out: a vehicle-day without a real answer keeps its run from being done
PLATFORM_FAULTS = Faults(slow=0.2, slow_seconds=0.05, error_500=0.3, truncated=0.4, missing=0.2, cut_off=0.2, offline=0.15)
MIXED_POINTS = [Point("committing vehicle 3, platform failing", "commit", r"^UPDATE sample SET", n=3),
                Point("between vehicles, platform failing", "platform", n=4, expect="either")]


@pytest.mark.parametrize("point", MIXED_POINTS, ids=lambda p: p.name)
def test_a_restart_amid_platform_faults_ends_exactly_like_an_uninterrupted_run(fault_pg, point):
    """The platform slow, failing and answering garbage, and PostgreSQL restarted on top: the
    rerun's samples and findings equal those of the same day run once without a restart, on a
    copy of the same database against a twin of the same platform."""
    from listing.store.db import open_store

    store = open_store(fault_pg.url)
    vehicles = _world(store)
    store.engine.dispose()
    twin = open_store(fault_pg.copy())

    def run_twice(target, fault_point):
        with start_simulator(vehicles, seed=9, plant_rate=0.6, faults=PLATFORM_FAULTS) as sim:
            settings = Settings(platform_url=sim.url, platform_token="sim-token", sampling_secret="test-secret",
                                sampling_batch=2)
            first = _first_run(target, fault_pg, settings, fault_point) if fault_point else None
            run_period(target, settings, LogChannel(), JOBS["sampling"], str(DAY))
        return _outcome(target), first

    reference, _ = run_twice(twin, None)
    restarted, first = run_twice(store, point)
    assert restarted == reference
    samples, findings, run = restarted
    assert {status for _, status, _ in samples} & {"no_data", "not_on_platform", "partial"}, "the platform faults did not bite"
    assert run == ("done", 1)
    with store.session(readonly=True) as s:
        attempts = s.exec(select(tables.JobRun.attempts)).one()
    assert attempts == (2 if _resolved(point, first) == "failed" else 1)
    store.engine.dispose()
    twin.engine.dispose()


def _resolved(point: Point, first) -> str:
    """What happened at an "either" point: failed, or recovered."""
    if point.expect != "either":
        return point.expect
    return "failed" if first is not None and first.status == "failed" else "recovered"


def _outcome(store):
    with store.session(readonly=True) as s:
        samples = sorted((p, smp.status, smp.points) for smp, p in s.exec(
            select(tables.Sample, tables.Vehicle.plate).join(tables.Vehicle)).all())
        findings = sorted((p, f.rule, f.start.isoformat(), f.end.isoformat(), f.driver_id) for f, p in s.exec(
            select(tables.Finding, tables.Vehicle.plate).join(tables.Vehicle)).all())
        run = s.exec(select(tables.JobRun.state, func.count()).group_by(tables.JobRun.state)).one()
    return samples, findings, tuple(run)
