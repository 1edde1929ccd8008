"""Officer load on PostgreSQL (issue 7): N officer PROCESSES and the scheduler working one
database for a bounded time, then a check that nothing was lost, duplicated or left undone.

Seeds listed companies (vehicles, drivers, suspected findings, open and rectified problems) in
three districts plus officers of both departments, some city-level. Then each officer process
loops through the real services, each call its own unit of work: record an inspection (a unique
tag in its notes), confirm or dismiss a suspected finding, rectify / verify / reopen a problem
(four eyes). Officers pick among the first few open items of their list, so several go for the
same one: a `Conflict` (someone else was first) is not a failure, it is counted and the officer
picks again; a deadlock (SQLSTATE 40P01) or serialization failure (40001) is retried. The
scheduler process runs the real jobs (deadlines, inspection tracking, daily sampling over HTTP
against the SIMULATED platform, monthly rules) on an accelerated clock, one simulated day per
tick. Every process writes what it believes it did to its own JSON-lines file; `verify` holds
those beliefs against the database and the audit chain.

    python -m tools.load.run --workers 20 --duration 60 [--db postgresql+psycopg://.../emptydb]

Without --db a scratch database is created on GUAPAI_TEST_PG's server (default
postgres@127.0.0.1:5432) and dropped afterwards.
"""
from __future__ import annotations

import datetime as dt
import json
import multiprocessing as mp
import os
import random
import time
import traceback
import uuid
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterator

from tools.load.check import PROBLEM_ACTIONS, figures, read_results, summary, verify
from tools.load.plan import LoadPlan

JURISDICTIONS = ("西湖区", "上城区", "拱墅区")
RETRYABLE = {"40P01": "deadlock", "40001": "serialization"}
MAX_RETRIES = 8
STATEMENT_TIMEOUT_MS = 30_000  # a statement stuck longer than this is a hang, not load
FINDING_RULES = ("overspeed", "fatigue_continuous", "signal_gap", "no_data")


@dataclass(frozen=True)
class Officer:
    name: str
    role: str  # police / transport
    jurisdiction: str  # a district or "*"


def officers(n: int) -> list[Officer]:
    """Pairs of police and transport officers per district in turn, the last two city-level; fewer
    than 8 officers are all city-level (so every company has someone)."""
    out = []
    for i in range(n):
        role = "police" if i % 2 == 0 else "transport"
        city = n < 8 or i >= n - 2
        out.append(Officer(f"officer{i:02d}", role, "*" if city else JURISDICTIONS[(i // 2) % len(JURISDICTIONS)]))
    return out


def with_timeouts(url: str) -> str:
    """The URL with a statement timeout, so a hang surfaces as an error (SQLSTATE 57014)."""
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-c%20statement_timeout%3D{STATEMENT_TIMEOUT_MS}"


# ---------------------------------------------------------------- seeding

def seed(store, plan: LoadPlan, now: dt.datetime) -> dict:
    """Users, listed companies with fleets and drivers, suspected findings, problems. Returns
    the manifest `verify` starts from (problem states before the load, audit length)."""
    from sqlmodel import select

    from listing.domain.identifiers import uscc_check_char
    from listing.domain.states import Event
    from listing.services import listings
    from listing.services.users import add_user, resolve_actor
    from listing.store import tables
    from listing.timeutil import LOCAL_TZ

    cast = officers(plan.workers)
    with store.session() as s:
        add_user(s, None, "admin", "admin", "信息中心", "*", now=now)
        add_user(s, "admin", "reviewer", "reviewer", "交安委", "*", now=now)
        for o in cast:
            add_user(s, "admin", o.name, o.role, "交警大队" if o.role == "police" else "运管所", o.jurisdiction, now=now)
    rng = random.Random(plan.seed)
    companies = []  # (company_id, jurisdiction, [(vehicle_id, driver_id)])
    with store.session() as s:
        k = 0
        for jurisdiction in JURISDICTIONS:
            for _ in range(plan.companies_per_jurisdiction):
                k += 1
                code = f"91330106{k:09d}"
                c = tables.Company(uscc=code + uscc_check_char(code), name=f"负载测试运输公司{k}",
                                   business_type="freight", jurisdiction=jurisdiction)
                s.add(c)
                s.flush()
                fleet = []
                for i in range(plan.vehicles):
                    v = tables.Vehicle(plate=f"浙A{k:02d}{i:03d}", company_id=c.id, vehicle_class="coach" if i % 5 == 0 else "truck",
                                       active_from=dt.date(2020, 1, 1))
                    d = tables.Driver(id_number=f"330106199001{k:02d}{i:04d}", name=f"司机{k}-{i}", company_id=c.id)
                    s.add_all([v, d])
                    s.flush()
                    s.add(tables.Assignment(driver_id=d.id, vehicle_id=v.id, start=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)))
                    fleet.append((v.id, d.id))
                companies.append((c.id, jurisdiction, fleet))
    confirmed = dt.datetime.combine(now.astimezone(LOCAL_TZ).date() - dt.timedelta(days=40), dt.time(10), tzinfo=LOCAL_TZ)
    listing_of = {}
    with store.session() as s:
        reviewer = resolve_actor(s, "reviewer")
        for cid, _, _ in companies:
            lid = listings.propose(s, reviewer, cid, rules_version="load", explanation={}, now=confirmed).id
            listings.apply(s, reviewer, lid, Event.CONFIRM, now=confirmed)
            listing_of[cid] = lid
    today = now.astimezone(LOCAL_TZ).date()
    with store.session() as s:
        samples: dict = {}
        for j in range(plan.n_findings()):
            cid, _, fleet = companies[j % len(companies)]
            slot = j // len(companies)
            vid, did = fleet[slot % len(fleet)]
            day = today - dt.timedelta(days=3 + slot // len(fleet))  # before any day the scheduler samples
            if (day, vid) not in samples:
                sample = tables.Sample(day=day, company_id=cid, listing_id=listing_of[cid], vehicle_id=vid, rank=0,
                                       status="scanned", points=2880, scanned_at=now)
                s.add(sample)
                s.flush()
                samples[(day, vid)] = sample.id
            start = dt.datetime.combine(day, dt.time(8), tzinfo=LOCAL_TZ) + dt.timedelta(minutes=j % 600)
            rule = FINDING_RULES[j % len(FINDING_RULES)]
            s.add(tables.Finding(sample_id=samples[(day, vid)], day=day, company_id=cid, vehicle_id=vid, driver_id=did,
                                 rule=rule, start=start, end=start + dt.timedelta(minutes=3), evidence={"seeded": True}))
        s.flush()
        for j in range(plan.n_problems()):
            cid, jurisdiction, _ = companies[j % len(companies)]
            rectified = j % 3 == 2
            s.add(tables.Problem(company_id=cid, listing_id=listing_of[cid], source="inspection", source_id=None,
                                 description=f"台账不全(种子 {j})", owner="负载测试运输公司", due=today + dt.timedelta(days=15),
                                 state="rectified" if rectified else "open", created_at=now,
                                 rectified_by=rng.choice([o.name for o in cast if o.jurisdiction in (jurisdiction, "*")] or ["seed-officer"])
                                 if rectified else None,
                                 rectified_at=now if rectified else None))
        s.flush()
        problems = {p.id: [p.state, p.rectified_by] for p in s.exec(select(tables.Problem)).all()}
        head = s.exec(select(tables.AuditHead)).one()
        vehicles = dict(s.exec(select(tables.Vehicle.plate, tables.Vehicle.vehicle_class)).all())
    return {"officers": [asdict(o) for o in cast], "problems": problems, "audit_seq": head.seq,
            "vehicles": vehicles, "findings": plan.n_findings(), "companies": len(companies)}


# ---------------------------------------------------------------- the officer process

class _Recorder:
    """One process's JSON-lines result file, line-buffered so a crash leaves what was done."""

    def __init__(self, path: Path):
        self.fh = open(path, "w", encoding="utf-8", buffering=1)

    def __call__(self, **rec) -> None:
        self.fh.write(json.dumps(rec, ensure_ascii=False, default=str) + "\n")


def _sqlstate(exc: BaseException) -> str | None:
    orig = getattr(exc, "orig", None)
    return getattr(orig, "sqlstate", None) or getattr(exc, "sqlstate", None)


def write_retrying(store, fn, *, on_retry=lambda sqlstate, attempt: None, retries: int = MAX_RETRIES,
                   rng: random.Random | None = None):
    """(fn(session), attempts): `fn` in its own unit of work, run again after a deadlock (SQLSTATE
    40P01: PostgreSQL aborted this transaction to break a cycle) or a serialization failure
    (40001), as an officer would press the button again. Anything else propagates."""
    from sqlalchemy.exc import DBAPIError

    rng = rng or random.Random()
    for attempt in range(1, retries + 1):
        try:
            with store.session() as s:
                return fn(s), attempt
        except DBAPIError as exc:
            state = _sqlstate(exc)
            if state not in RETRYABLE or attempt == retries:
                raise
            on_retry(state, attempt)
            time.sleep(rng.uniform(0.005, 0.05) * attempt)
    raise AssertionError("unreachable")


class _OfficerAtWork:
    def __init__(self, store, officer: Officer, rng: random.Random, record: _Recorder, hot: int, run_id: str):
        from listing.services.users import resolve_actor

        self.store, self.me, self.rng, self.record, self.hot, self.run_id = store, officer, rng, record, hot, run_id
        with store.session(readonly=True) as s:  # as the CLI does: the acting user from the users table
            self.actor = resolve_actor(s, officer.name)
        self.n = 0
        self.audit_s = 0.0
        self.audit_end = 0.0
        self._time_audit()

    def _time_audit(self) -> None:
        """Measure how long each write spends in audit.record (waiting for the audit_head row
        lock, then appending) and after it until commit (the lock is held till then)."""
        from listing.services import audit

        original = audit.record

        def timed(*args, **kwargs):
            t = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.audit_end = time.perf_counter()
                self.audit_s += self.audit_end - t

        audit.record = timed

    # -- the unit-of-work wrapper: retries deadlocks and serialization failures, times the call
    def _write(self, kind: str, target, fn):
        from sqlalchemy.exc import DBAPIError

        from messages.errors import Conflict, PermissionDenied

        started = time.perf_counter()
        self.audit_s = 0.0

        def retry(state, attempt):
            self.record(t="retry", kind=kind, target=target, sqlstate=state, attempt=attempt)
            self.audit_s = 0.0

        try:
            out, attempts = write_retrying(self.store, fn, on_retry=retry, rng=self.rng)
        except DBAPIError as exc:
            state = _sqlstate(exc)
            first = " / ".join(str(getattr(exc, "orig", None) or exc).splitlines()[:2])  # message and DETAIL, not the SQL
            self.record(t="error", kind=kind, target=target, sqlstate=state, error=f"{type(exc).__name__}: {first[:500]}"
                        + (f" (still failing after {MAX_RETRIES} attempts)" if state in RETRYABLE else ""))
            return False
        except Conflict as exc:
            self.record(t="conflict", kind=kind, target=target, key=exc.key, ms=(time.perf_counter() - started) * 1000)
            return False
        except PermissionDenied as exc:
            # four eyes refusing a verification is the check working (the list we read was stale)
            self.record(t="refused" if exc.key == "err.four_eyes" else "error", kind=kind, target=target, key=exc.key,
                        error=str(exc))
            return False
        except Exception as exc:  # noqa: BLE001 - anything else is a finding of the load test
            self.record(t="error", kind=kind, target=target, error="".join(traceback.format_exception_only(exc)).strip()[:800],
                        trace="".join(traceback.format_exc()).splitlines()[-8:])
            return False
        done = time.perf_counter()
        self.record(t="ok", kind=kind, target=target, ms=(done - started) * 1000, attempts=attempts,
                    audit_ms=self.audit_s * 1000, commit_ms=(done - self.audit_end) * 1000, **out)
        return True

    def _ids(self, query) -> list[int]:
        from listing.store.tables import Company

        if not self.actor.city_level:
            query = query.where(Company.jurisdiction == self.actor.jurisdiction)
        with self.store.session(readonly=True) as s:
            return list(s.exec(query.limit(self.hot)).all())

    def inspection(self) -> bool:
        from sqlmodel import select

        from listing.services import inspections
        from listing.store.tables import Company
        from listing.timeutil import LOCAL_TZ, system_clock

        query = select(Company.uscc).order_by(Company.id)
        if not self.actor.city_level:
            query = query.where(Company.jurisdiction == self.actor.jurisdiction)
        with self.store.session(readonly=True) as s:
            company = self.rng.choice(s.exec(query).all())
        self.n += 1
        tag = f"load:{self.run_id}:{self.me.name}:{self.n}"
        now = system_clock()
        found = [("消防器材过期", now.astimezone(LOCAL_TZ).date() + dt.timedelta(days=10))] if self.rng.random() < 0.3 else []

        def work(s):
            row = inspections.record(s, self.actor, company, self.me.role, now.astimezone(LOCAL_TZ).date(), now=now,
                                     notes=tag, findings=[p[0] for p in found], problems=found)
            return {"id": row.id, "tag": tag, "problems": len(found)}

        return self._write("inspection", company, work)

    def finding(self) -> bool | None:
        from sqlmodel import select

        from listing.services import findings
        from listing.store.tables import Company, Finding
        from listing.timeutil import system_clock

        ids = self._ids(select(Finding.id).join(Company, Company.id == Finding.company_id)
                        .where(Finding.state == "suspected").order_by(Finding.id))
        if not ids:
            return None
        fid = self.rng.choice(ids)
        if self.rng.random() < 0.75:
            def work(s):
                row = findings.confirm(s, self.actor, fid, now=system_clock(), lang="en")
                return {"id": fid, "problem_id": row.problem_id, "violation_id": row.violation_id}

            return self._write("finding.confirm", fid, work)

        def dismiss(s):
            findings.dismiss(s, self.actor, fid, reason="轨迹复核无违法(负载测试)", now=system_clock())
            return {"id": fid}

        return self._write("finding.dismiss", fid, dismiss)

    def problem(self) -> bool | None:
        from sqlmodel import select

        from listing.services import problems
        from listing.store.tables import Company, Problem
        from listing.timeutil import system_clock

        actions = ["rectify", "verify", "reopen"]
        first = self.rng.choices(actions, weights=(45, 45, 10))[0]
        for action in [first] + [a for a in actions if a != first]:
            query = (select(Problem.id).join(Company, Company.id == Problem.company_id)
                     .where(Problem.state.in_(PROBLEM_ACTIONS[action])).order_by(Problem.id))
            if action == "verify":
                query = query.where(Problem.rectified_by != self.me.name)
            ids = self._ids(query)
            if ids:
                pid = self.rng.choice(ids)

                def work(s, pid=pid, action=action):
                    problems.change(s, self.actor, pid, action, now=system_clock(), note="负载测试")
                    return {"id": pid}

                return self._write(f"problem.{action}", pid, work)
        return None

    def loop(self, end_at: float) -> None:
        weights = (30, 40, 30) if self.me.role == "police" else (40, 0, 60)
        while time.time() < end_at:
            kind = self.rng.choices(("inspection", "finding", "problem"), weights=weights)[0]
            if kind == "inspection":
                self.inspection()
            elif (self.finding() if kind == "finding" else self.problem()) is None:
                self.inspection()  # nothing left on that list: go and inspect


def _officer_main(url: str, officer: dict, plan: dict, out: str, run_id: str, ready, go, end_at) -> None:
    record = _Recorder(Path(out))
    try:
        from listing.store.db import open_store

        store = open_store(with_timeouts(url), migrate=False)
        me = Officer(**officer)
        work = _OfficerAtWork(store, me, random.Random(f"{plan['seed']}:{me.name}"), record, plan["hot"], run_id)
        ready.put(me.name)
        if not go.wait(plan["start_timeout"]):
            record(t="crash", error="never told to start")
            raise SystemExit(2)
        record(t="start", at=time.time())
        work.loop(end_at.value)
        record(t="done", at=time.time())
        store.engine.dispose()
    except SystemExit:
        raise
    except BaseException as exc:  # noqa: BLE001 - recorded for the report, then the process fails
        record(t="crash", error="".join(traceback.format_exception(exc))[-3000:])
        raise SystemExit(1)


# ---------------------------------------------------------------- the scheduler process

def _scheduler_main(url: str, plan: dict, vehicles: dict, out: str, ready, go, end_at) -> None:
    record = _Recorder(Path(out))
    try:
        from listing.simulation.platform import start_simulator
        from jobs.scheduler import simulated_clock, tick
        from listing.services.notifications import LogChannel
        from listing.settings import Settings
        from listing.store.db import open_store
        from listing.timeutil import LOCAL_TZ, system_clock

        store = open_store(with_timeouts(url), migrate=False)
        today = system_clock().astimezone(LOCAL_TZ).date()
        clock, advance = simulated_clock(dt.datetime.combine(today, dt.time(12), tzinfo=LOCAL_TZ))
        channel = LogChannel(sink=lambda message: None)
        with start_simulator(vehicles, seed=plan["seed"], plant_rate=0.3) as sim:
            settings = Settings(platform_url=sim.url, platform_token="sim-token", sampling_secret="load-secret",
                                catch_up_days=1, notify_lang="en")
            ready.put("scheduler")
            if not go.wait(plan["start_timeout"]):
                record(t="crash", error="never told to start")
                raise SystemExit(2)
            record(t="start", at=time.time())

            def one_tick(final: bool) -> None:
                started = time.perf_counter()
                for o in tick(store, settings, channel, clock=clock, owner=f"load-scheduler:{os.getpid()}"):
                    record(t="job", job=o.job, period=o.period, status=o.status, error=o.error, resumed=o.resumed,
                           final=final, sim_day=str(clock().date()))
                record(t="tick", ms=(time.perf_counter() - started) * 1000, sim_day=str(clock().date()))

            while time.time() < end_at.value:
                one_tick(False)
                advance(dt.timedelta(hours=plan["step_hours"]))
            one_tick(True)  # a run that failed (say, on a deadlock) is retried by the next tick: this one
        record(t="done", at=time.time())
        store.engine.dispose()
    except SystemExit:
        raise
    except BaseException as exc:  # noqa: BLE001
        record(t="crash", error="".join(traceback.format_exception(exc))[-3000:])
        raise SystemExit(1)


# ---------------------------------------------------------------- running

def _pg_counters(store) -> dict:
    with store.engine.connect() as conn:
        row = conn.exec_driver_sql("SELECT deadlocks, xact_commit, xact_rollback FROM pg_stat_database "
                                   "WHERE datname = current_database()").one()
    return {"deadlocks": row[0], "commits": row[1], "rollbacks": row[2]}


def run(url: str, plan: LoadPlan, workdir: Path, progress=lambda message: None) -> dict:
    """Seed the (empty) PostgreSQL database at `url`, run the load, verify. Returns the report;
    report["violations"] lists every broken guarantee (empty: all held)."""
    from listing.store.db import open_store
    from listing.timeutil import system_clock

    workdir.mkdir(parents=True, exist_ok=True)
    store = open_store(url)
    if store.dialect != "postgresql":
        raise ValueError("the load runs on PostgreSQL (several processes writing at once)")
    t = time.perf_counter()
    manifest = seed(store, plan, system_clock())
    seed_s = time.perf_counter() - t
    progress(f"seeded {manifest['companies']} listed companies, {manifest['findings']} findings, "
             f"{len(manifest['problems'])} problems in {seed_s:.1f} s")
    (workdir / "manifest.json").write_text(json.dumps({k: v for k, v in manifest.items() if k != "vehicles"}, ensure_ascii=False),
                                           encoding="utf-8")
    run_id = uuid.uuid4().hex[:8]
    ctx = mp.get_context("spawn")
    ready, go, end_at = ctx.Queue(), ctx.Event(), ctx.Value("d", 0.0)
    plan_d = asdict(plan)
    procs = []
    for o in manifest["officers"]:
        procs.append(ctx.Process(target=_officer_main, name=o["name"], daemon=True,
                                 args=(url, o, plan_d, str(workdir / f"{o['name']}.jsonl"), run_id, ready, go, end_at)))
    if plan.scheduler:
        procs.append(ctx.Process(target=_scheduler_main, name="scheduler", daemon=True,
                                 args=(url, plan_d, manifest["vehicles"], str(workdir / "scheduler.jsonl"), ready, go, end_at)))
    t = time.perf_counter()
    for p in procs:
        p.start()
    waiting = {p.name for p in procs}
    deadline = time.time() + plan.start_timeout
    import queue as _queue

    while waiting and time.time() < deadline:
        try:
            waiting.discard(ready.get(timeout=1.0))
        except _queue.Empty:
            if not any(p.is_alive() for p in procs if p.name in waiting):
                break
    startup_s = time.perf_counter() - t
    before = _pg_counters(store)
    end_at.value = time.time() + plan.duration
    started = time.time()
    go.set()
    progress(f"{len(procs)} processes ready in {startup_s:.1f} s ({', '.join(sorted(waiting)) + ' missing' if waiting else 'all ready'}); load for {plan.duration:g} s")
    hung = []
    for p in procs:
        p.join(timeout=max(1.0, end_at.value + plan.grace - time.time()))
        if p.is_alive():
            hung.append(p.name)
            p.terminate()
            p.join(10)
    finished = time.time()
    time.sleep(0.6)  # PostgreSQL's statistics are flushed about every half second
    after = _pg_counters(store)
    results = {p.name: read_results(workdir / f"{p.name}.jsonl") for p in procs}
    exits = {p.name: p.exitcode for p in procs}
    report = verify(store, manifest, results)
    report.update(figures(results, started, plan))
    report["processes"] = {"officers": plan.workers, "scheduler": int(plan.scheduler), "not_ready": sorted(waiting),
                           "hung": hung, "failed": {n: c for n, c in exits.items() if c != 0}}
    for name in hung:
        report["violations"].append(f"process {name} hung (still running {plan.grace:g} s after the end)")
    for name, code in report["processes"]["failed"].items():
        report["violations"].append(f"process {name} exited with {code}")
    for name in waiting:
        report["violations"].append(f"process {name} never got ready")
    report["pg"] = {k: after[k] - before[k] for k in after}
    report["run"] = {"duration_s": plan.duration, "seed_s": round(seed_s, 1), "startup_s": round(startup_s, 1),
                     "wall_s": round(finished - started, 1), "run_id": run_id, "workdir": str(workdir)}
    store.engine.dispose()
    return report


@contextmanager
def scratch_database(admin_url: str | None = None) -> Iterator[str]:
    """A new, empty PostgreSQL database for one run, dropped afterwards."""
    import psycopg

    admin_url = admin_url or os.environ.get("GUAPAI_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    name = f"guapai_load_{uuid.uuid4().hex[:10]}"
    admin = admin_url.replace("+psycopg", "")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main(argv: list[str] | None = None) -> int:
    import argparse
    import sys
    import tempfile

    ap = argparse.ArgumentParser(prog="python -m tools.load.run", description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", help="an EMPTY PostgreSQL database (default: a scratch database, dropped afterwards)")
    ap.add_argument("--workers", type=int, default=20)
    ap.add_argument("--duration", type=float, default=60.0)
    ap.add_argument("--no-scheduler", action="store_true")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--json", metavar="FILE", help="also write the report as JSON here")
    args = ap.parse_args(argv)
    plan = LoadPlan(workers=args.workers, duration=args.duration, scheduler=not args.no_scheduler, seed=args.seed)
    workdir = Path(tempfile.mkdtemp(prefix="guapai-load-"))
    say = lambda message: print(message, file=sys.stderr, flush=True)  # noqa: E731
    if args.db:
        report = run(args.db, plan, workdir, progress=say)
    else:
        with scratch_database() as url:
            report = run(url, plan, workdir, progress=say)
    print(summary(report))
    if args.json:
        Path(args.json).write_text(json.dumps(report, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    return 0 if not report["violations"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
