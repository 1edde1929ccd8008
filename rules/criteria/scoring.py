"""Peer scoring in the manner of the FMCSA Safety Measurement System (an optional mode).

measure    = sum(time weight x severity weight over events) / average vehicles
time weight: 3 / 2 / 1 for events 0-6 / 6-12 / 12-24 months old (older events drop out)
severity   : accidents 2 if fatal or injury else 1, +1 with a dangerous-goods release;
             violations by code (override) or by points (the nearest points key at or below)
percentile : within the peer group (average-vehicle size band), the share of the other
             eligible peers with a strictly lower measure, x 100 (higher = worse);
             a company with fewer than `min_vehicles` or `min_events` gets none.
Pure and vectorised over companies: the service passes grouped counts from the database.
"""
from __future__ import annotations

import bisect

import polars as pl

from rules.criteria.config import Scoring


def violation_severity(codes: pl.Series, points: pl.Series, scoring: Scoring) -> pl.Series:
    keys = sorted(scoring.severity_by_points)

    def by_points(p: int) -> float:
        i = bisect.bisect_right(keys, p) - 1
        return scoring.severity_by_points[keys[i]] if i >= 0 else 1.0

    # mapping over the distinct (code, points) groups, not over events
    table = pl.DataFrame({"code": codes, "points": points}).unique()
    table = table.with_columns(pl.Series("severity", [scoring.severity_by_code.get(c, by_points(p))
                                                      for c, p in table.iter_rows()], dtype=pl.Float64))
    return pl.DataFrame({"code": codes, "points": points}).join(table, on=["code", "points"], how="left",
                                                                maintain_order="left")["severity"]


def time_weight(bucket: pl.Expr, scoring: Scoring) -> pl.Expr:
    """bucket = index into scoring.time_weights (0 = newest)."""
    expr = pl.lit(0.0)
    for i, (_, weight) in enumerate(scoring.time_weights):
        expr = pl.when(bucket == i).then(pl.lit(weight)).otherwise(expr)
    return expr


def score(exposure: pl.DataFrame, violations: pl.DataFrame, accidents: pl.DataFrame, scoring: Scoring) -> pl.DataFrame:
    """exposure: company_id, avg_vehicles. violations: company_id, bucket, code, points, n.
    accidents: company_id, bucket, injury_or_fatal (bool), dg_release (bool), n."""
    v = violations.with_columns(violation_severity(violations["code"], violations["points"], scoring).alias("sev"))
    v = v.group_by("company_id").agg(
        (pl.col("n") * pl.col("sev") * time_weight(pl.col("bucket"), scoring)).sum().alias("violation_points"),
        pl.col("n").sum().alias("violation_events"))
    a = accidents.with_columns(
        (pl.when(pl.col("injury_or_fatal")).then(scoring.fatal_or_injury).otherwise(scoring.property_only)
         + pl.when(pl.col("dg_release")).then(scoring.dangerous_goods_release).otherwise(0.0)).alias("sev"))
    a = a.group_by("company_id").agg(
        (pl.col("n") * pl.col("sev") * time_weight(pl.col("bucket"), scoring)).sum().alias("accident_points"),
        pl.col("n").sum().alias("accident_events"))
    frame = (exposure.join(v, on="company_id", how="left").join(a, on="company_id", how="left")
             .with_columns(pl.col("violation_points", "accident_points").fill_null(0.0),
                           pl.col("violation_events", "accident_events").fill_null(0)))
    bands = list(scoring.size_bands)
    labels = [f"{a:g}-{b:g}" for a, b in zip(bands, bands[1:-1])] + [f"≥{bands[-2]:g}"]
    group = pl.lit(labels[0])
    for edge, label in zip(bands[1:-1], labels[1:]):  # size bands are left-closed: [a, b)
        group = pl.when(pl.col("avg_vehicles") >= edge).then(pl.lit(label)).otherwise(group)
    frame = frame.with_columns(group.alias("peer_group"))
    for kind in ("violation", "accident"):
        measure = pl.when(pl.col("avg_vehicles") > 0).then(pl.col(f"{kind}_points") / pl.col("avg_vehicles"))
        eligible = (pl.col("avg_vehicles") >= scoring.min_vehicles) & (pl.col(f"{kind}_events") >= scoring.min_events)
        frame = frame.with_columns(measure.alias(f"{kind}_measure"), eligible.alias(f"_{kind}_ok"))
        ranked = pl.when(pl.col(f"_{kind}_ok")).then(pl.col(f"{kind}_measure"))
        lower = ranked.rank("min").over("peer_group") - 1  # eligible peers strictly below
        peers = ranked.count().over("peer_group")
        frame = frame.with_columns(
            pl.when(pl.col(f"_{kind}_ok") & (peers > 1)).then(100.0 * lower / (peers - 1)).alias(f"{kind}_percentile"))
    return frame.drop("_violation_ok", "_accident_ok")
