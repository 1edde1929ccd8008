"""Properties: shuffled input, duplicated points, a day split into two files and GPS jitter of a
few metres never change the findings; the real bus data reads cleanly and breaks no rule."""
import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
from hypothesis import HealthCheck, given, settings, strategies as st

from rules.trajectory import load_rules, read, scan, simulated_vehicle_day
from rules.trajectory.geo import offset
from rules.trajectory.synthetic import PLANTS

RULES = load_rules()
BUS = Path(__file__).resolve().parents[1] / "data" / "liverpool_bus_route14_outbound.csv"
DAY = dt.date(2026, 11, 23)


def key(result):
    return [(f.rule, f.vehicle, f.start, f.end, f.driver) for f in result.findings]


def fleet(seed: int, plants: list[str]) -> tuple[pl.DataFrame, dict]:
    frames, classes = [], {}
    for i, plant in enumerate(plants):
        cls = "coach" if i % 2 == 0 else "truck"
        frame, _ = simulated_vehicle_day(seed, f"浙A{i:05d}", DAY, cls, [plant] if plant else [])
        frames.append(frame)
        classes[f"浙A{i:05d}"] = cls
    return pl.concat(frames), classes


days = st.lists(st.sampled_from([None, *PLANTS]), min_size=1, max_size=3)
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(seed=st.integers(0, 10_000), plants=days, shuffle_seed=st.integers(0, 2**32 - 1))
def test_shuffled_input_gives_the_same_findings(seed, plants, shuffle_seed):
    points, classes = fleet(seed, plants)
    expected = key(scan(points, vehicle_class=classes, rules=RULES))
    assert key(scan(points.sample(fraction=1.0, shuffle=True, seed=shuffle_seed), vehicle_class=classes, rules=RULES)) == expected


@SETTINGS
@given(seed=st.integers(0, 10_000), plants=days, fraction=st.floats(0.01, 1.0))
def test_duplicated_points_change_nothing(seed, plants, fraction):
    points, classes = fleet(seed, plants)
    expected = key(scan(points, vehicle_class=classes, rules=RULES))
    doubled = pl.concat([points, points.sample(fraction=fraction, seed=seed)])
    result = scan(doubled, vehicle_class=classes, rules=RULES)
    assert key(result) == expected
    assert result.report.dropped["duplicate"] == doubled.height - points.height


@SETTINGS
@given(seed=st.integers(0, 10_000), plants=days, cut=st.floats(0.05, 0.95))
def test_a_day_split_into_two_files_gives_the_same_findings(seed, plants, cut, tmp_path_factory):
    points, classes = fleet(seed, plants)
    expected = key(scan(points, vehicle_class=classes, rules=RULES))
    folder = tmp_path_factory.mktemp("split")
    n = int(points.height * cut)
    points.head(n).write_parquet(folder / "a.parquet")
    points.tail(points.height - n).write_csv(folder / "b.csv")
    both = pl.concat([read(folder / "a.parquet").points, read(folder / "b.csv").points])
    assert key(scan(both, vehicle_class=classes, rules=RULES)) == expected


@SETTINGS
@given(seed=st.integers(0, 10_000), plants=days, metres=st.floats(0.5, 5.0))
def test_gps_jitter_of_a_few_metres_changes_nothing(seed, plants, metres):
    points, classes = fleet(seed, plants)
    expected = key(scan(points, vehicle_class=classes, rules=RULES))
    rng = np.random.default_rng(seed)
    lat, lon = offset(points["lat"].to_numpy(), points["lon"].to_numpy(), rng.uniform(-metres, metres, points.height),
                      rng.uniform(-metres, metres, points.height))
    assert key(scan(points.with_columns(lat=lat, lon=lon), vehicle_class=classes, rules=RULES)) == expected


def test_planted_violations_are_found_exactly():
    for i, plant in enumerate(PLANTS):
        cls = "coach"
        frame, planted = simulated_vehicle_day(7, f"浙B{i:05d}", DAY, cls, [plant])
        found = scan(frame, vehicle_class=cls, rules=RULES).findings
        assert [f.rule for f in found] == [plant], plant
        (p,) = planted
        assert abs((found[0].start - p.start).total_seconds()) <= 60, plant


def test_real_bus_data_reads_cleanly_no_overspeed_at_60_no_fatigue():
    r = read(BUS, naive_tz="UTC")
    assert r.errors == [] and r.points.height == 1533 and r.points["vehicle"].n_unique() == 8
    result = scan(r.points, vehicle_class="bus", rules=RULES)  # bus limit: 60 km/h
    assert result.report.dropped == {"invalid_fix": 0, "duplicate": 0, "same_time": 0, "jump": 0}
    assert result.report.speed_source == "derived"
    rules = {f.rule for f in result.findings}
    assert rules <= {"signal_gap"}  # the 30-50 minute gaps between trips; nothing else
    assert all(1800 <= f.duration_s <= 3600 for f in result.findings)
    top = max(float(result_speed) for result_speed in _speeds(r.points))
    assert 45 < top < 60


def _speeds(points):
    from rules.trajectory.clean import clean

    return clean(points, RULES).speed
