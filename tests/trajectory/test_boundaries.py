"""One hand-built scenario per rule at its boundary; each fails if the boundary moves by a sample."""
import datetime as dt

import polars as pl
import pytest

from rules.trajectory import load_rules, scan
from tests.trajectory.build import local, track

RULES = load_rules()
DAY = local(2026, 11, 23, 0)


def rules_of(points, cls="truck", **kw):
    return [f.rule for f in scan(points, vehicle_class=cls, rules=RULES, **kw).findings]


def findings(points, cls="truck", **kw):
    return scan(points, vehicle_class=cls, rules=RULES, **kw).findings


@pytest.mark.parametrize("over_points,expected", [(2, []), (3, ["overspeed"])])
def test_overspeed_needs_60_seconds(over_points, expected):
    # truck limit 100: 2 points over = 30 s, 3 points over = 60 s (first to last)
    pts = track(local(2026, 11, 23, 10), [(300, 80), (30 * over_points, 110), (300, 80)])
    assert rules_of(pts) == expected


@pytest.mark.parametrize("speed,band", [(119.9, "<20%"), (120.0, "20%-50%"), (149.9, "20%-50%"), (150.0, ">=50%")])
def test_overspeed_bands(speed, band):
    (f,) = findings(track(local(2026, 11, 23, 10), [(300, 80), (120, speed), (300, 80)]))
    assert (f.band, f.limit_kmh, f.max_speed_kmh) == (band, 100.0, speed)
    assert f.duration_s == 90 and f.point_count == 4  # 4 points 30 s apart


def test_night_overspeed_from_2200_for_passenger_vehicles_only():
    # 90 km/h from 21:58 to 22:02: above a coach's night limit (80) only from 22:00:00
    pts = track(local(2026, 11, 23, 21, 50), [(480, 70), (240, 90), (480, 70)])
    (f,) = findings(pts, "coach")
    assert (f.rule, f.start, f.limit_kmh) == ("night_overspeed", local(2026, 11, 23, 22, 0), 80.0)
    assert f.point_count == 4  # 22:00:00 .. 22:01:30
    assert rules_of(pts, "truck") == []


def test_night_overspeed_boundary_2159_to_2201():
    # over from 21:59:00 to 22:00:30: only 22:00:00 and 22:00:30 are night points (30 s): nothing
    pts = track(local(2026, 11, 23, 21, 50), [(540, 70), (120, 90), (480, 70)])
    assert rules_of(pts, "coach") == []
    pts = track(local(2026, 11, 23, 21, 50), [(540, 70), (150, 90), (480, 70)])  # one sample more
    assert rules_of(pts, "coach") == ["night_overspeed"]


@pytest.mark.parametrize("drive_s,expected", [(4 * 3600 + 30, []), (4 * 3600 + 60, ["fatigue_continuous"])])
def test_continuous_driving_over_four_hours(drive_s, expected):
    # moving points spanning exactly 4 h is allowed; one sample more is not
    pts = track(local(2026, 11, 23, 8), [(drive_s, 60), (3600, 0)])
    assert rules_of(pts) == expected


@pytest.mark.parametrize("rest_min,expected", [(19, ["fatigue_continuous"]), (20, [])])
def test_a_rest_of_20_minutes_resets_continuous_driving(rest_min, expected):
    # 3 h, a stop, then 1 h 30: the stop lasts from the last moving point to the next moving
    # point, i.e. the still segment plus one sample
    pts = track(local(2026, 11, 23, 8), [(3 * 3600, 60), (rest_min * 60 - 30, 0), (5400, 60), (1800, 0)])
    assert rules_of(pts) == expected


def test_passenger_night_limit_is_two_hours():
    pts = track(local(2026, 11, 23, 22, 30), [(2 * 3600 + 60, 60), (1800, 0)])
    (f,) = findings(pts, "coach")
    assert f.rule == "fatigue_continuous" and f.details["night"] and f.details["limit_s"] == 7200
    assert rules_of(track(local(2026, 11, 23, 22, 30), [(2 * 3600 + 30, 60), (1800, 0)]), "coach") == []
    assert rules_of(pts, "truck") == []  # freight: the 4 h limit applies


@pytest.mark.parametrize("block_s,expected", [(9630, []), (9660, ["fatigue_daily"])])  # 3 x (block - 30 s) = 8 h, or 8 h + 90 s
def test_more_than_eight_hours_in_24(block_s, expected):
    rest = (40 * 60, 0)
    pts = track(local(2026, 11, 23, 6), [(block_s, 60), rest, (block_s, 60), rest, (block_s, 60), (60, 0)])
    assert rules_of(pts) == expected


def test_early_morning_ban_for_coaches():
    # moving from 01:59:00 to 02:01:00: 02:00:00, 02:00:30, 02:01:00 are inside (60 s)
    pts = track(local(2026, 11, 23, 1, 50), [(540, 0), (150, 50), (600, 0)])
    assert rules_of(pts, "coach") == ["early_morning"]
    pts_short = track(local(2026, 11, 23, 1, 50), [(540, 0), (120, 50), (600, 0)])  # to 02:00:30: 30 s
    assert rules_of(pts_short, "coach") == []
    assert rules_of(pts, "truck") == []
    from rules.trajectory.config import parse, DEFAULT
    import tomllib

    exempt = parse('[early_morning]\nexempt_vehicles = ["浙A00001"]\n', tomllib.loads(DEFAULT.read_text()))
    assert [f.rule for f in scan(pts, vehicle_class="coach", rules=exempt).findings] == []


@pytest.mark.parametrize("gap_s,moved,expected", [(600, True, []), (630, True, ["signal_gap"]), (3600, False, [])])
def test_signal_gap_only_while_moving(gap_s, moved, expected):
    a = track(local(2026, 11, 23, 10), [(600, 50)])
    b = track(local(2026, 11, 23, 10, 10) + dt.timedelta(seconds=gap_s), [(600, 50)],
              lat0=float(a["lat"][-1]) + (0.01 if moved else 0.0), lon0=float(a["lon"][-1]))
    assert rules_of(pl.concat([a, b])) == expected


def test_episode_over_midnight_is_counted_once():
    pts = track(local(2026, 11, 23, 23, 50), [(420, 70), (600, 95), (600, 70)], vehicle="浙A00002")
    d1 = (local(2026, 11, 23, 0), local(2026, 11, 24, 0))
    d2 = (local(2026, 11, 24, 0), local(2026, 11, 25, 0))
    first = findings(pts, "coach", window=d1)
    second = findings(pts, "coach", window=d2)
    assert [f.rule for f in first] == ["night_overspeed"] and second == []
    assert first[0].start == local(2026, 11, 23, 23, 57) and first[0].end == local(2026, 11, 24, 0, 6, 30)


def test_utc_input_and_local_rules(tmp_path):
    """The same drive written in UTC and in Beijing time gives the same findings at the same local hour."""
    pts = track(local(2026, 11, 23, 21, 50), [(480, 70), (300, 90), (480, 70)])
    utc_csv, local_csv = tmp_path / "utc.csv", tmp_path / "local.csv"
    pts.with_columns(pl.col("time").dt.strftime("%Y-%m-%dT%H:%M:%SZ")).write_csv(utc_csv)
    pts.with_columns(pl.col("time").dt.convert_time_zone("Asia/Shanghai").dt.strftime("%Y-%m-%d %H:%M:%S")).write_csv(local_csv)
    from rules.trajectory import read

    a = findings(read(utc_csv).points, "coach")
    b = findings(read(local_csv, naive_tz="Asia/Shanghai").points, "coach")
    c = findings(read(local_csv, naive_tz="UTC").points, "coach")  # misread as UTC: 05:50-06:10 local
    assert [(f.rule, f.start) for f in a] == [(f.rule, f.start) for f in b] == [("night_overspeed", local(2026, 11, 23, 22, 0))]
    # 8 hours later the night ends at 06:00: only 05:58:00-05:59:30 is night overspeed
    assert [(f.rule, f.start, f.end) for f in c] == [("night_overspeed", local(2026, 11, 24, 5, 58), local(2026, 11, 24, 5, 59, 30))]


def test_drivers_from_assignments_and_unknown_driver():
    pts = track(local(2026, 11, 23, 9), [(1800, 80), (180, 120), (1800, 80)])
    assignments = pl.DataFrame({"vehicle": ["浙A00001"], "driver": ["330106199001011234"],
                                "start": ["2026-11-23T09:20:00+08:00"], "end": ["2026-11-23T12:00:00+08:00"]})
    out = findings(pts, assignments=assignments)
    by_rule = {f.rule: f for f in out}
    assert by_rule["overspeed"].driver == "330106199001011234"
    unknown = by_rule["driver_unknown"]
    assert unknown.start == local(2026, 11, 23, 9) and unknown.end == local(2026, 11, 23, 9, 19, 30)
    assert findings(pts) and all(f.rule != "driver_unknown" for f in findings(pts))  # no roster: not judged


def test_zones_lowest_limit_wins():
    from rules.trajectory import Zones

    pts = track(local(2026, 11, 23, 10), [(600, 70)])
    box = {"type": "Polygon", "coordinates": [[[119.9, 29.9], [120.1, 29.9], [120.1, 30.1], [119.9, 30.1], [119.9, 29.9]]]}
    zones = Zones.from_geojson({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"speed_limit": 60}, "geometry": box},
        {"type": "Feature", "properties": {"speed_limit": 80}, "geometry": box}]})
    (f,) = findings(pts, zones=zones)
    assert (f.rule, f.limit_kmh, f.details["zone"]) == ("overspeed", 60.0, True)
    assert findings(pts) == []
