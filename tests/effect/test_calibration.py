"""Calibration: panels whose truth is known (500 companies, listings chosen among the worst of
the last 12 months, true effect 0 or -30%). The 95% interval of the headline (Poisson rate
ratio) must cover the truth in 90%-99% of panels and its mean bias must stay within 0.05
(5 percentage points of relative effect); the raw before/after must fail (regression to the
mean), which shows the check can fail. CI: 40 panels per effect, fixed seeds; GUAPAI_LONG=1:
400 per effect, plus 7 listings. Figures: docs/effect.md (benchmarks/effect_calibration.py)."""
import pytest

from listing.simulation.panels import calibrate
from tests.budget import LONG

REPS = 400 if LONG else 40
TOLERANCE = 0.05


@pytest.mark.parametrize("effect", [0.0, -0.30])
def test_the_interval_covers_the_truth_and_the_estimate_is_unbiased(effect):
    c = calibrate(effect, listings=20, reps=REPS)
    p = c["poisson"]
    assert p["with_interval"] == REPS
    assert 0.90 <= p["coverage"] <= 0.99, c
    assert abs(p["bias"]) <= TOLERANCE, c
    if effect == 0.0:  # the naive before/after reports a drop where there is none
        assert c["raw"]["bias"] < -0.10, c


@pytest.mark.skipif(not LONG, reason="long variant: GUAPAI_LONG=1")
def test_with_few_listings_the_interval_still_covers():
    c = calibrate(-0.30, listings=7, reps=REPS)
    assert 0.90 <= c["poisson"]["coverage"] <= 0.99, c
    assert abs(c["poisson"]["bias"]) <= 2 * TOLERANCE, c
