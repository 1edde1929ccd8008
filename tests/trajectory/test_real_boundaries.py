"""Scenarios at the places real driving days cross: midnight, a change of driver, the 22:00
change of limit, a parked vehicle whose GPS wanders. Each fails if its rule is broken."""
import polars as pl

from rules.trajectory import load_rules, scan
from tests.trajectory.build import local, track

RULES = load_rules()
DAY1 = (local(2026, 11, 23, 0), local(2026, 11, 24, 0))
DAY2 = (local(2026, 11, 24, 0), local(2026, 11, 25, 0))


def found(points, cls="truck", **kw):
    return scan(points, vehicle_class=cls, rules=RULES, **kw).findings


def test_a_drive_over_midnight_belongs_to_the_day_its_limit_is_crossed():
    # 21:00-03:00 without a rest: the 4 h limit is exceeded at 01:00:30 on day 2
    pts = track(local(2026, 11, 23, 21), [(6 * 3600, 60), (1800, 0)])
    assert found(pts, report_window=DAY1) == []
    (f,) = found(pts, report_window=DAY2)  # sampling day 2 only, with the evening before as context
    assert f.rule == "fatigue_continuous"
    assert f.breach == local(2026, 11, 24, 1, 0, 30)
    assert f.start == local(2026, 11, 23, 21) and f.end == local(2026, 11, 24, 2, 59, 30)  # the whole episode as evidence
    assert f.to_dict()["breach"] == "2026-11-23T17:00:30+00:00"
    both = found(pts, report_window=DAY1) + found(pts, report_window=DAY2)
    assert [x.rule for x in both] == ["fatigue_continuous"]  # both days sampled: reported once


def test_overspeed_over_midnight_belongs_to_the_minute_it_lasted_60_s():
    # over the limit from 23:59:30: it has lasted 60 s at 00:00:30, on day 2
    pts = track(local(2026, 11, 23, 23, 50), [(570, 80), (180, 110), (600, 80)])
    assert found(pts, report_window=DAY1) == []
    (f,) = found(pts, report_window=DAY2)
    assert (f.rule, f.start, f.breach) == ("overspeed", local(2026, 11, 23, 23, 59, 30), local(2026, 11, 24, 0, 0, 30))


def test_the_2200_change_of_limit_never_splits_an_episode():
    # a coach at 105 (over the day limit 100) from 21:59:00, then 85 (over the night limit 80)
    # from 22:00:00: 30 s + 30 s, each too short alone, 90 s as one episode
    pts = track(local(2026, 11, 23, 21, 50), [(540, 70), (60, 105), (60, 85), (600, 70)])
    (f,) = found(pts, "coach")
    assert (f.rule, f.start, f.end) == ("night_overspeed", local(2026, 11, 23, 21, 59), local(2026, 11, 23, 22, 0, 30))
    assert f.details["limits_kmh"] == [80.0, 100.0] and f.limit_kmh == 80.0
    # over the day limit throughout: one overspeed episode, whatever the hour
    pts = track(local(2026, 11, 23, 21, 50), [(540, 70), (60, 105), (60, 104), (600, 70)])
    assert [(x.rule, x.start) for x in found(pts, "coach")] == [("overspeed", local(2026, 11, 23, 21, 59))]


def roster(*rows):
    return pl.DataFrame(rows, schema=["vehicle", "driver", "start", "end"], orient="row")


def test_a_change_of_driver_starts_the_new_drivers_stretch():
    # 08:00-13:00 without a rest: 5 h on the vehicle
    pts = track(local(2026, 11, 23, 8), [(5 * 3600, 60), (1800, 0)])
    (f,) = found(pts)
    assert f.rule == "fatigue_continuous" and f.driver is None and f.details["counted_per"] == "vehicle"
    # two drivers of 2 h 30 each: neither drove more than 4 h
    shared = roster(("浙A00001", "A", "2026-11-23 08:00:00", "2026-11-23 10:30:00"),
                    ("浙A00001", "B", "2026-11-23 10:30:00", "2026-11-23 14:00:00"))
    assert found(pts, assignments=shared) == []
    # A drives 4 h 30, B the last 30 min: A's finding, not B's
    long_a = roster(("浙A00001", "A", "2026-11-23 08:00:00", "2026-11-23 12:30:00"),
                    ("浙A00001", "B", "2026-11-23 12:30:00", "2026-11-23 14:00:00"))
    (f,) = found(pts, assignments=long_a)
    assert (f.rule, f.driver, f.details["counted_per"]) == ("fatigue_continuous", "A", "driver")
    assert f.breach == local(2026, 11, 23, 12, 0, 30) and f.end < local(2026, 11, 23, 12, 30)


def test_cumulative_driving_is_counted_per_driver():
    rest = (40 * 60, 0)
    pts = track(local(2026, 11, 23, 6), [(9660, 60), rest, (9660, 60), rest, (9660, 60), (60, 0)])
    assert [f.rule for f in found(pts)] == ["fatigue_daily"]  # 8 h + 90 s on one vehicle
    two = roster(("浙A00001", "A", "2026-11-23 05:00:00", "2026-11-23 12:00:00"),
                 ("浙A00001", "B", "2026-11-23 12:00:00", "2026-11-24 00:00:00"))
    assert found(pts, assignments=two) == []  # A 5 h 20, B 2 h 40


def test_gps_wander_around_a_parked_vehicle_is_a_rest():
    """3 h driving, 30 min parked with 30 m of GPS wander and no reported speed, 1 h 30 driving:
    the wander gives derived speeds above 5 km/h, but the vehicle never left the rest radius."""
    import numpy as np

    pts = track(local(2026, 11, 23, 8), [(3 * 3600, 60), (1800, 0), (5400, 60), (1800, 0)])
    t = pts["time"].dt.epoch("s").to_numpy()
    parked = (t > local(2026, 11, 23, 11, 0, 30).timestamp()) & (t < local(2026, 11, 23, 11, 30).timestamp())
    rng = np.random.default_rng(7)
    angle, r = rng.uniform(0, 2 * np.pi, parked.sum()), 30 * np.sqrt(rng.uniform(0, 1, parked.sum()))
    lat, lon = pts["lat"].to_numpy().copy(), pts["lon"].to_numpy().copy()
    lat[parked] += r * np.cos(angle) / 111_195
    lon[parked] += r * np.sin(angle) / (111_195 * np.cos(np.radians(30)))
    wander = pts.with_columns(lat=lat, lon=lon, speed_kmh=None)
    result = scan(wander, vehicle_class="truck", rules=RULES)
    assert result.report.speed_source == "derived"
    assert result.findings == []


def test_assignment_times_without_an_offset_are_beijing_time(tmp_path):
    import json

    from typer.testing import CliRunner

    import main

    pts = track(local(2026, 11, 23, 9), [(1800, 80), (180, 120), (1800, 80)])  # overspeed at 09:30 Beijing
    positions, roster_csv = tmp_path / "p.csv", tmp_path / "roster.csv"
    pts.with_columns(pl.col("time").dt.convert_time_zone("Asia/Shanghai").dt.strftime("%Y-%m-%d %H:%M:%S")).write_csv(positions)
    roster_csv.write_text("vehicle,driver,start,end\n浙A00001,D1,2026-11-23 09:00:00,2026-11-23 12:00:00\n", encoding="utf-8")
    out = CliRunner().invoke(main.app, ["trajectory", "scan", str(positions), "--assignments", str(roster_csv), "--json"])
    assert out.exit_code == 0, out.output
    (f,) = json.loads(out.stdout)["findings"]
    assert (f["rule"], f["driver"]) == ("overspeed", "D1")  # read as UTC it would be 17:00-20:00 Beijing: no driver
