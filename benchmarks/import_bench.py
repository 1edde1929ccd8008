"""Import benchmark: 1,000,000 violation rows from CSV into SQLite through `import_file`
(read, validate every cell, resolve plates and ID numbers, upsert on the natural key, audit).

Prints the time, rows/s, the time of re-importing the same file (nothing changes), and the same
rows through a straightforward peer (pandas.read_csv + DataFrame.to_sql, no validation, no
upsert) measured in the same run. Usage:

    .venv/bin/python benchmarks/import_bench.py [--rows 1000000] [--keep DIR]
"""
from __future__ import annotations

import argparse
import datetime as dt
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from listing.services.imports import import_file  # noqa: E402
from listing.services.users import add_user, resolve_actor  # noqa: E402
from listing.simulation.city import CityPlan, synthetic_city  # noqa: E402
from listing.store.db import open_store  # noqa: E402

NOW = dt.datetime.now(dt.timezone.utc)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--keep", type=Path, default=None, help="keep the database and files here")
    args = ap.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="guapai-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    per_vehicle = 20.0
    plan = CityPlan(companies=max(50, int(args.rows / per_vehicle / 25)), mean_fleet=25,
                    violations_per_vehicle=per_vehicle * 1.45)  # risk mean 1, exposure < 1
    t = time.perf_counter()
    city = synthetic_city(1, dt.date(2026, 11, 24), plan)
    violations = city["violations"].head(args.rows)
    print(f"generated a SIMULATED province slice: {city['companies'].height:,} companies, "
          f"{city['vehicles'].height:,} vehicles, {violations.height:,} violations in {time.perf_counter() - t:.1f} s")
    store = open_store(f"sqlite:///{folder / 'bench.sqlite'}")
    with store.session() as s:
        add_user(s, None, "admin", "admin", "x", "*", now=NOW)
    for kind in ("companies", "vehicles", "drivers"):
        path = folder / f"{kind}.csv"
        city[kind].write_csv(path)
        with store.session() as s:
            assert import_file(s, resolve_actor(s, "admin"), kind, path, now=NOW).ok
    path = folder / "violations.csv"
    violations.write_csv(path)
    size = path.stat().st_size / 2**20

    t = time.perf_counter()
    with store.session() as s:
        result = import_file(s, resolve_actor(s, "admin"), "violations", path, now=NOW)
    first = time.perf_counter() - t
    assert result.ok and result.inserted == violations.height, result.errors[:3]
    t = time.perf_counter()
    with store.session() as s:
        again = import_file(s, resolve_actor(s, "admin"), "violations", path, now=NOW)
    second = time.perf_counter() - t
    assert again.inserted == 0 and again.updated == 0

    peer = None
    try:
        import pandas as pd

        t = time.perf_counter()
        frame = pd.read_csv(path, dtype=str)
        with sqlite3.connect(folder / "peer.sqlite") as conn:
            frame.to_sql("violation", conn, if_exists="replace", index=False, chunksize=100_000)
        peer = time.perf_counter() - t
    except ImportError:
        pass

    n = violations.height
    print(f"\n{'what':<58}{'seconds':>9}{'rows/s':>12}")
    print(f"{'guapai import violations (validate + resolve + upsert)':<58}{first:>9.2f}{n / first:>12,.0f}")
    print(f"{'guapai re-import of the same file (changes nothing)':<58}{second:>9.2f}{n / second:>12,.0f}")
    if peer:
        print(f"{'peer: pandas.read_csv + to_sql (no checks, no upsert)':<58}{peer:>9.2f}{n / peer:>12,.0f}")
        print(f"\nratio guapai / peer: {first / peer:.2f}x the peer's time")
    print(f"file: {size:.0f} MiB CSV, {n:,} rows; target: well under 60 s -> {'OK' if first < 60 else 'MISSED'}")


if __name__ == "__main__":
    main()
