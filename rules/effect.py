"""Measuring the effect of listing honestly (DESIGN section 8): a matched difference in
differences, because a company listed after a bad period improves partly by regression to the
mean, and a raw before/after drop overstates the effect.

For each listing: the treated company's rate (events per vehicle-month) in `months` months
before the listing month and in the listing month and after, against comparable unlisted
companies (same business type and size band, nearest in the pre-period rate — so they share
the bad-luck selection that regresses to the mean) over the same calendar months.

  DiD = (treated_after - treated_before) - mean over controls (control_after - control_before)

Relative effects: the DiD over the counterfactual (what the company would have had without
listing), next to the raw change over the before rate (what a naive before/after claims).
Per listing, a 95% interval from Poisson variances; overall, the mean DiD over listings with a
95% bootstrap interval (listings resampled with their controls). Pure: frames in, numbers out.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl


@dataclass(frozen=True)
class Treated:
    listing_id: int
    company_id: int
    month: int  # the listing month as a month index (year * 12 + month - 1)


def month_index(year: int, month: int) -> int:
    return year * 12 + month - 1


def _window_sums(panel: pl.DataFrame, companies: list[int], first: int, last: int, metric: str) -> pl.DataFrame:
    return (panel.filter(pl.col("company_id").is_in(companies) & pl.col("month").is_between(first, last))
            .group_by("company_id").agg(pl.col(metric).sum().alias("events"), pl.col("vehicle_months").sum().alias("exposure")))


def choose_controls(panel: pl.DataFrame, companies: pl.DataFrame, treated: Treated, never_listed: set[int],
                    metric: str, months: int, k: int) -> list[int]:
    """Same business type and size band, never listed, nearest in the pre-period rate."""
    me = companies.filter(pl.col("company_id") == treated.company_id).row(0, named=True)
    pool = companies.filter((pl.col("business_type") == me["business_type"]) & (pl.col("size_band") == me["size_band"])
                            & pl.col("company_id").is_in(list(never_listed)))["company_id"].to_list()
    if not pool:
        return []
    pre = _window_sums(panel, pool + [treated.company_id], treated.month - months, treated.month - 1, metric)
    pre = pre.filter(pl.col("exposure") > 0).with_columns((pl.col("events") / pl.col("exposure")).alias("rate"))
    mine = pre.filter(pl.col("company_id") == treated.company_id)
    if mine.height == 0:
        return []
    target = mine["rate"][0]
    return (pre.filter(pl.col("company_id") != treated.company_id)
            .with_columns((pl.col("rate") - target).abs().alias("d")).sort("d", "company_id").head(k)["company_id"].to_list())


def _rates(panel, companies, first, last, metric):
    sums = _window_sums(panel, companies, first, last, metric)
    return {r["company_id"]: (r["events"], r["exposure"]) for r in sums.iter_rows(named=True)}


def did(panel: pl.DataFrame, companies: pl.DataFrame, treated: list[Treated], never_listed: set[int], *,
        metric: str = "violations", months: int = 6, k: int = 5, last_month: int | None = None,
        bootstrap: int = 1000, seed: int = 0) -> dict:
    """panel: company_id, month (index), vehicle_months, accidents, violations.
    companies: company_id, business_type, size_band."""
    per_listing = []
    for t in treated:
        after_last = t.month + months - 1 if last_month is None else min(t.month + months - 1, last_month)
        if after_last < t.month:
            continue
        controls = choose_controls(panel, companies, t, never_listed, metric, months, k)
        before = _rates(panel, [t.company_id, *controls], t.month - months, t.month - 1, metric)
        after = _rates(panel, [t.company_id, *controls], t.month, after_last, metric)
        if t.company_id not in before or t.company_id not in after:
            continue
        usable = [c for c in controls if c in before and c in after and before[c][1] > 0 and after[c][1] > 0]
        tb, ta = before[t.company_id], after[t.company_id]
        if tb[1] <= 0 or ta[1] <= 0 or not usable:
            continue
        raw = ta[0] / ta[1] - tb[0] / tb[1]
        control_changes = [after[c][0] / after[c][1] - before[c][0] / before[c][1] for c in usable]
        estimate = raw - float(np.mean(control_changes))
        # Poisson: var(events / exposure) = events / exposure^2 (at least one event's worth)
        var = sum(max(e, 1.0) / x**2 for e, x in (tb, ta))
        var += sum(max(before[c][0], 1.0) / before[c][1] ** 2 + max(after[c][0], 1.0) / after[c][1] ** 2 for c in usable) / len(usable) ** 2
        half = 1.96 * var**0.5
        per_listing.append({
            "listing_id": t.listing_id, "company_id": t.company_id, "controls": usable,
            "rate_before": tb[0] / tb[1], "rate_after": ta[0] / ta[1], "raw_change": raw,
            "control_change": float(np.mean(control_changes)), "did": estimate, "ci95": [estimate - half, estimate + half],
            # relative to what the company would have had without listing (its counterfactual)
            "counterfactual_after": ta[0] / ta[1] - estimate,
            "relative_did": estimate / (ta[0] / ta[1] - estimate) if ta[0] / ta[1] - estimate > 0 else None,
            "relative_raw": raw / (tb[0] / tb[1]) if tb[0] else None,
        })
    overall = None
    if per_listing:
        est = np.array([p["did"] for p in per_listing])
        raw = np.array([p["raw_change"] for p in per_listing])
        base = np.array([p["rate_before"] for p in per_listing])
        counter = np.array([p["counterfactual_after"] for p in per_listing])
        rng = np.random.default_rng(seed)
        draws = rng.integers(0, len(est), size=(bootstrap, len(est)))
        boot = est[draws].mean(axis=1)
        boot_rel = est[draws].sum(axis=1) / counter[draws].sum(axis=1)
        overall = {"listings": len(est), "did": float(est.mean()), "ci95": [float(np.percentile(boot, 2.5)), float(np.percentile(boot, 97.5))],
                   "raw_change": float(raw.mean()), "rate_before": float(base.mean()),
                   "relative_did": float(est.sum() / counter.sum()), "relative_raw": float(raw.sum() / base.sum()),
                   "relative_ci95": [float(np.percentile(boot_rel, 2.5)), float(np.percentile(boot_rel, 97.5))]}
    return {"metric": metric, "months": months, "per_listing": per_listing, "overall": overall}
