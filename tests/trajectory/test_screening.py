"""Full-fleet screening (`guapai screen`): every vehicle once, rows in any order, the same
findings in one process, in partitions and on a Dask cluster; a rerun changes nothing."""
import datetime as dt
import json

import polars as pl
import pytest

from listing.services import screening
from rules.trajectory import load_rules, scan, simulated_vehicle_day
from rules.trajectory.synthetic import PLANTS

DAY = dt.date(2026, 11, 23)
CLASSES = ["truck", "coach", "bus", "taxi"]


def fleet(n=24):
    frames = []
    for i in range(n):
        cls = CLASSES[i % len(CLASSES)]
        plant = [PLANTS[i % len(PLANTS)]] if i % 3 else []
        if cls != "coach":
            plant = [p for p in plant if p != "early_morning"]
        for day in (DAY - dt.timedelta(days=1), DAY):  # the day before is context
            frame, _ = simulated_vehicle_day(1, f"浙A{i:05d}", day, cls, plant)
            frames.append(frame.with_columns(vehicle_class=pl.lit(cls)))
    return pl.concat(frames)


@pytest.fixture(scope="module")
def day_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("screen")
    points = fleet()
    by_vehicle = folder / "by_vehicle.parquet"
    points.sort("vehicle", "time").write_parquet(by_vehicle, row_group_size=5000)
    by_time = folder / "by_time.parquet"
    points.sort("time").write_parquet(by_time, row_group_size=5000)
    hive = folder / "hive"
    for day in (DAY - dt.timedelta(days=1), DAY):
        part = points.filter(pl.col("time").dt.convert_time_zone("Asia/Shanghai").dt.date() == day)
        (hive / f"day={day}").mkdir(parents=True)
        part.sample(fraction=1.0, shuffle=True, seed=3).write_parquet(hive / f"day={day}" / "positions.parquet")
    return points, by_vehicle, by_time, hive


def key(rows):
    return sorted((r["vehicle"], r["rule"], r["start"], r["breach"]) for r in rows)


def direct(points):
    """The engine on the whole set at once: what screening must reproduce."""
    classes = dict(points.group_by("vehicle").agg(pl.col("vehicle_class").first()).iter_rows())
    start, end = screening.day_window(DAY)
    result = scan(points.drop("vehicle_class"), vehicle_class=classes, rules=load_rules(), report_window=(start, end))
    return key(screening.finding_row(f, DAY) for f in result.findings)


def test_every_vehicle_once_and_the_same_findings_in_any_row_order(day_files, tmp_path):
    points, by_vehicle, by_time, hive = day_files
    expected = direct(points)
    assert {r[1] for r in expected} >= {"overspeed", "fatigue_continuous", "signal_gap"}
    results = {}
    for name, source, parts in (("sorted", by_vehicle, 1), ("time order", by_time, 5), ("hive", hive, 3)):
        seen = []
        summary = screening.screen(source, DAY, out=tmp_path / name, partitions=parts, on_partition=seen.append)
        vehicles = [v for part in seen for v in part.vehicles]
        assert sorted(vehicles) == sorted(set(points["vehicle"])), name  # every vehicle, once
        assert summary["vehicles"] == 24 and summary["partitions"] == parts
        stored = pl.read_parquet(tmp_path / name / f"day={DAY}" / "*.parquet")
        assert stored.height == summary["findings"]
        results[name] = key(stored.to_dicts())
        assert key(r for part in seen for r in part.findings) == expected, name
    assert results["sorted"] == results["time order"] == results["hive"]


def test_a_rerun_rewrites_the_same_parts_and_another_partition_count_leaves_no_copy(day_files, tmp_path):
    _, by_vehicle, by_time, _ = day_files
    screening.screen(by_time, DAY, out=tmp_path, partitions=4)
    folder = tmp_path / f"day={DAY}"
    first = {p.name: pl.read_parquet(p) for p in folder.glob("*.parquet")}
    screening.screen(by_time, DAY, out=tmp_path, partitions=4)
    again = {p.name: pl.read_parquet(p) for p in folder.glob("*.parquet")}
    assert first.keys() == again.keys() and all(first[k].equals(again[k]) for k in first)
    screening.screen(by_vehicle, DAY, out=tmp_path, partitions=2)
    assert len(list(folder.glob("*.parquet"))) == 2
    assert pl.read_parquet(folder / "*.parquet").height == sum(f.height for f in first.values())


def test_on_a_dask_cluster_with_two_workers_the_same_as_one_process(day_files):
    distributed = pytest.importorskip("distributed")
    points, _, by_time, _ = day_files
    seen = []
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client, distributed.get_task_stream(client) as stream:
        summary = screening.screen(by_time, DAY, partitions=6, scheduler=client, on_partition=seen.append)
    tasks = [t for t in stream.data if str(t["key"]).startswith("guapai-screen")]
    assert len(tasks) == 6 and len({t["worker"] for t in tasks}) == 2  # both workers ran partitions
    assert sorted(p.index for p in seen) == list(range(6))
    assert sorted(v for p in seen for v in p.vehicles) == sorted(set(points["vehicle"]))
    assert key(r for p in seen for r in p.findings) == direct(points)
    assert summary["vehicles"] == 24


def test_the_command_writes_parquet_and_prints_json(day_files, tmp_path):
    from typer.testing import CliRunner

    import main

    _, _, by_time, _ = day_files
    out = CliRunner().invoke(main.app, ["screen", str(by_time), "--date", str(DAY), "--out", str(tmp_path), "--partitions", "2", "--json"])
    assert out.exit_code == 0, out.output
    summary = json.loads(out.stdout)
    assert summary["vehicles"] == 24 and summary["findings"] == pl.read_parquet(tmp_path / f"day={DAY}" / "*.parquet").height
    bad = CliRunner().invoke(main.app, ["screen", str(tmp_path / "nothing"), "--date", str(DAY)])
    assert bad.exit_code == 2
