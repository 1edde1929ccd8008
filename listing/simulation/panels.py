"""SIMULATED monthly panels whose truth is known, for calibrating the effect estimate.

Each company keeps its own risk (a gamma-distributed rate per vehicle-month) and has runs of good
and bad luck (an AR(1) shock on the log rate). Listings are chosen the way a city chooses them:
at a listing month, the companies whose last `lookback` months were worst (top `flag_share`) are
flagged, and a few of them are listed (capacity). From its listing month on, a listed company's
rate is multiplied by (1 + effect). So a listed company improves by regression to the mean even
with effect 0, and only the matched comparison can tell the two apart.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from rules.effect import Treated


@dataclass(frozen=True)
class PanelPlan:
    companies: int = 500
    months: int = 30
    listings: int = 20
    effect: float = -0.30
    metric: str = "violations"
    rate: float = 0.1  # mean events per vehicle-month
    shape: float = 4.0  # gamma shape of the companies' own risk
    luck_sd: float = 0.35  # sd of the monthly log shock
    luck_persistence: float = 0.6  # AR(1) coefficient of the log shock
    mean_fleet: float = 15.0
    lookback: int = 12  # the listing rules' window
    flag_share: float = 0.15
    first_listing: int = 14  # listings are staggered over months first_listing..first_listing+5


def simulate_panel(seed: int, plan: PanelPlan = PanelPlan()):
    """(panel, companies, treated, never_listed) in the shapes `rules.effect.measure` takes."""
    rng = np.random.default_rng(seed)
    n, m = plan.companies, plan.months
    fleet = np.clip(np.round(rng.lognormal(np.log(plan.mean_fleet) - 0.3, 0.8, size=n)), 1, 300)
    risk = rng.gamma(plan.shape, plan.rate / plan.shape, size=n)
    shock = np.zeros((n, m))
    shock[:, 0] = rng.normal(0, plan.luck_sd, size=n)
    innovation = plan.luck_sd * np.sqrt(1 - plan.luck_persistence**2)
    for t in range(1, m):
        shock[:, t] = plan.luck_persistence * shock[:, t - 1] + rng.normal(0, innovation, size=n)
    mean = risk[:, None] * fleet[:, None] * np.exp(shock - plan.luck_sd**2 / 2)
    counts = rng.poisson(mean)
    effect = np.ones((n, m))
    treated: list[Treated] = []
    listed: set[int] = set()
    months = plan.first_listing + np.arange(plan.listings) % 6
    for i, month in enumerate(sorted(months)):
        # the city sees last months' counts (already drawn) and lists among the worst
        look = counts[:, month - plan.lookback:month].sum(axis=1) / (fleet * plan.lookback)
        flagged = np.flatnonzero(look >= np.quantile(look, 1 - plan.flag_share))
        pool = np.setdiff1d(flagged, np.fromiter(listed, int, len(listed)))
        if len(pool) == 0:
            continue
        c = int(rng.choice(pool))
        listed.add(c)
        effect[c, month:] = 1 + plan.effect
        treated.append(Treated(i, c, int(month)))
        # the listed company's months from listing on are drawn again with the effect
        counts[c, month:] = rng.poisson(mean[c, month:] * effect[c, month:])
    panel = pl.DataFrame({"company_id": np.repeat(np.arange(n), m), "month": np.tile(np.arange(m), n),
                          "vehicle_months": np.repeat(fleet.astype(float), m), plan.metric: counts.ravel()})
    band = np.where(fleet < 5, "<5", np.where(fleet < 20, "5-20", np.where(fleet < 100, "20-100", "≥100")))
    companies = pl.DataFrame({"company_id": np.arange(n), "business_type": "freight", "size_band": band})
    return panel, companies, treated, set(range(n)) - listed


def calibrate(effect: float, listings: int, reps: int, first_seed: int = 1000) -> dict:
    """Coverage of the 95% intervals and mean bias over `reps` simulated panels with a known
    effect: the Poisson headline, the OLS estimate, and the raw before/after for contrast."""
    from rules.effect import measure

    plan = PanelPlan(effect=effect, listings=listings)
    rows = {"poisson": [], "ols": [], "raw": []}
    used = []
    for seed in range(first_seed, first_seed + reps):
        panel, companies, treated, never = simulate_panel(seed, plan)
        r = measure(panel, companies, treated, never, metric=plan.metric, last_month=plan.months - 1, events=False)
        used.append(r["listings"])
        rows["raw"].append((r["raw"]["relative"], None))
        for model in ("poisson", "ols"):
            h = r[model] or {}
            rows[model].append((h.get("relative"), h.get("relative_ci95")))
    out = {"effect": effect, "listings_planned": listings, "listings_used": float(np.mean(used)), "reps": reps}
    for model, values in rows.items():
        est = np.array([v for v, _ in values if v is not None], dtype=float)
        # an OLS end is None when the counterfactual it implies is not positive: unbounded
        cis = [(-1.0 if ci[0] is None else ci[0], np.inf if ci[1] is None else ci[1]) for _, ci in values if ci]
        out[model] = {"bias": float(est.mean() - effect),
                      "coverage": float(np.mean([lo <= effect <= hi for lo, hi in cis])) if cis else None,
                      "median_width": float(np.median([hi - lo for lo, hi in cis])) if cis else None,  # inf if most unbounded
                      "with_interval": len(cis)}
    return out
