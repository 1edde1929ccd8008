"""Partial data is never clean (rules/sampling.py data_quality, pure): hand-built vehicle-days
whose moving time is covered, or not, by positions."""
import datetime as dt

import numpy as np
import pytest

from rules.sampling import data_quality, retry_delay

L = dt.timezone(dt.timedelta(hours=8))
LO = dt.datetime(2026, 11, 23, tzinfo=L).timestamp()
HI = LO + 86400
H = 3600.0


def day(*pieces):
    """pieces: (from hour, to hour, km/h) of fixes every 30 s (hours relative to the day's 00:00)."""
    t = np.concatenate([np.arange(LO + a * H, LO + b * H, 30.0) for a, b, _ in pieces])
    v = np.concatenate([np.full(len(np.arange(LO + a * H, LO + b * H, 30.0)), kmh, float) for a, b, kmh in pieces])
    return t, v


def quality(t, v, share=0.9):
    return data_quality(np.zeros(len(t), int), t, v, (LO, HI), moving_kmh=5.0, max_gap_s=600.0, min_share=share,
                        vehicles=["浙A1"])["浙A1"]


PARKED = [(-20, -19.9, 0.0), (-19.9, -13, 50.0), (-13, -12.9, 0.0)]  # the day before: a trip, parked at both ends


def test_a_normal_day_with_the_terminal_quiet_while_parked_is_complete():
    t, v = day(*PARKED, (6.9, 7, 0.0), (7, 10, 60.0), (10, 11, 0.0), (11, 15, 60.0), (15, 15.1, 0.0))
    q = quality(t, v)
    assert not q.partial and q.moving_share == 1.0 and q.moving_s == pytest.approx(7 * H, abs=120)


def test_a_gap_while_moving_over_the_configured_share_is_partial_and_under_it_is_not():
    # 7 h of driving, of which 1 h without positions: 6/7 = 86% covered
    t, v = day((6.9, 7, 0.0), (7, 9, 60.0), (10, 14, 60.0), (14, 14.1, 0.0))
    q = quality(t, v, share=0.9)
    assert q.partial and not q.stops_while_moving
    assert q.uncovered_moving_s == pytest.approx(H, abs=60) and q.moving_share == pytest.approx(6 / 7, abs=0.01)
    assert not quality(t, v, share=0.8).partial  # the share is configuration


def test_data_that_stop_while_moving_are_partial_whatever_the_share():
    t, v = day((6.9, 7, 0.0), (7, 15, 60.0))  # last fix at 15:00 at 60 km/h, then nothing
    q = quality(t, v, share=0.0)
    assert q.partial and q.stops_while_moving


def test_data_that_go_on_after_midnight_do_not_stop_while_moving():
    t, v = day((20.9, 21, 0.0), (21, 27, 60.0), (27, 27.1, 0.0))  # a drive 21:00-03:00, context after the day
    q = quality(t, v)
    assert not q.partial and q.moving_s == pytest.approx(3 * H, abs=60)


def test_a_gap_that_began_while_moving_the_day_before_is_that_days_problem():
    # the data stopped while moving yesterday at 20:00; today they resume with the vehicle parked
    t, v = day((-5, -4, 60.0), (6.9, 7, 0.0), (7, 10, 60.0), (10, 10.1, 0.0))
    assert not quality(t, v).partial
    yesterday = data_quality(np.zeros(len(t), int), t, v, (LO - 86400, LO), moving_kmh=5.0, max_gap_s=600.0, min_share=0.9,
                             vehicles=["浙A1"])["浙A1"]
    assert yesterday.partial and yesterday.stops_while_moving


def test_vehicles_are_judged_apart_and_in_any_row_order():
    t1, v1 = day((6.9, 7, 0.0), (7, 15, 60.0))  # stops while moving
    t2, v2 = day((6.9, 7, 0.0), (7, 10, 60.0), (10, 10.1, 0.0))  # complete
    t, v = np.r_[t1, t2], np.r_[v1, v2]
    code = np.r_[np.zeros(len(t1), int), np.ones(len(t2), int)]
    order = np.random.default_rng(1).permutation(len(t))
    out = data_quality(code[order], t[order], v[order], (LO, HI), moving_kmh=5.0, max_gap_s=600.0, min_share=0.9,
                       vehicles=["浙A1", "浙A2", "浙A3"])
    assert (out["浙A1"].partial, out["浙A2"].partial, out["浙A3"].points) == (True, False, 0)


def test_retry_delay_doubles_up_to_the_longest():
    first, longest = dt.timedelta(minutes=15), dt.timedelta(hours=4)
    assert [retry_delay(n, first, longest) / dt.timedelta(minutes=1) for n in (1, 2, 3, 4, 5, 6, 9)] == [15, 30, 60, 120, 240, 240, 240]
