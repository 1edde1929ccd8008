"""Applying the listing criteria to per-company aggregates (pure, vectorised over companies).

Input: one row per company with the window's vehicle-days and event counts (the service
aggregates them in the database). Output: the metrics, each criterion's threshold and hit, and
whether the company is flagged. The per-vehicle denominator is the average number of active
vehicles over the window (vehicle-days / window days), not today's fleet.
"""
from __future__ import annotations

import polars as pl

from rules.criteria.config import CRITERIA, RuleSet

AGGREGATE_COLUMNS = {
    "company_id": pl.Int64, "uscc": pl.Utf8, "name": pl.Utf8, "business_type": pl.Utf8, "jurisdiction": pl.Utf8,
    "vehicle_days": pl.Float64, "fatal_accidents": pl.Int64, "deaths": pl.Int64,
    "at_fault_accidents": pl.Int64, "violations": pl.Int64,
}


def _thresholds(rules: RuleSet, types: list[str]) -> pl.DataFrame:
    return pl.DataFrame(
        [{"business_type": t, **{f"t_{c}": rules.threshold(t, c) for c in CRITERIA}} for t in types],
        schema={"business_type": pl.Utf8, **{f"t_{c}": pl.Float64 for c in CRITERIA}},
    )


def evaluate(aggregates: pl.DataFrame, rules: RuleSet, window_days: int) -> pl.DataFrame:
    """Metrics, thresholds, hits and the flag for every company."""
    frame = aggregates.with_columns(
        [pl.col(c).fill_null(0) for c in ("vehicle_days", "fatal_accidents", "deaths", "at_fault_accidents", "violations")]
    )
    types = sorted(set(frame["business_type"].to_list())) or ["default"]
    frame = frame.join(_thresholds(rules, types), on="business_type", how="left")
    avg = (pl.col("vehicle_days") / window_days).alias("avg_vehicles")
    frame = frame.with_columns(avg).with_columns(
        pl.when(pl.col("avg_vehicles") > 0).then(pl.col("at_fault_accidents") / pl.col("avg_vehicles")).alias("at_fault_per_vehicle"),
        pl.when(pl.col("avg_vehicles") > 0).then(pl.col("violations") / pl.col("avg_vehicles")).alias("violations_per_vehicle"),
    )
    hits = {c: (pl.col(c) >= pl.col(f"t_{c}")).fill_null(False).alias(f"hit_{c}") for c in CRITERIA}
    frame = frame.with_columns(list(hits.values()))
    small = pl.col("avg_vehicles") < rules.min_fleet
    rate_hits = [pl.col("hit_at_fault_per_vehicle"), pl.col("hit_violations_per_vehicle")]
    flagged = pl.col("hit_fatal_accidents") | pl.when(small).then(rate_hits[0] & rate_hits[1]).otherwise(rate_hits[0] | rate_hits[1])
    return frame.with_columns(small.alias("small_fleet"), flagged.alias("flagged"))


def explanation(row: dict, rules: RuleSet) -> list[dict]:
    """Which criteria a flagged company meets: criterion, value, threshold (records added by the service)."""
    out = []
    for c in CRITERIA:
        if row[f"hit_{c}"]:
            out.append({"criterion": c, "value": row[c], "threshold": row[f"t_{c}"], "rules_version": rules.version,
                        "small_fleet_rule": bool(row["small_fleet"]) and c != "fatal_accidents"})
    return out
