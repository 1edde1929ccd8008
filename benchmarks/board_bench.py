"""`guapai board` with 1,000 listed companies (each with a cycle, 8 weeks of daily samples,
findings, problems, inspections and missed months). Target: the board of 1,000 listed companies
in under 1 s, measured end to end (the whole command as a person types it: Python start-up,
imports, the board service, rendering).

Prints, for 1,000 companies:
- the whole command, wall and CPU (best of 3): `--json`, the table piped (plain, 80 columns),
  the table on a terminal (colours, 160 columns), `--wide`; and `guapai --help` (start-up alone);
  each with its ratio to the 1 s target; and the imports every board command pays before its
  first query (the floor the service and rendering add to);
- the split inside the process: the board service, and rendering the table (best of 3).
The machine is shared, so CPU time is the steadier figure.

    .venv/bin/python benchmarks/board_bench.py [--companies 1000] [--keep /tmp/board.sqlite]
"""
from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from listing.domain.identifiers import uscc_check_char  # noqa: E402
from listing.domain.policy import Actor, Role  # noqa: E402
from listing.services import board  # noqa: E402
from listing.services.users import add_user  # noqa: E402
from listing.store.bulk import upsert  # noqa: E402
from listing.store.db import open_store  # noqa: E402

TODAY = dt.date(2026, 11, 24)
UTC = dt.timezone.utc


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--companies", type=int, default=1000)
    ap.add_argument("--keep", type=Path, help="Build the database at this path and keep it (for profiling).")
    args = ap.parse_args()
    n = args.companies
    path = args.keep or Path(tempfile.mkdtemp()) / "board.sqlite"
    path.unlink(missing_ok=True)
    store = open_store(f"sqlite:///{path}")
    now = dt.datetime(2026, 11, 24, 2, tzinfo=UTC)
    with store.session() as s:
        add_user(s, None, "admin", "admin", "x", "*", now=now)
        add_user(s, "admin", "zhao", "reviewer", "x", "*", now=now)
        codes = [f"91330106{i:09d}" for i in range(n)]
        upsert(s, "company", pl.DataFrame({"uscc": [c + uscc_check_char(c) for c in codes], "name": [f"企业{i:04d}" for i in range(n)],
                                           "business_type": "freight", "jurisdiction": "西湖区"}), ["uscc"])
        conn = s.connection()
        ids = [r[0] for r in conn.exec_driver_sql("SELECT id FROM company ORDER BY id").fetchall()]
        upsert(s, "vehicle", pl.DataFrame({"plate": [f"浙B{i:05d}" for i in range(n * 10)], "company_id": [ids[i // 10] for i in range(n * 10)],
                                           "vehicle_class": "truck", "active_from": dt.date(2020, 1, 1)}), ["plate"])
        start = TODAY - dt.timedelta(days=60)
        conn.exec_driver_sql(
            "INSERT INTO listing (company_id, state, cycle, cycle_start, cycle_due, consecutive_failures, escalated, rules_version, proposed_at, version) "
            f"SELECT id, 'listed', 1, '{start}', '{start + dt.timedelta(days=91)}', 0, 0, 'bench', '2026-09-01 00:00:00.000000', 1 FROM company")
        conn.exec_driver_sql("INSERT INTO cycle (listing_id, number, start, due) SELECT id, 1, cycle_start, cycle_due FROM listing")
        conn.exec_driver_sql("INSERT INTO inspection_miss (listing_id, company_id, month, department, recorded_at) "
                             "SELECT id, company_id, '2026-10', 'police', '2026-11-01 00:00:00.000000' FROM listing WHERE id % 3 = 0")
        vids = conn.exec_driver_sql("SELECT id, company_id FROM vehicle").fetchall()
        samples = [(TODAY - dt.timedelta(days=d), cid, vid, 0, "scanned") for vid, cid in vids if vid % 10 == 0 for d in range(1, 57)]
        conn.connection.driver_connection.executemany(
            "INSERT INTO sample (day, company_id, vehicle_id, rank, status, points) VALUES (?, ?, ?, ?, ?, 900)",
            [(str(a), b, c, d, e) for a, b, c, d, e in samples])
        conn.exec_driver_sql("INSERT INTO finding (sample_id, day, company_id, vehicle_id, rule, start, \"end\", state, version) "
                             "SELECT id, day, company_id, vehicle_id, 'overspeed', day || ' 02:00:00.000000', day || ' 02:05:00.000000', 'suspected', 1 "
                             "FROM sample WHERE id % 7 = 0")
        conn.exec_driver_sql("INSERT INTO problem (company_id, source, description, due, state, created_at, version) "
                             f"SELECT company_id, 'finding', 'x', '{TODAY - dt.timedelta(days=3)}', 'open', '2026-11-01 00:00:00.000000', 1 FROM sample WHERE id % 50 = 0")
        conn.exec_driver_sql("INSERT INTO inspection (company_id, department, inspector, day, company_not_listed, recorded_at) "
                             f"SELECT id, 'transport', 'li', '{TODAY - dt.timedelta(days=5)}', 0, '2026-11-19 00:00:00.000000' FROM company")
    actor = Actor("zhao", Role.REVIEWER, "x", "*")
    service = best_of(3, lambda: _service(store, actor))
    with store.session(readonly=True) as s:
        rows = board.board(s, actor, TODAY)
    render = {label: best_of(3, lambda: _render(rows, **kw)) for label, kw in (
        ("table, terminal 160 columns", {"terminal": True}), ("table, piped", {"terminal": False}),
        ("--wide, terminal", {"terminal": True, "wide": True}))}
    base = [sys.executable, "main.py", "--db", f"sqlite:///{path}", "--as", "zhao"]
    plain = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "COLUMNS", "NO_COLOR", "TTY_COMPATIBLE")}
    terminal = dict(plain, FORCE_COLOR="1", COLUMNS="160")
    commands = {label: best_of(3, lambda: _command(base + args, env)) for label, args, env in (
        ("board --json", ["board", "--json"], plain), ("board (piped)", ["board"], plain),
        ("board (terminal)", ["board"], terminal), ("board --wide (terminal)", ["board", "--wide"], terminal),
        ("--help (start-up alone)", ["--help"], plain))}
    # what every board command pays before its first query: Python, typer, SQLAlchemy, SQLModel's tables
    commands["imports alone (no query)"] = best_of(3, lambda: _command(
        [sys.executable, "-c", "import main, listing.services.board, listing.store.db, rich.console"], plain))
    print(f"board of {len(rows):,} listed companies ({len(samples):,} samples); target 1 s end to end")
    print("whole command (best of 3, wall / CPU, ratio to the 1 s target by wall):")
    for label, (wall, cpu) in commands.items():
        print(f"  {label:<34} {wall:5.2f} s / {cpu:5.2f} s CPU  {wall / 1.0:4.2f}x")
    print("inside the process (best of 3, wall / CPU):")
    print(f"  {'board service':<34} {service[0]:5.2f} s / {service[1]:5.2f} s CPU")
    for label, (wall, cpu) in render.items():
        print(f"  {'render ' + label:<34} {wall:5.2f} s / {cpu:5.2f} s CPU")


def best_of(n: int, fn) -> tuple[float, float]:
    """The best wall time and the best CPU time of n runs of fn, which returns (wall, cpu)."""
    runs = [fn() for _ in range(n)]
    return min(w for w, _ in runs), min(c for _, c in runs)


def _service(store, actor) -> tuple[float, float]:
    with store.session(readonly=True) as s:
        t, c = time.perf_counter(), time.process_time()
        board.board(s, actor, TODAY)
        return time.perf_counter() - t, time.process_time() - c


def _render(rows: list[dict], terminal: bool, wide: bool = False) -> tuple[float, float]:
    from rich.console import Console

    from cli.board import print_board

    out = io.StringIO()
    console = Console(file=out, width=160 if terminal else 80, force_terminal=terminal,
                      color_system="truecolor" if terminal else None)
    t, c = time.perf_counter(), time.process_time()
    print_board(rows, wide=wide, console=console)
    return time.perf_counter() - t, time.process_time() - c


def _command(args: list[str], env: dict) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run(args, cwd=ROOT, env=env, capture_output=True, check=True)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


if __name__ == "__main__":
    main()
