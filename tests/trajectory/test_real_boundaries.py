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
