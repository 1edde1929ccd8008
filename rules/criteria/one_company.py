"""The listing criteria applied to ONE company's aggregates, in plain Python: what the acceptance
checklist and the company story need for a single company, without loading polars (a read command
must answer in under half a second). The same arithmetic as the vectorised `evaluate.evaluate`
(tests/rules/test_one_company.py checks the two agree on random aggregates)."""
from __future__ import annotations

from rules.criteria.config import CRITERIA, RuleSet

COUNTS = ("vehicle_days", "fatal_accidents", "deaths", "at_fault_accidents", "violations")


def evaluate_one(aggregate: dict, rules: RuleSet, window_days: int) -> dict:
    """The row `evaluate` gives for this company: metrics, thresholds t_*, hits hit_*, small_fleet, flagged."""
    row = dict(aggregate) | {c: aggregate.get(c) or 0 for c in COUNTS}
    row["vehicle_days"] = float(row["vehicle_days"])
    business_type = row.get("business_type")
    row |= {f"t_{c}": rules.threshold(business_type, c) for c in CRITERIA}
    avg = row["avg_vehicles"] = row["vehicle_days"] / window_days
    row["at_fault_per_vehicle"] = row["at_fault_accidents"] / avg if avg > 0 else None
    row["violations_per_vehicle"] = row["violations"] / avg if avg > 0 else None
    for c in CRITERIA:
        value, threshold = row[c], row[f"t_{c}"]
        row[f"hit_{c}"] = value is not None and threshold is not None and value >= threshold
    small = row["small_fleet"] = avg < rules.min_fleet
    rates = (row["hit_at_fault_per_vehicle"], row["hit_violations_per_vehicle"])
    row["flagged"] = row["hit_fatal_accidents"] or (all(rates) if small else any(rates))
    return row
