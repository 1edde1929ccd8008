"""`guapai board` with 1,000 listed companies (each with a cycle, 8 weeks of daily samples,
findings, problems, inspections and missed months): time of the board service (best of 3), of
the whole command with --json and as a table (Python start-up and imports included), and the
share of the table command spent rendering rich's table. Target: the board of 1,000 listed
companies in under 1 s (the service; the ratio to the target is printed).

    .venv/bin/python benchmarks/board_bench.py [--companies 1000]
"""
from __future__ import annotations

import argparse
import datetime as dt
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
    n = ap.parse_args().companies
    path = Path(tempfile.mkdtemp()) / "board.sqlite"
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
    best = cpu = float("inf")
    for _ in range(3):
        with store.session(readonly=True) as s:
            t, c = time.perf_counter(), time.process_time()
            rows = board.board(s, actor, TODAY)
            best, cpu = min(best, time.perf_counter() - t), min(cpu, time.process_time() - c)
    commands = {}
    for label, extra in (("json", ["--json"]), ("table", []), ("table --wide", ["--wide"])):
        t = time.perf_counter()
        subprocess.run([sys.executable, "main.py", "--db", f"sqlite:///{path}", "--as", "zhao", "board", *extra],
                       cwd=ROOT, capture_output=True, check=True)
        commands[label] = time.perf_counter() - t
    t = time.perf_counter()
    subprocess.run([sys.executable, "main.py", "--help"], cwd=ROOT, capture_output=True, check=True)
    startup = time.perf_counter() - t
    print(f"board with {len(rows):,} listed companies ({len(samples):,} samples): service {best:.2f} s wall, "
          f"{cpu:.2f} s CPU ({best / 1.0:.2f}x the 1 s target by wall time; the machine is shared, so CPU is the steadier figure)")
    print("whole command: " + ", ".join(f"{k} {v:.2f} s" for k, v in commands.items())
          + f"; `guapai --help` alone (start-up) {startup:.2f} s")

if __name__ == "__main__":
    main()
