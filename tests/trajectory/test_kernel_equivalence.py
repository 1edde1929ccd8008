"""The compiled passes (rules/trajectory/kernels.py) against the plain numpy formulation they
replaced, on random vehicle-days that cross the places where the rules cut: midnight, a change
of driver, the 22:00 change of limit for passenger vehicles, a parked vehicle whose GPS wanders,
a zone edge, equal timestamps, duplicates and GPS spikes. The references below are the former
implementations, written for clarity (numpy temporaries); the engine must agree with them exactly
(distances: to rounding)."""
import datetime as dt

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rules.trajectory import detectors, engine, kernels, load_rules, simulated_vehicle_day
from rules.trajectory.attribution import Drivers
from rules.trajectory.clean import Points, _drop_equal_times_and_jumps, clean, points_of
from rules.trajectory.columns import conform
from rules.trajectory.detectors import in_window
from rules.trajectory.engine import _coverage
from rules.trajectory.episodes import runs
from rules.trajectory.synthetic import PLANTS

RULES = load_rules()
SETTINGS = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CLASSES = ["coach", "truck", "bus", "taxi"]


def day(seed: int, vehicles: int, rng: np.random.Generator) -> tuple[pl.DataFrame, dict[str, str]]:
    """SIMULATED vehicle-days around midnight, with wander, duplicates, equal times and spikes."""
    frames, classes = [], {}
    for i in range(vehicles):
        cls = CLASSES[(seed + i) % 4]
        plant = [p for p in PLANTS if rng.random() < 0.4]
        start = dt.date(2026, 11, 23) + dt.timedelta(days=int(rng.integers(0, 2)))
        frame, _ = simulated_vehicle_day(seed, f"浙A{i:03d}", start, cls, plant)
        if rng.random() < 0.5:  # a late drive over midnight into the next day
            t0 = dt.datetime.combine(start, dt.time(21, 30), dt.timezone(dt.timedelta(hours=8))).astimezone(dt.UTC)
            k = 400
            frame = pl.concat([frame, pl.DataFrame({
                "vehicle": [f"浙A{i:03d}"] * k, "time": [t0 + dt.timedelta(seconds=30 * j) for j in range(k)],
                "lat": 31.0 + np.cumsum(rng.uniform(0, 0.008, k)), "lon": np.full(k, 121.0),
                "speed_kmh": rng.uniform(60, 110, k)}).with_columns(pl.col("time").dt.cast_time_unit("us"))], how="diagonal_relaxed")
        frames.append(frame)
        classes[f"浙A{i:03d}"] = cls
    points = pl.concat(frames, how="diagonal_relaxed")
    n = points.height
    wander = rng.random(n) < 0.3  # GPS wander of a few metres
    points = points.with_columns(lat=pl.col("lat") + pl.Series(np.where(wander, rng.normal(0, 2e-4, n), 0.0)),
                                 speed_kmh=pl.when(pl.Series(rng.random(n) < 0.05)).then(None).otherwise(pl.col("speed_kmh")))
    spikes = points.sample(min(5, n), seed=seed).with_columns(lat=pl.col("lat") + 0.5, time=pl.col("time") + pl.duration(seconds=7))
    dupes = points.sample(min(20, n), seed=seed + 1)
    same_time = points.sample(min(10, n), seed=seed + 2).with_columns(lon=pl.col("lon") + 1e-4)
    return pl.concat([points, spikes, dupes, same_time], how="diagonal_relaxed").sample(fraction=1.0, shuffle=True, seed=seed), classes


def roster(points: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """Two drivers per vehicle, handing over at a random time of its day."""
    rows = []
    for (plate,), g in points.group_by("vehicle"):
        lo, hi = g["time"].min(), g["time"].max()
        cut = lo + (hi - lo) * float(rng.uniform(0.2, 0.8))
        rows += [{"vehicle": plate, "driver": f"{plate}-1", "start": lo, "end": cut},
                 {"vehicle": plate, "driver": f"{plate}-2", "start": cut, "end": hi}]
    return pl.DataFrame(rows)


# --- the references: the former numpy implementations ------------------------------------------

def ref_overspeed(track, classes, zone_limit):
    cfg, night = RULES.section("overspeed"), RULES.section("night")
    class_limit = np.array([RULES.limit_kmh(c) for c in classes])[track.vid]
    day_limit = class_limit if zone_limit is None else np.minimum(class_limit, zone_limit)
    passenger = np.array([RULES.is_passenger(c) for c in classes])[track.vid]
    night_limit = class_limit * float(night["speed_factor"])
    binding = passenger & in_window(track.local_s, *RULES.window("night")) & (night_limit < day_limit)
    limit = np.where(binding, night_limit, day_limit)
    starts, ends = runs(track.speed > limit, track.first | (track.seg_s > float(cfg["max_gap_s"])))
    keep = track.t[ends] - track.t[starts] >= float(cfg["min_duration_s"])
    return limit, day_limit, starts[keep], ends[keep]


def ref_driving_and_rests(track, moving):
    f, gap = RULES.section("fatigue"), float(RULES.section("signal_gap")["max_gap_s"])
    n = len(track)
    joined = ~track.first & (track.seg_s <= gap)
    prev_moving = np.r_[False, moving[:-1]]
    driving = np.where(joined & moving & prev_moving, track.seg_s, 0.0)
    starts, _ = runs(~moving, ~joined)
    anchor = np.full(n, -1)
    anchor[starts] = starts
    anchor = np.maximum.accumulate(anchor)
    still = np.flatnonzero(~moving & (anchor >= 0))
    drift = np.zeros(n)
    drift[still] = kernels.distances(track.lat, track.lon, anchor[still], still)
    starts, ends = runs(~moving & (drift <= float(f["rest_radius_m"])), ~joined)
    before = np.where(joined[starts], starts - 1, starts)
    has_after = (ends + 1 < n) & joined[np.minimum(ends + 1, n - 1)]
    after = np.where(has_after, np.minimum(ends + 1, n - 1), ends)
    long_enough = track.t[after] - track.t[before] >= float(f["rest_min_s"])
    rest_end = np.zeros(n, bool)
    rest_end[after[long_enough]] = True
    parked = ~track.first & (track.seg_s >= float(f["rest_min_s"])) & (track.seg_m <= float(f["rest_radius_m"]))
    rest_end |= parked
    rests = sorted([(int(b), int(a)) for b, a in zip(before[long_enough], after[long_enough])]
                   + [(int(i) - 1, int(i)) for i in np.flatnonzero(parked)])
    return driving, rest_end, rests


def ref_stretches(track, classes, driving, rest_end, on_duty):
    f = RULES.section("fatigue")
    stretch_start = track.first | rest_end
    stretch_start[1:] |= on_duty[1:] != on_duty[:-1]
    stretch = np.cumsum(stretch_start) - 1
    passenger = np.array([RULES.is_passenger(c) for c in classes], dtype=bool)[track.vid]
    counted = np.where(stretch_start, 0.0, driving)
    night = np.where(in_window(track.local_s, *RULES.window("night")) & passenger, counted, 0.0)
    total, night_total = np.bincount(stretch, weights=counted), np.bincount(stretch, weights=night)
    flagged = np.flatnonzero((total > float(f["continuous_max_s"])) | (night_total > float(f["night_continuous_max_s"])))
    bounds = np.r_[np.flatnonzero(stretch_start), len(track)]
    return bounds[flagged], bounds[flagged + 1], total[flagged], night_total[flagged]


def ref_clean_arrays(points: Points):
    """Equal times and jumps dropped, then neighbours and speeds: the former step-by-step path."""
    dropped = {}
    _, t, t_us, _, _, reported, first, seg_m, seg_s = _drop_equal_times_and_jumps(
        points.vid, points.t_us, points.lat, points.lon, points.reported, 200 / 3.6, dropped)
    speed, local_s = kernels.speeds(first, seg_m, seg_s, reported, t, 0)
    return t_us, first, seg_m, seg_s, speed, local_s, dropped


# --- the tests ------------------------------------------------------------------------------------

@SETTINGS
@given(seed=st.integers(0, 5000), vehicles=st.integers(1, 6), with_roster=st.booleans(), with_zone=st.booleans())
def test_compiled_passes_agree_with_the_numpy_formulation(seed, vehicles, with_roster, with_zone):
    rng = np.random.default_rng(seed)
    points, by_plate = day(seed, vehicles, rng)
    track = clean(conform(points), RULES)
    classes = np.array([by_plate[v] for v in track.vehicles])
    zone = np.where(track.lat > 30.02, 60.0, np.inf) if with_zone else None  # a zone edge crossed while driving

    limit, day_limit, start_marks, end_marks = kernels.over_limit(
        track.vid, track.local_s, track.speed, track.t, track.first, track.seg_s,
        np.array([RULES.limit_kmh(c) for c in classes]), np.array([RULES.is_passenger(c) for c in classes]),
        np.zeros(0) if zone is None else zone, *RULES.window("night"), float(RULES.section("night")["speed_factor"]),
        float(RULES.section("overspeed")["max_gap_s"]), float(RULES.section("overspeed")["min_duration_s"]))
    ref = ref_overspeed(track, classes, zone)
    assert np.array_equal(limit, ref[0]) and np.array_equal(day_limit, ref[1])
    assert np.array_equal(np.flatnonzero(start_marks), ref[2]) and np.array_equal(np.flatnonzero(end_marks), ref[3])

    moving = detectors.moving(track, RULES)
    driving, rest_end = detectors.driving_and_rests(track, RULES, moving)
    ref_driving, ref_rest_end, ref_rests = ref_driving_and_rests(track, moving)
    assert np.array_equal(driving, ref_driving) and np.array_equal(rest_end, ref_rest_end) and track.rests == ref_rests

    on_duty = Drivers(roster(points, rng) if with_roster else None).codes(track)
    marks, ends, totals, nights = kernels.stretches(
        track.first, rest_end, on_duty, driving, track.vid, track.local_s,
        np.array([RULES.is_passenger(c) for c in classes], dtype=bool), *RULES.window("night"),
        float(RULES.section("fatigue")["continuous_max_s"]), float(RULES.section("fatigue")["night_continuous_max_s"]))
    at = np.flatnonzero(marks)
    lo, hi, total, night_total = ref_stretches(track, classes, driving, rest_end, on_duty)
    assert np.array_equal(at, lo) and np.array_equal(ends[at], hi)
    assert np.array_equal(totals[at], total) and np.array_equal(nights[at], night_total)

    counts, first_t, last_t, longest, covered = kernels.coverage(track.vid, track.t, len(track.vehicles), -np.inf, np.inf, 600.0)
    assert np.array_equal(counts, np.bincount(track.vid, minlength=len(track.vehicles)))
    firsts = np.flatnonzero(track.first)
    assert np.array_equal(first_t, track.t[firsts]) and np.array_equal(last_t, track.t[np.r_[firsts[1:] - 1, len(track) - 1]])
    gaps = np.where(track.first, 0.0, track.seg_s)
    assert np.array_equal(longest, np.maximum.reduceat(gaps, firsts))
    assert np.allclose(covered, np.add.reduceat(np.where(gaps <= 600.0, gaps, 0.0), firsts), rtol=1e-12)


@SETTINGS
@given(seed=st.integers(0, 5000), vehicles=st.integers(1, 6))
def test_one_cleaning_pass_agrees_with_the_step_by_step_path(seed, vehicles):
    rng = np.random.default_rng(seed)
    points, _ = day(seed, vehicles, rng)
    found = points_of(conform(points))
    rows = np.lexsort((found.t_us, found.vid))  # stable: ties keep their input order
    plates = points["vehicle"].drop_nulls().unique().sort().to_list()
    assert found.names == plates and [found.names[v] for v in found.vid[:50]] == points["vehicle"].head(50).to_list()
    part = Points(found.names, found.vid[rows], found.t_us[rows], found.lat[rows], found.lon[rows], found.reported[rows], len(found))
    track = clean(conform(points), RULES)
    t_us, first, seg_m, seg_s, speed, local_s, dropped = ref_clean_arrays(part)
    for new, old in ((track.t_us, t_us), (track.first, first), (track.seg_m, seg_m), (track.seg_s, seg_s),
                     (track.speed, speed), (track.local_s, local_s)):
        assert np.array_equal(new, old)
    assert {k: track.report.dropped[k] for k in dropped} == dropped and dropped["jump"] and dropped["duplicate"]
    # without equal times and spikes the single pass stands as it is
    t, _, seg_m1, seg_s1, _, _, same, spikes, _ = kernels.prepare(
        track.vid, track.t_us, track.lat, track.lon, np.full(len(track), np.nan), 200 / 3.6, 1)
    assert same == 0 and spikes == 0
    assert np.array_equal(t, track.t) and np.array_equal(seg_m1, track.seg_m) and np.array_equal(seg_s1, track.seg_s)


@pytest.mark.parametrize("scale", [1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 2.0])
def test_distance_beyond_a_radius_without_the_cosine_is_the_same_answer(scale):
    rng = np.random.default_rng(int(scale * 1e7))
    lat1, lon1 = rng.uniform(-80, 80, 20_000), rng.uniform(-180, 180, 20_000)
    lat2, lon2 = lat1 + rng.normal(0, scale, 20_000), lon1 + rng.normal(0, scale, 20_000)
    for radius in (0.0, 1.0, 100.0, 1000.0):
        d = kernels.distances(np.r_[lat1, lat2], np.r_[lon1, lon2], np.arange(20_000), np.arange(20_000, 40_000))
        beyond = np.array([kernels._beyond(a, b, c, e, radius) for a, b, c, e in zip(lat1, lon1, lat2, lon2)])
        assert np.array_equal(beyond, d > radius)


def test_coverage_of_a_window_counts_only_the_points_inside_it():
    rng = np.random.default_rng(3)
    points, _ = day(3, 4, rng)
    track = clean(conform(points), RULES)
    lo, hi = float(np.quantile(track.t, 0.3)), float(np.quantile(track.t, 0.7))
    cov = _coverage(track, (lo, hi), 600.0, track.vehicles)
    inside = (track.t >= lo) & (track.t < hi)
    for code, name in enumerate(track.vehicles):
        t = track.t[inside & (track.vid == code)]
        assert cov[name].points == len(t)
        if len(t) > 1:
            gaps = np.diff(t)
            assert cov[name].longest_gap_s == pytest.approx(max(gaps.max(), t[0] - lo, hi - t[-1]))


@pytest.mark.parametrize("arrangement", ["by vehicle", "by time", "shuffled"])
def test_parts_are_whole_vehicles_in_vehicle_and_time_order(arrangement, monkeypatch):
    monkeypatch.setattr(engine, "BATCH_POINTS", 700)
    monkeypatch.setattr(engine, "GATHER_POINTS", 2500)
    points, _ = day(11, 7, np.random.default_rng(11))
    if arrangement != "shuffled":
        points = points.sort(*(["vehicle", "time"] if arrangement == "by vehicle" else ["time"]), maintain_order=True)
    found = points_of(conform(points))
    rows = np.lexsort((found.t_us, found.vid))  # stable: ties keep their input order
    parts = list(engine._parts(found))
    assert len(parts) > 3 and [name for p in parts for name in p.names] == found.names
    codes = np.concatenate([p.vid + found.names.index(p.names[0]) for p in parts])
    assert all(np.array_equal(np.unique(p.vid), np.arange(len(p.names))) for p in parts)  # whole vehicles, coded per part
    assert np.array_equal(codes, found.vid[rows])
    for column in ("t_us", "lat", "lon", "reported"):
        assert np.array_equal(np.concatenate([getattr(p, column) for p in parts]), getattr(found, column)[rows], equal_nan=True)


@SETTINGS
@given(seed=st.integers(0, 10_000), vehicles=st.integers(1, 6), arrangement=st.sampled_from(["by vehicle", "by time", "shuffled"]),
       realigned=st.booleans(), workers=st.sampled_from([1, 2]))
def test_plates_read_as_codes_from_parquet_chunks_give_the_same_scan(tmp_path_factory, seed, vehicles, arrangement, realigned, workers):
    """`guapai trajectory scan` reads Parquet plates as categorical codes and takes the columns
    chunk by chunk, as polars read them (clean._coded_points): the same points in (vehicle,
    input) order and the same findings, cleaning and coverage as plates read as text, whatever
    the row order, with rows the engine must drop (no plate, no time, no fix, status not
    positioned) and columns chunked differently."""
    from rules.trajectory.readers import read

    rng = np.random.default_rng(seed)
    points, classes = day(seed, vehicles, rng)
    if arrangement != "shuffled":
        points = points.sort(*(["vehicle", "time"] if arrangement == "by vehicle" else ["time"]), maintain_order=True)
    n = points.height
    broken = rng.random(n)
    points = points.with_columns(
        vehicle=pl.when(pl.Series(broken < 0.01)).then(None).otherwise(pl.col("vehicle")),
        time=pl.when(pl.Series((broken >= 0.01) & (broken < 0.02))).then(None).otherwise(pl.col("time")),
        lat=pl.when(pl.Series((broken >= 0.02) & (broken < 0.03))).then(0.0).otherwise(pl.col("lat")),
        lon=pl.when(pl.Series((broken >= 0.02) & (broken < 0.03))).then(0.0).otherwise(pl.col("lon")),
        status=pl.Series(np.where((broken >= 0.03) & (broken < 0.04), 0, 2), dtype=pl.UInt32))
    path = tmp_path_factory.mktemp("coded") / "day.parquet"
    points.write_parquet(path, row_group_size=max(50, n // 7))
    text, coded = read(path).points, read(path, coded_plates=True).points
    assert text.schema["vehicle"] == pl.Utf8 and coded.schema["vehicle"] == pl.Categorical
    if realigned:
        coded = coded.with_columns(coded.get_column("lat").rechunk())
    assert coded["lon"].n_chunks() > 1 or n < 100
    # the reader drops rows without a plate or a time; a frame given to the engine may have them
    step = max(1, n // 5)
    given_coded = pl.concat([points.slice(k, step).with_columns(pl.col("vehicle").cast(pl.Categorical)) for k in range(0, n, step)],
                            rechunk=False)
    for plain, fast in ((points_of(conform(text)), points_of(conform(coded), workers)),
                        (points_of(conform(points)), points_of(conform(given_coded), workers))):
        assert fast.names == plain.names and fast.points_in == plain.points_in
        rows = np.argsort(plain.vid, kind="stable")  # (vehicle, input) order
        assert np.array_equal(fast.vid, plain.vid[rows])
        for column in ("t_us", "lat", "lon", "reported"):
            assert np.array_equal(getattr(fast, column), getattr(plain, column)[rows], equal_nan=True)
        # where each vehicle starts, given only when the rows came in time order within each vehicle
        in_time = kernels.by_vehicle(fast.vid, fast.t_us, len(fast.names))[0]
        assert (fast.firsts is not None) == in_time
        if in_time:
            assert np.array_equal(fast.firsts, np.r_[0, np.cumsum(np.bincount(fast.vid, minlength=len(fast.names)))])
    expected = engine.scan(text, vehicle_class=classes, rules=RULES).as_dict()
    assert engine.scan(coded, vehicle_class=classes, rules=RULES, workers=workers).as_dict() == expected


@SETTINGS
@given(seed=st.integers(0, 10_000), with_status=st.booleans())
def test_a_valid_fix_is_a_plate_a_position_in_the_world_not_zero_zero_and_positioned(seed, with_status):
    rng = np.random.default_rng(seed)
    n = 2_000
    odd = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 90.0, -90.0, 90.0001, 180.0, -180.0, 180.0001, 1e308])
    lat = np.where(rng.random(n) < 0.3, rng.choice(odd, n), rng.uniform(-100, 100, n))
    lon = np.where(rng.random(n) < 0.3, rng.choice(odd, n), rng.uniform(-200, 200, n))
    vid = np.where(rng.random(n) < 0.1, -1, rng.integers(0, 5, n)).astype(np.int32)
    status = rng.integers(0, 8, n).astype(np.uint32) if with_status else np.zeros(0, np.uint32)
    expected = ((vid >= 0) & np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180)
                & ~((lat == 0) & (lon == 0)))
    if with_status:
        expected &= (status & 2) != 0
    np.testing.assert_array_equal(kernels.valid_fixes(lat, lon, status, vid), expected)


@SETTINGS
@given(seed=st.integers(0, 10_000), runs=st.integers(1, 40))
def test_sums_per_code_are_bincounts_also_when_a_code_comes_back(seed, runs):
    rng = np.random.default_rng(seed)
    code = np.repeat(rng.integers(0, 6, runs), rng.integers(1, 30, runs)).astype(np.int32)  # runs, codes recurring
    values = rng.normal(0, 1e3, len(code)) * 10.0 ** rng.integers(-8, 8, len(code))
    expected = np.zeros(6)
    for c, v in zip(code, values):  # in point order, as the kernel promises
        expected[c] += v
    np.testing.assert_array_equal(kernels.totals(code, values, 6), expected)
    t = np.cumsum(rng.uniform(0, 900, len(code)))
    lo, hi = float(t[len(t) // 5]), float(t[-1] - 1)
    counts, first_t, last_t, longest, covered = kernels.coverage(code, t, 6, lo, hi, 600.0)
    exp = [0] * 6, [np.nan] * 6, [np.nan] * 6, [0.0] * 6, [0.0] * 6
    prev = -1
    for i, (c, x) in enumerate(zip(code, t)):
        if not lo <= x < hi:
            continue
        if prev >= 0 and code[prev] == c:
            exp[3][c] = max(exp[3][c], x - t[prev])
            exp[4][c] += x - t[prev] if x - t[prev] <= 600.0 else 0.0
        else:
            exp[1][c] = x
        exp[2][c] = x
        exp[0][c] += 1
        prev = i
    for got, want in zip((counts, first_t, last_t, longest, covered), exp):
        np.testing.assert_array_equal(got, np.array(want, dtype=got.dtype))
