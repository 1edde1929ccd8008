"""The one-company evaluation (no polars, for read commands) gives exactly the row the vectorised
evaluation gives, on random aggregates around the thresholds, small fleets and empty fleets."""
from __future__ import annotations

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from rules.criteria.config import load
from rules.criteria.evaluate import AGGREGATE_COLUMNS, evaluate
from rules.criteria.one_company import evaluate_one

RULES = load()
TYPES = sorted(set(RULES.thresholds) - {"default"}) + ["default", "unknown_type"]

aggregate = st.fixed_dictionaries({
    "company_id": st.integers(1, 10 ** 6), "uscc": st.just("91330106000000001X"), "name": st.just("甲"),
    "business_type": st.sampled_from(TYPES), "jurisdiction": st.just("西湖区"),
    "vehicle_days": st.one_of(st.none(), st.floats(0, 20_000, allow_nan=False)),
    "fatal_accidents": st.one_of(st.none(), st.integers(0, 3)), "deaths": st.one_of(st.none(), st.integers(0, 5)),
    "at_fault_accidents": st.one_of(st.none(), st.integers(0, 30)), "violations": st.one_of(st.none(), st.integers(0, 400)),
})


@given(aggregate, st.integers(1, 400))
def test_one_company_equals_the_vectorised_evaluation(agg, window_days):
    frame = pl.DataFrame([agg], schema=AGGREGATE_COLUMNS)
    expected = evaluate(frame, RULES, window_days).row(0, named=True)
    got = evaluate_one(agg, RULES, window_days)
    assert set(expected) <= set(got)
    for key, value in expected.items():
        if isinstance(value, float):
            assert got[key] == value or abs(got[key] - value) <= 1e-12 * max(1.0, abs(value)), key
        else:
            assert got[key] == value, key
