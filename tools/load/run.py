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
import time
import traceback
import uuid
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Iterator

from tools.load.check import figures, read_results, summary, verify
from tools.load.officer import officer_main, Recorder, with_timeouts
from tools.load.plan import LoadPlan
from tools.load.seed import seed

# ---------------------------------------------------------------- the scheduler process

def _scheduler_main(url: str, plan: dict, vehicles: dict, out: str, ready, go, end_at) -> None:
    record = Recorder(Path(out))
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
        procs.append(ctx.Process(target=officer_main, name=o["name"], daemon=True,
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
