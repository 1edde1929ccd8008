"""Cross-check rest detection with the peer library trackintel (generate_staypoints, sliding
method, same distance and time thresholds).

Expected difference, by construction: trackintel's staypoint starts at the first fix inside the
stop (its anchor), ours at the last moving fix before it (a stop lasts from the last moving point
to the next moving point), so starts differ by one sampling interval; both end at the first fix
after the stop. Rests must match in number and within one sampling interval at both ends."""
import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from rules.trajectory import load_rules, read, simulated_vehicle_day
from rules.trajectory.engine import rest_periods
from tests.trajectory.build import local, track

ti = pytest.importorskip("trackintel", reason="trackintel (the peer library) is not installed: pip install '.[bench]'")
RULES = load_rules()
F = RULES.section("fatigue")
BUS = Path(__file__).resolve().parents[1] / "data" / "liverpool_bus_route14_outbound.csv"


def staypoints(points: pl.DataFrame) -> list[tuple[str, dt.datetime, dt.datetime]]:
    import geopandas as gpd
    import pandas as pd

    frame = points.select("vehicle", "time", "lat", "lon").to_pandas()
    gdf = gpd.GeoDataFrame({"user_id": frame["vehicle"], "tracked_at": pd.to_datetime(frame["time"], utc=True)},
                           geometry=gpd.points_from_xy(frame["lon"], frame["lat"]), crs="EPSG:4326")
    pfs = ti.Positionfixes(gdf)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "No staypoints can be generated" is an answer here
        _, sp = pfs.generate_staypoints(method="sliding", dist_threshold=F["rest_radius_m"],
                                        time_threshold=F["rest_min_s"] / 60,
                                        gap_threshold=RULES.section("signal_gap")["max_gap_s"] / 60, include_last=True)
    return sorted((str(r.user_id), r.started_at.to_pydatetime(), r.finished_at.to_pydatetime()) for r in sp.itertuples())


def compare(points, interval_s=30):
    ours = sorted(rest_periods(points, RULES))
    theirs = staypoints(points)
    assert len(ours) == len(theirs), (ours, theirs)
    for (v1, s1, e1), (v2, s2, e2) in zip(ours, theirs):
        assert v1 == v2
        assert abs((s1 - s2).total_seconds()) <= interval_s and abs((e1 - e2).total_seconds()) <= interval_s
    return ours


def test_hand_built_stops():
    pts = track(local(2026, 11, 23, 8), [(3600, 60), (25 * 60, 0), (3600, 60), (40 * 60, 0), (1800, 50), (10 * 60, 0), (600, 50)])
    assert len(compare(pts)) == 2  # the 10-minute stop is no rest for either


def test_simulated_vehicle_days():
    frames = [simulated_vehicle_day(s, f"浙A{s:05d}", dt.date(2026, 11, 23), "truck")[0] for s in range(3)]
    assert len(compare(pl.concat(frames))) == 6  # two rests a day


def test_real_bus_data():
    # the captured outbound trips hold no stop of 20 minutes: neither finds a rest
    assert compare(read(BUS, naive_tz="UTC").points, interval_s=30) == []
