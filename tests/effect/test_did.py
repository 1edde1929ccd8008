"""The effect estimate on synthetic data with a known planted effect: companies are listed
after a bad (noisy) pre-period, so they would improve anyway (regression to the mean). The
matched DiD recovers the planted effect within its interval; the raw drop overstates it."""
import numpy as np
import polars as pl

from rules.effect import Treated, did

PLANTED = -0.30  # listing cuts the violation rate by 30%


def world(seed=1, n=3000, vehicles=20):
    rng = np.random.default_rng(seed)
    latent = rng.gamma(4.0, 0.25, size=n)  # each company's true violations per vehicle-month
    months = np.arange(24)
    L = 12  # listing month
    # pre-period rates are noisy; listing picks companies whose pre-period looked bad,
    # but capacity lets only half of them be listed (the rest are natural matched controls)
    rate = np.repeat(latent[:, None], 24, axis=1)
    noise = rng.lognormal(0, 0.5, size=(n, 1))  # a bad spell lasting the pre-period
    rate[:, 6:L] *= noise
    pre = rate[:, 6:L].mean(axis=1)
    bad = np.flatnonzero(pre > np.quantile(pre, 0.9))
    listed = rng.choice(bad, size=len(bad) // 2, replace=False)
    rate[listed, L:] *= 1 + PLANTED
    events = rng.poisson(rate * vehicles)
    panel = pl.DataFrame({"company_id": np.repeat(np.arange(n), 24), "month": np.tile(months, n),
                          "vehicle_months": float(vehicles), "violations": events.ravel(), "accidents": 0})
    companies = pl.DataFrame({"company_id": np.arange(n), "business_type": "freight", "size_band": "5-20"})
    treated = [Treated(i, int(c), L) for i, c in enumerate(listed)]
    never = set(range(n)) - set(listed.tolist())
    return panel, companies, treated, never, latent, listed


def test_did_recovers_the_planted_effect_and_the_raw_drop_overstates_it():
    panel, companies, treated, never, latent, listed = world()
    out = did(panel, companies, treated, never, metric="violations", months=6, k=5, bootstrap=500)
    o = out["overall"]
    lo, hi = o["relative_ci95"]
    assert lo <= PLANTED <= hi, o
    assert o["relative_raw"] < PLANTED - 0.15  # before/after alone claims far more
    assert lo < o["relative_did"] < hi and hi - lo < 0.2


def test_no_effect_gives_an_interval_around_zero():
    """Companies that had the same bad spell but were never listed: no effect, yet a big raw drop."""
    panel, companies, treated, never, *_ = world(seed=2)
    pre = panel.filter(pl.col("month").is_between(6, 11)).group_by("company_id").agg(pl.col("violations").sum())
    bad_unlisted = pre.filter(pl.col("company_id").is_in(list(never))).sort("violations", descending=True)
    picks = np.random.default_rng(3).choice(bad_unlisted["company_id"].head(300).to_list(), size=100, replace=False).tolist()
    out = did(panel, companies, [Treated(i, c, 12) for i, c in enumerate(picks)], never - set(picks),
              metric="violations", months=6, k=5, bootstrap=500)
    lo, hi = out["overall"]["relative_ci95"]
    assert lo <= 0.0 <= hi, out["overall"]
    assert out["overall"]["relative_raw"] < -0.1  # a naive before/after would still report a big drop
