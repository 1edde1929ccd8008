"""Peer scoring with small hand-computed cases (the arithmetic is written out)."""
import polars as pl
import pytest

from rules.criteria.config import load
from rules.criteria.scoring import score, violation_severity

S = load().scoring  # time weights 3/2/1; points severity {0:1,1:1,2:2,3:3,6:6,9:8,12:10}; min 3 vehicles, 3 events


def frames():
    exposure = pl.DataFrame({"company_id": [1, 2, 3, 4, 5], "avg_vehicles": [10.0, 10.0, 5.0, 8.0, 2.0]})
    violations = pl.DataFrame({
        "company_id": [1, 1, 2, 3, 4, 5],
        "bucket": [0, 2, 1, 0, 0, 0],
        "code": ["1352", "1039", "1301", "1636", "1019", "1352"],
        "points": [3, 1, 6, 6, 12, 3],
        "n": [2, 1, 3, 3, 2, 5],
    })
    accidents = pl.DataFrame({"company_id": [1, 2], "bucket": [0, 3], "injury_or_fatal": [True, False],
                              "dg_release": [True, False], "n": [1, 4]})
    return exposure, violations, accidents


def test_hand_computed_measures_and_percentiles():
    from dataclasses import replace

    scoring = replace(S, severity_by_code={"1636": 10.0})
    out = {r["company_id"]: r for r in score(*frames(), scoring).iter_rows(named=True)}
    # A: 2 events x severity 3 (3 points) x weight 3 (0-6 months) + 1 x 1 x 1 (12-24 months) = 19; / 10 vehicles
    assert out[1]["violation_measure"] == pytest.approx(1.9)
    # B: 3 x severity 6 x weight 2 = 36; / 10
    assert out[2]["violation_measure"] == pytest.approx(3.6)
    # C: code 1636 overrides its points: 3 x 10 x 3 = 90; / 5
    assert out[3]["violation_measure"] == pytest.approx(18.0)
    # D: 2 x 10 (12 points) x 3 = 60; / 8 = 7.5, but only 2 events: no percentile
    assert out[4]["violation_measure"] == pytest.approx(7.5) and out[4]["violation_percentile"] is None
    # E: 2 vehicles < min 3: measured, not ranked, and in its own size band
    assert out[5]["violation_measure"] == pytest.approx(5 * 3 * 3 / 2) and out[5]["violation_percentile"] is None
    # peers 5-20 vehicles eligible: A 1.9 < B 3.6 < C 18 -> 0, 50, 100 (share of the 2 others below)
    assert [out[i]["violation_percentile"] for i in (1, 2, 3)] == [0.0, 50.0, 100.0]
    assert out[1]["peer_group"] == out[3]["peer_group"] == "5-20" and out[5]["peer_group"] == "1-5"
    # accidents: A one injury accident with a dangerous-goods release, 0-6 months: (2 + 1) x 3 = 9; / 10
    assert out[1]["accident_measure"] == pytest.approx(0.9)
    # B's accidents are older than 24 months (bucket 3): they weigh nothing
    assert out[2]["accident_measure"] == 0.0 and out[1]["accident_percentile"] is None  # 1 event < 3


def test_points_severity_takes_the_nearest_key_at_or_below():
    sev = violation_severity(pl.Series(["x", "x", "x", "x"]), pl.Series([0, 4, 7, 15]), S)
    assert sev.to_list() == [1.0, 3.0, 6.0, 10.0]


def test_ties_share_a_percentile():
    exposure = pl.DataFrame({"company_id": [1, 2, 3], "avg_vehicles": [10.0, 10.0, 10.0]})
    violations = pl.DataFrame({"company_id": [1, 2, 3], "bucket": [0, 0, 0], "code": ["a"] * 3, "points": [3, 3, 6], "n": [3, 3, 3]})
    accidents = pl.DataFrame(schema={"company_id": pl.Int64, "bucket": pl.Int64, "injury_or_fatal": pl.Boolean,
                                     "dg_release": pl.Boolean, "n": pl.Int64})
    out = score(exposure, violations, accidents, S).sort("company_id")
    assert out["violation_percentile"].to_list() == [0.0, 0.0, 100.0]
