"""Officer load on PostgreSQL: N officer processes (inspections, finding decisions, problem
rectify/verify/reopen, contended) and the scheduler (deadlines, inspection tracking, sampling
against the SIMULATED platform) through the real services for a bounded time, then every
guarantee checked (tools/load/run.py): nothing lost or duplicated, no finding decided
twice, four eyes, audit chain intact, each (job, period) once. Prints throughput and p50/p95/p99
latency per operation, conflicts, deadlocks retried, and how much of each write is spent in
audit.record (waiting for the chain's single head row, which orders every write); --scaling
repeats a shorter run for several officer counts to show where throughput stops growing.

    .venv/bin/python benchmarks/load_bench.py [--workers 20] [--duration 120] [--json report.json]
    .venv/bin/python benchmarks/load_bench.py --scaling 1,2,5,10,20 --duration 20

Each run creates its own scratch database on the server of GUAPAI_TEST_PG (default
postgresql+psycopg://postgres@127.0.0.1:5432/postgres) and drops it afterwards. Exit code 1
when a guarantee broke.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tools.load.run import LoadPlan, run, scratch_database, summary  # noqa: E402


def one(workers: int, duration: float, scheduler: bool, quiet: bool = False) -> dict:
    say = (lambda message: None) if quiet else (lambda message: print(message, file=sys.stderr, flush=True))
    with scratch_database() as url:
        return run(url, LoadPlan(workers=workers, duration=duration, scheduler=scheduler),
                   Path(tempfile.mkdtemp(prefix="guapai-load-bench-")), progress=say)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workers", type=int, default=20)
    ap.add_argument("--duration", type=float, default=120.0, help="seconds of load per run")
    ap.add_argument("--scaling", help="officer counts to compare, e.g. 1,2,5,10,20")
    ap.add_argument("--no-scheduler", action="store_true")
    ap.add_argument("--json", help="write the report(s) here")
    args = ap.parse_args()
    if not args.scaling:
        report = one(args.workers, args.duration, not args.no_scheduler)
        print(summary(report))
        reports = [report]
    else:
        reports = []
        print(f"{'officers':>8}{'ops/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'in audit.record':>17}"
              f"{'conflicts':>11}{'deadlocks':>11}{'guarantees':>12}")
        for n in (int(x) for x in args.scaling.split(",")):
            r = one(n, args.duration, not args.no_scheduler, quiet=True)
            lat = r["latency_ms"].get("all", {"p50": float("nan"), "p95": float("nan"), "p99": float("nan")})
            share = r["audit_head"]["share_of_write_time_in_audit_record"]
            print(f"{n:>8}{r['throughput_ops_s']['total']:>8}{lat['p50']:>9}{lat['p95']:>9}{lat['p99']:>9}"
                  f"{share if share is None else f'{share:.0%}':>17}{r['conflicts']['total']:>11}{r['deadlocks_retried']:>11}"
                  f"{'held' if not r['violations'] else 'BROKEN':>12}", flush=True)
            reports.append(r)
    if args.json:
        Path(args.json).write_text(json.dumps(reports if args.scaling else reports[0], ensure_ascii=False, indent=2,
                                              default=str), encoding="utf-8")
    return 0 if all(not r["violations"] for r in reports) else 1


if __name__ == "__main__":
    raise SystemExit(main())
