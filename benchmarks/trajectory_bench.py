"""Trajectory benchmark: points per second for the full rule set on SIMULATED vehicle-days
(30 s reports, trips with rests, night driving, planted violations, GPS noise, gaps), next to
plain numpy overspeed episodes, a DuckDB SQL version of overspeed-episode detection, and the
peers MovingPandas (speed + stop detection) and trackintel (staypoints) on a subset, with
ratios and peak memory. One process, same data, measured side by side; the load average is
printed with the figures.

    .venv/bin/python benchmarks/trajectory_bench.py [--vehicles 3000] [--subset 20] [--e2e] [--big] [--before main]

The engine figures are on one core: POLARS_MAX_THREADS=1, `scan(..., workers=1)` (the default),
and the numba kernels are single-threaded (no prange). --e2e measures `guapai trajectory scan
FILE --json` from process start to JSON written, with its peak RSS, on a 3,000-vehicle,
8.6 M-point Parquet day (a position every 30 s, rows in time order across vehicles as platforms
export them), next to a DuckDB process that finds only overspeed episodes with window functions
on the same file. That command may use every core, as DuckDB does: polars reads on its threads,
the kernels load on a thread while the file is read, and the engine scans parts of whole
vehicles on two threads (the same findings as one). --big also streams a 100-million-point day
(35,000 vehicles) from Parquet (slow to generate). --before REV times the full rule set in this
tree and in git revision REV (exported to a temporary folder) on the same points, in processes
interleaved, by CPU time on one core: the before/after ratio holds on a loaded machine.

Figures (issue 13; 2-core machines, load average in brackets; README "Benchmarks" has more):
  before: full rule set 4.34 M points/s on one core (quiet); --e2e 4.69 s and 1,008 MiB against
          DuckDB 1.21 s (3.88x slower).
  first machine (load 4.3-8.6, 2026-12-02 14:05 UTC): --before main, CPU time, interleaved:
          0.23-0.34 s (9.0-13.4 M points/s) against 0.66-0.74 s (4.2-4.7 M/s), 2.86x; quiet,
          15:11 UTC: --e2e 2.61 s and 1,076 MiB against DuckDB 1.45 s (1.79x slower).
  second, slower machine (quiet, load 0.9-1.4, 18:03-18:14 UTC): default run 6.8 M points/s,
          1.04x DuckDB in-process, 3,923x MovingPandas, 1,041x trackintel; --e2e 3.15 s and
          861 MiB against DuckDB 2.65 s (1.19x slower; 6a066c5 on the same day, interleaved:
          4.15-4.29 s and 935-956 MiB). Targets: 15 M/s not met; faster than DuckDB not met;
          peak RSS under 1 GB met.
  third, faster machine (quiet, load 0.1-1.5, 2026-12-03 07:01-07:06 UTC), kernels compiled
          ahead of time: default run 16.3 M points/s, 1.2x DuckDB in-process (14.0 M/s),
          3,074x MovingPandas, 644x trackintel; --before 719e9fd by CPU time 14.3-15.0 against
          11.4-12.3 M/s (1.22x); --e2e 0.87-0.95 s and 770-794 MiB against DuckDB 1.01 s
          (0.86-0.95x), from the JIT 1.01-1.19 s and 867-883 MiB. Targets: all met there.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

os.environ.setdefault("POLARS_MAX_THREADS", "1")  # the engine on one core (before polars is imported)

import numpy as np  # noqa: E402
import polars as pl  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rules.trajectory import load_rules, scan, simulated_vehicle_day  # noqa: E402
from rules.trajectory.synthetic import PLANTS  # noqa: E402

RULES = load_rules()
DAY = dt.date(2026, 11, 23)
CLASSES = ["truck", "coach", "bus", "taxi", "tanker"]


def fleet(n: int, seed: int = 1) -> tuple[pl.DataFrame, dict[str, str]]:
    rng = np.random.default_rng(seed)
    frames, classes = [], {}
    for i in range(n):
        cls = CLASSES[i % len(CLASSES)]
        plant = [p for p in PLANTS if rng.random() < 0.05]
        if cls not in ("coach", "bus", "taxi", "tourist_coach"):
            plant = [p for p in plant if p not in ("night_overspeed", "early_morning")]
        if cls != "coach":
            plant = [p for p in plant if p != "early_morning"]
        frame, _ = simulated_vehicle_day(seed, f"V{i:06d}", DAY, cls, plant)
        frames.append(frame)
        classes[f"V{i:06d}"] = cls
    return pl.concat(frames), classes


def best(fn, repeat=3):
    times = []
    result = None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return min(times), result


def numpy_overspeed(points: pl.DataFrame, limit: float = 100.0, min_s: float = 60.0) -> int:
    """Plain numpy overspeed episodes (sorted input, one limit): the floor to compare against."""
    t = points["time"].dt.epoch("us").to_numpy() / 1e6
    v = points["speed_kmh"].to_numpy()
    vid = points["vehicle"].cast(pl.Categorical).to_physical().to_numpy()
    over = v > limit
    brk = np.r_[True, vid[1:] != vid[:-1]]
    cont = np.r_[False, over[1:] & over[:-1] & ~brk[1:]]
    starts = np.flatnonzero(over & ~cont)
    ends = np.flatnonzero(over & ~np.r_[cont[1:], False])
    return int(((t[ends] - t[starts]) >= min_s).sum())


def duckdb_overspeed(points: pl.DataFrame, limit: float = 100.0, min_s: float = 60.0) -> int:
    import duckdb

    con = duckdb.connect()
    con.register("p", points.select("vehicle", "time", "speed_kmh").to_arrow())
    sql = f"""
    WITH flagged AS (
      SELECT vehicle, time, speed_kmh > {limit} AS over,
             row_number() OVER (PARTITION BY vehicle ORDER BY time) AS rn
      FROM p),
    grouped AS (
      SELECT vehicle, time, rn - row_number() OVER (PARTITION BY vehicle ORDER BY time) AS grp
      FROM flagged WHERE over)
    SELECT count(*) FROM (
      SELECT vehicle, grp, max(time) - min(time) AS d FROM grouped GROUP BY vehicle, grp)
    WHERE epoch(d) >= {min_s}"""
    return con.execute(sql).fetchone()[0]


def movingpandas_rate(points: pl.DataFrame) -> float:
    import warnings

    warnings.filterwarnings("ignore")
    import geopandas as gpd
    import movingpandas as mpd

    frame = points.select("vehicle", "time", "lat", "lon").to_pandas()
    frame["time"] = frame["time"].dt.tz_localize(None)
    gdf = gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(frame["lon"], frame["lat"]), crs="EPSG:4326")
    t = time.perf_counter()
    tc = mpd.TrajectoryCollection(gdf, "vehicle", t="time")
    tc.add_speed(units=("km", "h"), overwrite=True)
    mpd.TrajectoryStopDetector(tc).get_stop_points(min_duration=dt.timedelta(minutes=20), max_diameter=100)
    return len(frame) / (time.perf_counter() - t)


def trackintel_rate(points: pl.DataFrame) -> float:
    import warnings

    warnings.filterwarnings("ignore")
    import geopandas as gpd
    import pandas as pd
    import trackintel as ti

    frame = points.select("vehicle", "time", "lat", "lon").to_pandas()
    gdf = gpd.GeoDataFrame({"user_id": frame["vehicle"], "tracked_at": pd.to_datetime(frame["time"], utc=True)},
                           geometry=gpd.points_from_xy(frame["lon"], frame["lat"]), crs="EPSG:4326")
    t = time.perf_counter()
    ti.Positionfixes(gdf).generate_staypoints(method="sliding", dist_threshold=100, time_threshold=20)
    return len(frame) / (time.perf_counter() - t)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--vehicles", type=int, default=3000)
    ap.add_argument("--subset", type=int, default=20)
    ap.add_argument("--big", action="store_true")
    ap.add_argument("--e2e", action="store_true")
    ap.add_argument("--before", metavar="REV", help="also time the full rule set of git revision REV, interleaved")
    args = ap.parse_args()
    if args.before:
        before_and_after(args.before, args.vehicles)
        return
    if args.e2e:
        end_to_end(ROOT / "benchmarks" / "data")
        return
    t = time.perf_counter()
    points, classes = fleet(args.vehicles)
    points = points.sort("vehicle", "time")
    n = points.height
    print(f"{n:,} points, {args.vehicles:,} SIMULATED vehicle-days, generated in {time.perf_counter() - t:.1f} s", flush=True)

    secs, result = best(lambda: scan(points, vehicle_class=classes, rules=RULES))
    tracemalloc.start()  # a separate, traced run for memory (tracing slows allocation down)
    scan(points, vehicle_class=classes, rules=RULES)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    ours = n / secs
    rows = [("guapai full rule set (scan)", ours, f"{len(result.findings):,} findings")]
    def ours_overspeed():
        from rules.trajectory import detectors
        from rules.trajectory.clean import clean

        track = clean(points, RULES)
        cls = np.array([classes[v] for v in track.vehicles])
        return detectors.overspeed(track, cls, RULES, None)

    secs_os, _ = best(ours_overspeed)
    rows.append(("guapai cleaning + overspeed only (like-for-like)", n / secs_os, ""))
    secs_np, episodes = best(lambda: numpy_overspeed(points))
    rows.append(("plain numpy overspeed episodes only", n / secs_np, f"{episodes:,} episodes"))
    try:
        secs_db, db_episodes = best(lambda: duckdb_overspeed(points))
        rows.append(("DuckDB SQL overspeed episodes only", n / secs_db, f"{db_episodes:,} episodes"))
    except ImportError:
        pass
    subset = points.filter(pl.col("vehicle").is_in(list(classes)[: args.subset]))
    for name, fn in (("MovingPandas speed + stop detection", movingpandas_rate), ("trackintel staypoints (sliding)", trackintel_rate)):
        try:
            rows.append((f"{name} ({subset.height:,} pts)", fn(subset), ""))
        except ImportError:
            rows.append((f"{name}: not installed", float("nan"), ""))
    print(f"\n{'engine (load average ' + ' '.join(f'{x:.1f}' for x in os.getloadavg()) + ')':<48}{'points/s':>14}{'guapai is':>12}  note")
    for name, rate, note in rows:
        ratio = ours / rate if rate == rate else float("nan")
        print(f"{name:<48}{rate:>14,.0f}{ratio:>11.1f}x  {note}")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak traced memory during scan: {peak / 2**20:.0f} MiB (numpy); process peak RSS: {rss:.0f} MiB")
    print("targets: >= 15 M points/s full rule set on one core; >= 1000x MovingPandas; faster than DuckDB")
    if args.big:
        big(ROOT / "benchmarks" / "data")


DUCKDB_OVERSPEED = """
import json, sys, duckdb
rows = duckdb.sql(f'''
  WITH flagged AS (
    SELECT vehicle, time, speed_kmh > 100 AS over,
           row_number() OVER (PARTITION BY vehicle ORDER BY time) AS rn
    FROM read_parquet('{sys.argv[1]}')),
  grouped AS (
    SELECT vehicle, time, rn - row_number() OVER (PARTITION BY vehicle ORDER BY time) AS grp
    FROM flagged WHERE over)
  SELECT vehicle, min(time) AS start, max(time) AS "end" FROM grouped GROUP BY vehicle, grp
  HAVING epoch(max(time) - min(time)) >= 60 ORDER BY vehicle, start''').fetchall()
json.dump([[v, s.isoformat(), e.isoformat()] for v, s, e in rows], open(sys.argv[2], "w"))
"""


def e2e_day(path: Path, vehicles: int = 3000) -> None:
    """SIMULATED vehicle-days with a position every 30 s all day (parked reports at the last fix),
    rows in time order across vehicles."""
    import warnings

    warnings.filterwarnings("ignore")
    points, _ = fleet(vehicles)
    points = points.sort("vehicle", "time").select("vehicle", "time", "lat", "lon", "speed_kmh")
    start = dt.datetime.combine(DAY, dt.time(), dt.timezone(dt.timedelta(hours=8))).astimezone(dt.timezone.utc)
    grid = pl.DataFrame({"vehicle": points["vehicle"].unique().sort()}).join(pl.DataFrame({"time": pl.datetime_range(
        start, start + dt.timedelta(days=1), "30s", closed="left", time_unit="us", time_zone="UTC", eager=True)}), how="cross")
    near = grid.join_asof(points.select("vehicle", "time", pl.col("time").alias("fix")), on="time", by="vehicle", strategy="nearest")
    fill = near.filter(pl.col("fix").is_null() | ((pl.col("time") - pl.col("fix")).abs() > dt.timedelta(seconds=15))).select("vehicle", "time")
    for strategy in ("backward", "forward"):
        fill = fill.join_asof(points.select("vehicle", "time", pl.col("lat").alias(f"lat_{strategy}"), pl.col("lon").alias(f"lon_{strategy}")),
                              on="time", by="vehicle", strategy=strategy)
    fill = fill.select("vehicle", "time", lat=pl.coalesce("lat_backward", "lat_forward"), lon=pl.coalesce("lon_backward", "lon_forward"),
                       speed_kmh=pl.lit(0.0))
    pl.concat([points, fill]).sort("time", "vehicle").write_parquet(path)


def run_process(argv: list[str], stdout_path: Path | None = None, **extra_env: str) -> tuple[float, float]:
    """(wall seconds, peak RSS MiB) of one process, from its start to its exit."""
    env = {k: v for k, v in os.environ.items() if k != "POLARS_MAX_THREADS"} | extra_env  # as users run it
    out = open(stdout_path, "w") if stdout_path else subprocess.DEVNULL
    # GNU time reports the process's own peak (a child's ru_maxrss would include this process's)
    t = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-f", "%M", *argv], stdout=out, stderr=subprocess.PIPE, env=env, text=True)
    secs = time.perf_counter() - t
    if stdout_path:
        out.close()
    if proc.returncode != 0:
        raise SystemExit(f"{argv[:3]} failed: {proc.stderr[-500:]}")
    return secs, int(proc.stderr.strip().splitlines()[-1]) / 1024


def end_to_end(folder: Path, repeat: int = 3) -> None:
    import json

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "day_3000_e2e.parquet"
    if not path.exists():
        e2e_day(path)
    n = pl.scan_parquet(path).select(pl.len()).collect().item()
    print(f"{path.name}: {n:,} points, rows in time order across vehicles", flush=True)
    from rules.trajectory import compiled

    if compiled.load() is None:  # as after `guapai trajectory compile` (once per install, like numba's cache)
        from rules.trajectory.aot import build

        built, sigs, secs = build()
        print(f"kernels compiled ahead of time: {sigs} signatures in {secs:.1f} s ({built.name})", flush=True)
    guapai = str(Path(sys.executable).with_name("guapai"))
    command = [guapai, "trajectory", "scan", str(path), "--vehicle-class", "truck", "--json"]
    ours, jit, duck = [], [], []
    for _ in range(repeat):  # interleaved, so all see the same machine load
        ours.append(run_process(command, folder / "scan.json"))
        jit.append(run_process(command, folder / "scan_jit.json", GUAPAI_KERNELS="jit"))
        duck.append(run_process([sys.executable, "-c", DUCKDB_OVERSPEED, str(path), str(folder / "duckdb.json")]))
    same = (folder / "scan.json").read_bytes() == (folder / "scan_jit.json").read_bytes()
    result = json.loads((folder / "scan.json").read_text())
    rules: dict[str, int] = {}
    for f in result["findings"]:
        rules[f["rule"]] = rules.get(f["rule"], 0) + 1
    episodes = len(json.loads((folder / "duckdb.json").read_text()))
    o, d = min(s for s, _ in ours), min(s for s, _ in duck)
    print(f"\n{'process start to JSON written':<52}{'seconds':>9}{'peak RSS MiB':>14}  note")
    print(f"{'guapai trajectory scan --json (every rule)':<52}{o:>9.2f}{max(r for _, r in ours):>14.0f}  {len(result['findings'])} findings {rules}")
    print(f"{'  the same, kernels from the JIT (GUAPAI_KERNELS=jit)':<52}{min(s for s, _ in jit):>9.2f}{max(r for _, r in jit):>14.0f}  "
          f"{'the same JSON' if same else 'DIFFERENT JSON'}")
    print(f"{'DuckDB window functions (overspeed episodes only)':<52}{d:>9.2f}{max(r for _, r in duck):>14.0f}  {episodes} episodes")
    print(f"guapai / DuckDB time: {o / d:.2f}x (best of {repeat}, interleaved; load average "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}); targets: faster than DuckDB, peak RSS under 1 GB")

    from rules.trajectory import read

    t = time.perf_counter()
    points = read(path, coded_plates=True).points  # as the command reads it
    read_s = time.perf_counter() - t
    secs, _ = best(lambda: scan(points, vehicle_class="truck", rules=RULES), repeat=2)
    print(f"engine alone on the same day (one core): {n / secs:,.0f} points/s ({secs:.2f} s; reading the file {read_s:.2f} s)")


ONE_SCAN = """
import json, os, sys, time
os.environ["POLARS_MAX_THREADS"] = "1"
import polars as pl
import rules.trajectory
from rules.trajectory import load_rules, scan
assert rules.trajectory.__file__.startswith(os.getcwd()), rules.trajectory.__file__  # the tree measured
points, classes, rules = pl.read_parquet(sys.argv[1]), json.load(open(sys.argv[2])), load_rules()
scan(points, vehicle_class=classes, rules=rules)  # compiled kernels loaded (or compiled) first
best = 1e9
for _ in range(5):
    t = time.process_time()
    found = scan(points, vehicle_class=classes, rules=rules).findings
    best = min(best, time.process_time() - t)
print(json.dumps({"cpu": best, "findings": len(found)}))
"""


def before_and_after(rev: str, vehicles: int, repeat: int = 3) -> None:
    """The full rule set of this tree and of git revision `rev` on the same points, one core,
    CPU time (best of 5 per process), processes interleaved."""
    import json
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        old = Path(tmp) / "before"
        old.mkdir()
        subprocess.run(f"git -C {ROOT} archive {rev} | tar -x -C {old}", shell=True, check=True)
        points, classes = fleet(vehicles)
        points.sort("vehicle", "time").write_parquet(Path(tmp) / "points.parquet")
        (Path(tmp) / "classes.json").write_text(json.dumps(classes))
        env = {**os.environ, "POLARS_MAX_THREADS": "1"}
        times: dict[str, list[float]] = {"this tree": [], rev: []}
        found = {}
        for _ in range(repeat):
            for name, tree in (("this tree", ROOT), (rev, old)):
                out = subprocess.run([sys.executable, "-c", ONE_SCAN, str(Path(tmp) / "points.parquet"), str(Path(tmp) / "classes.json")],
                                     env={**env, "PYTHONPATH": str(tree)}, cwd=tree, capture_output=True, text=True, check=True)
                result = json.loads(out.stdout.strip().splitlines()[-1])
                times[name].append(result["cpu"])
                found[name] = result["findings"]
        n = points.height
        print(f"\nfull rule set, {n:,} points, one core, CPU time (best of 5 per process, {repeat} processes each, interleaved; "
              f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())})")
        for name, secs in times.items():
            print(f"{name:<12} {min(secs):.3f}-{max(secs):.3f} s  {n / max(secs) / 1e6:5.2f}-{n / min(secs) / 1e6:5.2f} M points/s  "
                  f"{found[name]} findings")
        print(f"this tree is {min(times[rev]) / min(times['this tree']):.2f}x {rev} (best against best)")


def big(folder: Path, vehicles: int = 35_000, per_vehicle: int = 2_880) -> None:
    """A 100-million-point day in Parquet, streamed in vehicle batches with bounded memory."""
    from rules.trajectory.stream import scan_parquet

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "day_100m.parquet"
    if not path.exists():
        import pyarrow as pa
        import pyarrow.parquet as pq

        rng = np.random.default_rng(5)
        writer = None
        batch = 1000
        t0 = np.datetime64("2026-11-22T16:00:00", "us").astype(np.int64)
        for first in range(0, vehicles, batch):
            k = min(batch, vehicles - first)
            vid = np.repeat(np.arange(first, first + k), per_vehicle)
            steps = np.tile(np.arange(per_vehicle), k)
            speed = np.clip(rng.normal(55, 20, k * per_vehicle), 0, 140)
            heading = rng.uniform(0, 2 * np.pi, k * per_vehicle)
            step_m = speed / 3.6 * 30
            lat = 30.0 + np.cumsum(step_m * np.cos(heading)) / 111_000 % 1.0
            lon = 120.0 + np.cumsum(step_m * np.sin(heading)) / 96_000 % 1.0
            table = pa.table({"vehicle": pa.array([f"V{v:06d}" for v in vid]),
                              "time": pa.array(t0 + steps * 30_000_000, type=pa.timestamp("us", tz="UTC")),
                              "lat": lat, "lon": lon, "speed_kmh": speed})
            writer = writer or pq.ParquetWriter(path, table.schema)
            writer.write_table(table, row_group_size=per_vehicle * 250)
        writer.close()
    t = time.perf_counter()
    total, findings = scan_parquet(path, vehicle_class="truck", rules=RULES)
    secs = time.perf_counter() - t
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\n100M-point day streamed from Parquet: {total:,} points in {secs:.1f} s ({total / secs:,.0f} points/s), "
          f"{findings:,} findings, process peak RSS {rss:.0f} MiB (target: under 30 s, bounded memory)")


if __name__ == "__main__":
    main()
