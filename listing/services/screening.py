"""Full-fleet screening (全量筛查): every vehicle of a day, not only the 10% sample.

The day's Parquet positions (one file, a folder of files, or a hive folder `day=YYYY-MM-DD/`;
rows in any order, as platforms export them) are split into `n` partitions by a hash of the
vehicle. Each partition is read on its own (memory bounded by one partition), scanned by the
same engine as sampling (`rules.trajectory.scan`, findings whose breach moment lies in the local
day; the day before, where the dataset has it, is context), and its findings written once:
`out/day=YYYY-MM-DD/part-KKKKK-of-NNNNN.parquet` (a rerun rewrites the same file with the same
rows) and/or the store's `finding` table marked `source="screening"` (a rerun inserts nothing).

Partitions run in this process by default, or on a Dask `distributed` cluster (`scheduler`):
each worker runs `screen_partition` on the same files (a shared filesystem or object store) and
the client writes the results as they complete. Workers need the same guapai and polars versions
(the vehicle hash is polars' and is only stable within a version).
"""
from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import polars as pl

from messages.errors import ValidationError

HASH_SEED = 20261123  # fixed: the same vehicle lands in the same partition in every process
ROWS_PER_PARTITION = 2_000_000  # ~300 MB of engine memory per partition
BEIJING = dt.timezone(dt.timedelta(hours=8))
FINDING_SCHEMA = {"day": pl.Date, "vehicle": pl.Utf8, "rule": pl.Utf8, "regulation": pl.Utf8,
                  "start": pl.Datetime("us", "UTC"), "end": pl.Datetime("us", "UTC"), "breach": pl.Datetime("us", "UTC"),
                  "driver": pl.Utf8, "duration_s": pl.Float64, "distance_m": pl.Float64, "max_speed_kmh": pl.Float64,
                  "limit_kmh": pl.Float64, "band": pl.Utf8, "point_count": pl.Int64, "source": pl.Utf8, "evidence": pl.Utf8}


@dataclass
class Partition:
    """What one partition screened: its vehicles with their points, and the findings as rows."""

    index: int
    vehicles: dict[str, int] = field(default_factory=dict)
    findings: list[dict[str, Any]] = field(default_factory=list)
    read_errors: int = 0


def day_window(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day, dt.time(), BEIJING)
    return start, start + dt.timedelta(days=1)


def files_for(source: Path, day: dt.date) -> list[str]:
    """The Parquet files holding the day: a file, a folder of files, or a hive folder with
    `day=YYYY-MM-DD/` sub-folders (then the day and the day before, as context)."""
    if source.is_file():
        return [str(source)]
    hive = [source / f"day={d.isoformat()}" for d in (day - dt.timedelta(days=1), day)]
    folders = [h for h in hive if h.is_dir()] or ([source] if source.is_dir() else [])
    files = sorted(str(p) for folder in folders for p in folder.rglob("*.parquet"))
    if not files:
        raise ValidationError("err.screen_source", path=str(source))
    return files


def count_rows(files: list[str]) -> int:
    import pyarrow.parquet as pq

    return sum(pq.ParquetFile(f).metadata.num_rows for f in files)


def partitions_for(rows: int) -> int:
    return max(1, -(-rows // ROWS_PER_PARTITION))


def screen_partition(files: list[str], day: dt.date, index: int, count: int, *, vehicle_class: str = "other",
                     classes: dict[str, str] | None = None, rules_file: str | None = None,
                     naive_tz: str = "Asia/Shanghai") -> Partition:
    """Read and scan one hash partition of the vehicles (what a worker runs). A vehicle's class:
    `classes` (from the store), else the data's vehicle_class column, else `vehicle_class`."""
    from rules.trajectory import load_rules, scan
    from rules.trajectory.readers import _mapping, from_frame

    lazy = pl.scan_parquet(files)
    names = lazy.collect_schema().names()
    mapping = _mapping(names, None)
    vehicle_col = mapping["vehicle"]
    class_col = next((c for c in names if c.lower() in ("vehicle_class", "class", "车辆类型")), None)
    wanted = [c for c in dict.fromkeys([*mapping.values(), *([class_col] if class_col else [])])]
    raw = (lazy.select(wanted)
           .filter(pl.col(vehicle_col).cast(pl.Utf8).str.strip_chars().hash(HASH_SEED) % count == index)
           .collect())
    plates = raw.select(pl.col(vehicle_col).cast(pl.Utf8).str.strip_chars().alias("v"),
                        (pl.col(class_col).cast(pl.Utf8) if class_col else pl.lit(None, pl.Utf8)).alias("c"))
    given = plates.group_by("v").agg(pl.col("c").drop_nulls().first())
    known = classes or {}
    by_plate = {v: known.get(v) or c or vehicle_class for v, c in given.iter_rows()}
    read = from_frame(raw.drop(class_col) if class_col else raw, naive_tz=naive_tz, position_name="row", first_position=0)
    del raw
    start, end = day_window(day)
    points = read.points.filter((pl.col("time") >= start - dt.timedelta(days=1)) & (pl.col("time") < end))
    in_day = points.filter(pl.col("time") >= start)["vehicle"].value_counts()
    out = Partition(index, dict(in_day.iter_rows()), read_errors=len(read.errors))
    result = scan(points, vehicle_class=by_plate, rules=load_rules(Path(rules_file) if rules_file else None), report_window=(start, end))
    out.findings = [finding_row(f, day) for f in result.findings]
    return out


def finding_row(f, day: dt.date) -> dict[str, Any]:
    return {"day": day, "vehicle": f.vehicle, "rule": f.rule, "regulation": f.regulation, "start": f.start, "end": f.end,
            "breach": f.breach, "driver": f.driver, "duration_s": f.duration_s, "distance_m": f.distance_m,
            "max_speed_kmh": f.max_speed_kmh, "limit_kmh": f.limit_kmh, "band": f.band, "point_count": f.point_count,
            "source": "screening", "evidence": json.dumps(f.to_dict(), ensure_ascii=False)}


def part_path(out: Path, day: dt.date, index: int, count: int) -> Path:
    return out / f"day={day.isoformat()}" / f"part-{index:05d}-of-{count:05d}.parquet"


def write_part(out: Path, day: dt.date, part: Partition, count: int) -> Path:
    """One partition's findings, written atomically under a name fixed by (day, index, count):
    a rerun replaces it with the same rows, never adds a second copy."""
    path = part_path(out, day, part.index, count)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".parquet.tmp")
    pl.DataFrame(part.findings, schema=FINDING_SCHEMA, orient="row").sort("vehicle", "start", "rule").write_parquet(tmp)
    os.replace(tmp, path)
    return path


def _remove_other_runs(out: Path, day: dt.date, count: int) -> None:
    """Parts of an earlier run with another partition count would hold the same vehicles twice."""
    folder = out / f"day={day.isoformat()}"
    if folder.is_dir():
        for old in folder.glob("part-*-of-*.parquet"):
            if not old.name.endswith(f"-of-{count:05d}.parquet"):
                old.unlink()


def screen(source: Path, day: dt.date, *, out: Path | None = None, partitions: int | None = None, vehicle_class: str = "other",
           classes: dict[str, str] | None = None, rules_file: Path | None = None, naive_tz: str = "Asia/Shanghai", scheduler: Any = None,
           on_partition: Callable[[Partition], None] | None = None, progress: Callable[[int, int], None] | None = None) -> dict:
    """Screen every vehicle of `day`. `scheduler`: None (this process), a Dask scheduler address
    ("tcp://host:8786") or a `distributed.Client`/cluster. `on_partition` receives each finished
    partition (the store writer). Returns the run's summary."""
    files = files_for(source, day)
    count = partitions or partitions_for(count_rows(files))
    if not 1 <= count <= 100_000:
        raise ValidationError("err.screen_partitions", n=count)
    kwargs = {"vehicle_class": vehicle_class, "classes": classes, "rules_file": str(rules_file) if rules_file else None, "naive_tz": naive_tz}
    summary = {"day": day.isoformat(), "partitions": count, "vehicles": 0, "points": 0, "findings": 0, "by_rule": {},
               "read_errors": 0, "out": str(part_path(out, day, 0, count).parent) if out else None}
    if out:
        _remove_other_runs(out, day, count)

    def take(part: Partition, done: int) -> None:
        if out:
            write_part(out, day, part, count)
        if on_partition:
            on_partition(part)
        summary["vehicles"] += len(part.vehicles)
        summary["points"] += sum(part.vehicles.values())
        summary["findings"] += len(part.findings)
        summary["read_errors"] += part.read_errors
        for row in part.findings:
            summary["by_rule"][row["rule"]] = summary["by_rule"].get(row["rule"], 0) + 1
        if progress:
            progress(done, count)

    if scheduler is None:
        for i in range(count):
            take(screen_partition(files, day, i, count, **kwargs), i + 1)
    else:
        for done, part in enumerate(_on_dask(scheduler, files, day, count, kwargs), start=1):
            take(part, done)
    summary["by_rule"] = dict(sorted(summary["by_rule"].items()))
    return summary


def _on_dask(scheduler: Any, files: list[str], day: dt.date, count: int, kwargs: dict):
    """Partitions as Dask tasks; results yielded as they complete. Task keys are fixed by
    (day, partition), so a retried or resubmitted task is the same task."""
    from distributed import Client, as_completed

    own = isinstance(scheduler, str)
    client = Client(scheduler) if own else (scheduler if isinstance(scheduler, Client) else Client(scheduler))
    try:
        futures = [client.submit(screen_partition, files, day, i, count, key=f"guapai-screen-{day}-{i}-of-{count}", pure=False, **kwargs)
                   for i in range(count)]
        for future in as_completed(futures):
            part = future.result()
            future.release()
            yield part
    finally:
        if own or not isinstance(scheduler, Client):
            client.close()
