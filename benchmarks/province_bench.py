"""Province-scale `rules check`: 50,000 companies, 500,000 vehicles, 5,000,000 violations and
50,000 accidents in the window (a SIMULATED province, generated vectorised from a seed).

Prints the time of the whole `rules check` service (aggregation in the database + criteria in
polars + explanations) on SQLite and on PostgreSQL, and the same metrics computed by a
straightforward pandas implementation in the same process (data already in memory, and
including reading it from SQLite), with the ratios.

    .venv/bin/python benchmarks/province_bench.py [--scale 1.0] [--pg URL] [--no-pg] [--regen]

The generated SQLite file is cached in benchmarks/data/ (git-ignored).
"""
from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from listing.domain.identifiers import USCC_ALPHABET, USCC_WEIGHTS  # noqa: E402
from listing.domain.policy import SYSTEM_ACTOR, Actor, Role  # noqa: E402
from listing.store.bulk import upsert  # noqa: E402
from listing.store.db import open_store  # noqa: E402
from rules.criteria import config  # noqa: E402

AS_OF = dt.date(2026, 11, 24)
UTC = dt.timezone.utc
CITY = Actor("bench", Role.REVIEWER, "bench", "*")
TYPES = np.array(["freight", "passenger", "dangerous_goods", "taxi", "bus", "other"])
RULES = Path(__file__).with_name("province_rules.toml")  # thresholds for a province's rates
CLASS = {"freight": "truck", "passenger": "coach", "dangerous_goods": "tanker", "taxi": "taxi", "bus": "bus", "other": "other"}


def generate(seed: int, scale: float) -> dict[str, pl.DataFrame]:
    rng = np.random.default_rng(seed)
    nc, nv = int(50_000 * scale), int(500_000 * scale)
    nviol, nacc = int(5_000_000 * scale), int(50_000 * scale)
    # credit codes: 91 + region + 9 alphabet chars from the index + check character
    alphabet = np.array(list(USCC_ALPHABET))
    idx = np.arange(nc)
    digits = np.stack([(idx // 31**k) % 31 for k in range(8, -1, -1)], axis=1)
    prefix = np.array([USCC_ALPHABET.index(c) for c in "91330100"])
    full = np.concatenate([np.tile(prefix, (nc, 1)), digits], axis=1)
    check = (31 - (full * np.array(USCC_WEIGHTS)).sum(axis=1) % 31) % 31
    uscc = ["".join(alphabet[row]) + alphabet[c] for row, c in zip(full, check)]
    btype = TYPES[rng.choice(len(TYPES), size=nc, p=[0.45, 0.15, 0.1, 0.12, 0.06, 0.12])]
    companies = pl.DataFrame({"uscc": uscc, "name": [f"模拟企业{i:05d}" for i in idx], "business_type": btype,
                              "jurisdiction": rng.choice([f"县区{i:02d}" for i in range(90)], size=nc)})
    owner = np.sort(rng.integers(0, nc, size=nv))  # ~10 vehicles per company, skewed by chance
    letters = np.array(list("ABCDEFGHJKLMNPQRSTUVWXYZ"))
    plates = [f"浙{letters[i // 100000 % 24]}{i % 100000:05d}" for i in range(nv)]
    active_from = (np.datetime64("2020-01-01") + rng.integers(0, 2500, size=nv).astype("timedelta64[D]"))
    vehicles = pl.DataFrame({"plate": plates, "owner": owner, "vehicle_class": [CLASS[t] for t in btype[owner]],
                             "active_from": active_from.astype("datetime64[D]")}).with_columns(pl.col("active_from").cast(pl.Date))
    window_start = np.datetime64("2025-11-25T00:00:00", "us")
    span = 365 * 86400 * 10**6
    risk = rng.gamma(2.0, 0.5, size=nv)
    pick = rng.choice(nv, size=nviol, p=risk / risk.sum())
    violations = pl.DataFrame({
        "v": pick, "occurred_at": window_start + rng.integers(0, span, size=nviol).astype("timedelta64[us]"),
        "code": rng.choice(["1344", "1352", "1636", "1039", "6048"], size=nviol),
        "points": rng.choice([1, 3, 6, 9], size=nviol), "source": "camera"})
    apick = rng.choice(nv, size=nacc, p=risk / risk.sum())
    accidents = pl.DataFrame({
        "v": apick, "occurred_at": window_start + rng.integers(0, span, size=nacc).astype("timedelta64[us]"),
        "fatalities": (rng.random(nacc) < 0.02).astype(np.int64), "injuries": rng.poisson(0.5, size=nacc),
        "responsibility": rng.choice(["full", "main", "equal", "secondary", "none"], size=nacc),
        "dangerous_goods_release": False})
    return {"companies": companies, "vehicles": vehicles,
            "violations": violations.with_columns(pl.col("occurred_at").dt.replace_time_zone("Asia/Shanghai").dt.convert_time_zone("UTC")),
            "accidents": accidents.with_columns(pl.col("occurred_at").dt.replace_time_zone("Asia/Shanghai").dt.convert_time_zone("UTC"))}


def load(store, data: dict[str, pl.DataFrame]) -> None:
    with store.session() as s:
        upsert(s, "company", data["companies"], ["uscc"])
        conn = s.connection()
        ids = pl.DataFrame(conn.exec_driver_sql("SELECT uscc, id FROM company").fetchall(), schema=["uscc", "company_id"], orient="row")
        comp = data["companies"].with_row_index("owner").join(ids, on="uscc").select(pl.col("owner").cast(pl.Int64), "company_id")
        vehicles = data["vehicles"].with_columns(pl.col("owner").cast(pl.Int64)).join(comp, on="owner", maintain_order="left")
        upsert(s, "vehicle", vehicles.select("plate", "company_id", "vehicle_class", "active_from",
                                              pl.lit(None, dtype=pl.Date).alias("active_to")), ["plate"])
        vid = pl.DataFrame(conn.exec_driver_sql("SELECT plate, id, company_id FROM vehicle").fetchall(),
                           schema=["plate", "vehicle_id", "company_id"], orient="row")
        by_index = data["vehicles"].with_row_index("v").select(pl.col("v").cast(pl.Int64), "plate").join(vid, on="plate")
        for name, table, key, cols in (
            ("violations", "violation", ["vehicle_id", "occurred_at", "code"], ["occurred_at", "vehicle_id", "company_id", "code", "points", "source"]),
            ("accidents", "accident", ["vehicle_id", "occurred_at"], ["occurred_at", "vehicle_id", "company_id", "fatalities", "injuries", "responsibility", "dangerous_goods_release"]),
        ):
            frame = data[name].with_columns(pl.col("v").cast(pl.Int64)).join(by_index, on="v").select(cols).unique(key)
            upsert(s, table, frame, key)


def pandas_metrics(companies, vehicles, accidents, violations, rules) -> "object":
    """The same metrics, written the straightforward pandas way (the peer)."""
    import pandas as pd

    start, end = pd.Timestamp("2025-11-25"), pd.Timestamp("2026-11-25")
    lo_utc, hi_utc = start.tz_localize("Asia/Shanghai").tz_convert("UTC"), end.tz_localize("Asia/Shanghai").tz_convert("UTC")
    v = vehicles.copy()
    v["lo"] = v["active_from"].clip(lower=start)
    v["hi"] = v["active_to"].fillna(end).clip(upper=end)
    v["days"] = (v["hi"] - v["lo"]).dt.days.clip(lower=0)
    exposure = v.groupby("company_id")["days"].sum() / (end - start).days
    a = accidents[(accidents["occurred_at"] >= lo_utc) & (accidents["occurred_at"] < hi_utc)]
    fatal = a[(a["fatalities"] > 0) & a["responsibility"].isin(rules.fatal_responsibility)].groupby("company_id").size()
    at_fault = a[a["responsibility"].isin(rules.at_fault)].groupby("company_id").size()
    vi = violations[(violations["occurred_at"] >= lo_utc) & (violations["occurred_at"] < hi_utc)].groupby("company_id").size()
    out = companies.set_index("id")[["business_type"]].copy()
    out["avg_vehicles"] = exposure
    out["fatal"] = fatal
    out["at_fault"] = at_fault
    out["violations"] = vi
    out = out.fillna({"avg_vehicles": 0, "fatal": 0, "at_fault": 0, "violations": 0})
    out["at_fault_pv"] = out["at_fault"] / out["avg_vehicles"].where(out["avg_vehicles"] > 0)
    out["violations_pv"] = out["violations"] / out["avg_vehicles"].where(out["avg_vehicles"] > 0)
    t = {c: out["business_type"].map(lambda b, c=c: rules.threshold(b, c)) for c in config.CRITERIA}
    hit_f, hit_a, hit_v = out["fatal"] >= t["fatal_accidents"], out["at_fault_pv"] >= t["at_fault_per_vehicle"], out["violations_pv"] >= t["violations_per_vehicle"]
    small = out["avg_vehicles"] < rules.min_fleet
    out["flagged"] = hit_f | ((~small) & (hit_a | hit_v)) | (small & hit_a & hit_v)
    return out


def timed(fn, repeat=3):
    best, result = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t)
    return best, result


def run_check(store):
    from listing.services import rules as svc

    with store.session() as s:
        return svc.check(s, CITY, AS_OF, config.load(RULES))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    ap.add_argument("--no-pg", action="store_true")
    ap.add_argument("--regen", action="store_true")
    args = ap.parse_args()
    folder = ROOT / "benchmarks" / "data"
    folder.mkdir(exist_ok=True)
    path = folder / f"province_{args.scale:g}.sqlite"
    data = None
    if args.regen or not path.exists():
        path.unlink(missing_ok=True)
        t = time.perf_counter()
        data = generate(7, args.scale)
        print(f"generated in {time.perf_counter() - t:.1f} s", flush=True)
        t = time.perf_counter()
        load(open_store(f"sqlite:///{path}"), data)
        print(f"loaded into SQLite in {time.perf_counter() - t:.1f} s", flush=True)
    sqlite = open_store(f"sqlite:///{path}")
    with sqlite.engine.connect() as c:
        sizes = {t: c.exec_driver_sql(f"SELECT count(*) FROM {t}").scalar_one() for t in ("company", "vehicle", "violation", "accident")}
    print("province:", ", ".join(f"{v:,} {k}" for k, v in sizes.items()), flush=True)
    rows = []
    t_sqlite, result = timed(lambda: run_check(sqlite))
    rows.append(("guapai rules check, SQLite", t_sqlite))
    flagged = len(result["flagged"])

    t_pg = None
    if not args.no_pg:
        import uuid

        import psycopg

        admin = args.pg.replace("+psycopg", "")
        name = f"guapai_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        try:
            pg = open_store(args.pg.rsplit("/", 1)[0] + f"/{name}")
            t = time.perf_counter()
            load(pg, data or generate(7, args.scale))
            print(f"loaded into PostgreSQL in {time.perf_counter() - t:.1f} s", flush=True)
            with pg.engine.connect() as c:
                c.exec_driver_sql("ANALYZE")
            t_pg, pg_result = timed(lambda: run_check(pg))
            assert len(pg_result["flagged"]) == flagged, "SQLite and PostgreSQL disagree"
            rows.append(("guapai rules check, PostgreSQL", t_pg))
            pg.engine.dispose()
        finally:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    import pandas as pd

    t = time.perf_counter()
    with sqlite.engine.connect() as c:
        comp = pd.read_sql("SELECT id, business_type FROM company", c)
        veh = pd.read_sql("SELECT company_id, active_from, active_to FROM vehicle", c, parse_dates=["active_from", "active_to"])
        acc = pd.read_sql("SELECT company_id, occurred_at, fatalities, responsibility FROM accident", c)
        vio = pd.read_sql("SELECT company_id, occurred_at FROM violation", c)
    for f in (acc, vio):
        f["occurred_at"] = pd.to_datetime(f["occurred_at"]).dt.tz_localize("UTC")
    t_read = time.perf_counter() - t
    t_pandas, peer = timed(lambda: pandas_metrics(comp, veh, acc, vio, config.load(RULES)))
    assert int(peer["flagged"].sum()) == flagged, (int(peer["flagged"].sum()), flagged)
    rows.append(("peer: pandas metrics, data already in memory", t_pandas))
    rows.append(("peer: pandas metrics incl. read_sql from SQLite", t_pandas + t_read))
    print(f"\nrules: {RULES.name}; {flagged:,} companies flagged (same set size in every implementation)\n")
    print(f"{'what':<52}{'seconds':>9}{'vs pandas in memory':>22}")
    for what, secs in rows:
        print(f"{what:<52}{secs:>9.2f}{secs / t_pandas:>21.2f}x")


if __name__ == "__main__":
    main()
