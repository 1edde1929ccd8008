"""Time to sample one day for 100 listed companies (about 3,000 sampled vehicles) through the
real job: selection, HTTP fetch from the SIMULATED platform (its own process), trajectory rules,
storing findings; and where the time goes.

    .venv/bin/python benchmarks/sampling_bench.py [--companies 100] [--fleet 300]
"""
from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import pstats
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from jobs.platform.simulator import SimulatorProcess  # noqa: E402
from jobs.registry import JOBS  # noqa: E402
from jobs.scheduler import run_period  # noqa: E402
from listing.domain.identifiers import uscc_check_char  # noqa: E402
from listing.domain.policy import SYSTEM_ACTOR, Actor, Role  # noqa: E402
from listing.domain.states import Event  # noqa: E402
from listing.services import listings  # noqa: E402
from listing.services.notifications import LogChannel  # noqa: E402
from listing.settings import Settings  # noqa: E402
from listing.store.bulk import upsert  # noqa: E402
from listing.store.db import open_store  # noqa: E402

LOCAL = dt.timezone(dt.timedelta(hours=8))
REVIEWER = Actor("bench", Role.REVIEWER, "x", "*")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--companies", type=int, default=100)
    ap.add_argument("--fleet", type=int, default=300)
    args = ap.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="guapai-sampling-"))
    store = open_store(f"sqlite:///{folder / 'b.sqlite'}")
    codes = [f"91330106{i:09d}" for i in range(args.companies)]
    with store.session() as s:
        upsert(s, "company", pl.DataFrame({"uscc": [c + uscc_check_char(c) for c in codes],
                                           "name": [f"企业{i}" for i in range(args.companies)],
                                           "business_type": "freight", "jurisdiction": "西湖区"}), ["uscc"])
        ids = [r[0] for r in s.connection().exec_driver_sql("SELECT id FROM company ORDER BY id").fetchall()]
        n = args.companies * args.fleet
        upsert(s, "vehicle", pl.DataFrame({"plate": [f"浙{'ABCDEFGHJK'[i // 100000]}{i % 100000:05d}" for i in range(n)],
                                           "company_id": [ids[i // args.fleet] for i in range(n)], "vehicle_class": "truck",
                                           "active_from": dt.date(2020, 1, 1), "active_to": None},
                                          schema_overrides={"active_to": pl.Date}), ["plate"])
        vehicles = dict(s.connection().exec_driver_sql("SELECT plate, vehicle_class FROM vehicle").fetchall())
    when = dt.datetime(2026, 11, 1, 10, tzinfo=LOCAL)
    for cid in ids:
        with store.session() as s:
            lid = listings.propose(s, SYSTEM_ACTOR, cid, rules_version="bench", explanation={}, now=when).id
            listings.apply(s, REVIEWER, lid, Event.CONFIRM, now=when)
    day = dt.date(2026, 11, 23)
    began = time.perf_counter()
    # the platform has the positions before anyone asks (a real one stores what terminals sent):
    # the SIMULATED platform generates the sampled day and its context days before timing starts
    with SimulatorProcess(vehicles, seed=1, warm=[day - dt.timedelta(days=1), day, day + dt.timedelta(days=1)]) as sim:
        warmed = time.perf_counter() - began
        settings = Settings(platform_url=sim.url, platform_token="sim-token", sampling_secret="bench")
        profile = cProfile.Profile()
        t = time.perf_counter()
        profile.enable()
        out = run_period(store, settings, LogChannel(), JOBS["sampling"], str(day))
        profile.disable()
        total = time.perf_counter() - t
    assert out.status == "done", out.error
    print(f"(the simulated platform generated {len(vehicles):,} vehicles x 3 days in {warmed:.1f} s before timing)")
    print(f"{args.companies} listed companies x {args.fleet} vehicles: {out.result['selected']:,} sampled, "
          f"{out.result.get('findings', 0):,} findings, one day sampled in {total:.1f} s "
          f"({out.result['selected'] / total:.0f} vehicles/s)")
    stats = pstats.Stats(profile)
    parts = {"fetch (HTTP to the simulated platform, waiting included)": "fetch_many", "  of which decoding pages (polars)": "decode_page",
             "read positions into the columnar form": "from_frame", "trajectory rules (scan)": "scan",
             "data quality (partial data)": "data_quality", "store findings and sample status": "store_judged",
             "selection (the keyed draw)": "select_day"}
    by_name = {}
    for (file, line, name), (cc, nc, tt, ct, callers) in stats.stats.items():
        by_name[name] = max(by_name.get(name, 0.0), ct)
    for label, fn in parts.items():
        print(f"  {label:<48}{by_name.get(fn, 0.0):8.1f} s")


if __name__ == "__main__":
    main()
