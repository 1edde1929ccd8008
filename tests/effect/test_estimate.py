"""The effect estimator piece by piece: windows, matching with a caliper, the listing month,
the stacked estimate (OLS and Poisson), inference by number of listings, the wild bootstrap
against wildboottest, and the verdict when the data cannot tell."""
import numpy as np
import polars as pl
import pytest

from listing.simulation.panels import PanelPlan, simulate_panel
from rules.effect import Design, Treated, match, measure, stack, windows
from rules.wild_bootstrap import wild_pvalues


def flat_panel(rates: dict[int, float], months: int = 24, fleet: float = 10.0, metric: str = "violations"):
    """Companies with a constant expected count (no noise): rate x fleet events every month."""
    rows = [{"company_id": c, "month": m, "vehicle_months": fleet, metric: int(round(r * fleet))}
            for c, r in rates.items() for m in range(months)]
    return pl.DataFrame(rows)


def test_a_company_listed_twice_enters_once_per_listing_with_windows_that_do_not_overlap():
    w = windows([Treated(1, 7, 10), Treated(2, 7, 16), Treated(3, 8, 10)], months=6, last_month=30)
    assert w[3] == (4, 16)  # alone: -6..+6
    assert w[1][1] < w[2][0]  # the first ends before the second starts
    assert w[1] == (4, 13) and w[2] == (14, 22)


def test_matching_keeps_controls_inside_the_caliper_and_says_who_has_none():
    # treated 0 (rate 1.0) has close companies 1-3; treated 9 (rate 5.0) has nobody near
    rates = {0: 1.0, 1: 1.0, 2: 1.1, 3: 0.9, 4: 2.0, 5: 0.2, 9: 5.0, 10: 0.3}
    panel = flat_panel(rates)
    companies = pl.DataFrame({"company_id": list(rates), "size_band": "5-20"})
    treated = [Treated(100, 0, 12), Treated(101, 9, 12)]
    pairs, excluded = match(panel, companies, treated, {1, 2, 3, 4, 5, 10}, "violations", Design(caliper=0.1, controls=5), 23)
    chosen = pairs.filter(pl.col("role") == "control")
    assert set(chosen["company_id"]) == {1, 2, 3} and (chosen["distance"] <= 0.1).all()
    assert excluded == [{"listing_id": 101, "company_id": 9, "reason": "no_control_within_caliper"}]
    # a company in another size band is never a control, however close
    companies = companies.with_columns(pl.when(pl.col("company_id") == 1).then(pl.lit("<5")).otherwise(pl.col("size_band")).alias("size_band"))
    pairs, _ = match(panel, companies, treated[:1], {1, 2, 3}, "violations", Design(caliper=0.1), 23)
    assert 1 not in pairs["company_id"].to_list()


def test_the_listing_month_is_left_out_or_weighted_by_its_days():
    panel = flat_panel({0: 1.0, 1: 1.0})
    companies = pl.DataFrame({"company_id": [0, 1], "size_band": "5-20"})
    treated = [Treated(1, 0, 12, share_listed=0.4)]
    for mode, expected in (("drop", None), ("weight", 0.4)):
        d = Design(listing_month=mode, caliper=1.0)
        pairs, _ = match(panel, companies, treated, {1}, "violations", d, 23)
        st = stack(panel, pairs, treated, "violations", d)
        at_zero = st.filter((pl.col("rel") == 0) & (pl.col("treated") == 1))["treat"].to_list()
        assert at_zero == ([] if expected is None else [expected])
        assert sorted(set(st["rel"])) == [r for r in range(-6, 7) if mode == "weight" or r != 0]


@pytest.fixture(scope="module")
def twenty():
    """Twenty listings in a 500-company panel, a planted -30%."""
    return simulate_panel(2, PanelPlan(effect=-0.30, listings=20))  # one draw; coverage over many is test_calibration


def test_the_estimate_covers_the_planted_effect_and_the_raw_drop_overstates_it(twenty):
    panel, companies, treated, never = twenty
    r = measure(panel, companies, treated, never, metric="violations", last_month=29)
    assert r["inference"] == "crv1" and r["listings"] >= 15
    for model in ("ols", "poisson"):
        lo, hi = r[model]["relative_ci95"]
        assert lo <= -0.30 <= hi and hi - lo < 0.8, (model, r[model])
    assert r["raw"]["relative"] < r["poisson"]["relative"] - 0.05  # regression to the mean on top
    assert all(abs(b["std_diff"]) < 0.5 for b in r["balance"])
    months = [e["month"] for e in r["event_study"]]
    assert months == [m for m in range(-6, 7) if m != 0]
    before = [e for e in r["event_study"] if e["month"] < 0]
    assert all(e["ci95"] is not None for e in r["event_study"] if e["month"] != -1)
    # matched on the pre-period: treated and controls look alike before listing
    assert abs(np.mean([e["treated_rate"] - e["control_rate"] for e in before])) < 0.05


class _Fit:
    """pyfixest's accessor as it behaves on a near-singular fit: the SE is the square root of the
    variance's diagonal, computed when asked, NaN where that diagonal is negative."""

    def __init__(self, variances: dict[str, float]):
        self.variances = variances

    def se(self):
        import pandas as pd

        return pd.Series(np.sqrt(np.array(list(self.variances.values()))), index=list(self.variances))


def test_a_variance_that_is_not_a_number_gives_no_standard_error_and_no_warning():
    import warnings

    from rules import effect

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # pyfixest's "invalid value encountered in sqrt" would fail here
        assert effect._se(_Fit({"treat": -0.01, "ev_p1": 0.04}), "treat") is None
        assert effect._se(_Fit({"treat": -0.01, "ev_p1": 0.04}), "ev_p1") == pytest.approx(0.2)
    assert effect._t_interval(0.1, None, 20) is None


def test_without_a_standard_error_the_estimate_has_no_interval_never_a_nan(twenty, monkeypatch):
    """Where the fit leaves no SE (the main term, or one event month), that interval is None and
    the verdict says there is none; the other months keep theirs."""
    import json

    from rules import effect

    real = effect._se
    monkeypatch.setattr(effect, "_se", lambda fit, name: None if name in ("treat", "ev_p2") else real(fit, name))
    panel, companies, treated, never = twenty
    r = measure(panel, companies, treated, never, metric="violations", last_month=29)
    assert r["inference"] == "crv1"
    assert r["ols"]["ci95"] is None and r["ols"]["relative_ci95"] is None and r["ols"]["se_crv1"] is None
    assert r["poisson"]["relative_ci95"] is None and r["verdict"] == "no_interval"
    months = {e["month"]: e["ci95"] for e in r["event_study"]}
    assert months[2] is None and months[1] is not None and months[-2] is not None
    assert "NaN" not in json.dumps(r, default=str)


def test_too_few_listings_give_an_estimate_without_an_interval_and_say_why():
    panel, companies, treated, never = simulate_panel(3, PanelPlan(listings=3))
    r = measure(panel, companies, treated, never, metric="violations", last_month=29)
    assert r["listings"] <= 3 and r["inference"] == "none" and r["why"] == "too_few_listings"
    assert r["ols"]["relative"] is not None and r["ols"]["relative_ci95"] is None
    assert r["poisson"]["relative_ci95"] is None and r["verdict"] in ("no_interval", "cannot_tell")
    assert all(e["ci95"] is None for e in r["event_study"])


def test_between_five_and_ten_listings_the_interval_is_a_wild_cluster_bootstrap():
    panel, companies, treated, never = simulate_panel(1, PanelPlan(listings=7, effect=-0.3))
    r = measure(panel, companies, treated, never, metric="violations", last_month=29)
    assert 5 <= r["listings"] < 10 and r["inference"] == "wild_bootstrap"
    lo, hi = r["ols"]["relative_ci95"]
    assert lo < r["ols"]["relative"] < hi


def test_the_wild_bootstrap_p_value_agrees_with_wildboottest():
    from wildboottest.wildboottest import WildboottestCL

    rng = np.random.default_rng(5)
    G = 12
    cluster = np.repeat(np.arange(G), 20)
    x = rng.normal(size=len(cluster)) + (cluster < 4)
    y = 0.15 * x + rng.normal(size=G)[cluster] + rng.normal(size=len(cluster))
    x, y = x - x.mean(), y - y.mean()
    boot = WildboottestCL(X=x[:, None], Y=y, cluster=cluster, R=np.array([1.0]), B=9999, seed=1, parallel=False)
    boot.get_scores(bootstrap_type="11", impose_null=True)
    boot.get_weights(weights_type="webb")
    boot.get_numer()
    boot.get_denom()
    boot.get_tboot()
    boot.get_vcov()
    boot.get_tstat()
    boot.get_pvalue(pval_type="two-tailed")
    ours = wild_pvalues(x, y, cluster, np.array([0.0]), 9999, 2)[0]
    assert abs(ours - float(boot.pvalue)) < 0.02, (ours, boot.pvalue)
    assert 0.0 < ours < 1.0


def test_rare_accidents_say_the_data_cannot_tell():
    panel, companies, treated, never = simulate_panel(4, PanelPlan(listings=12, metric="accidents", rate=0.003))
    r = measure(panel, companies, treated, never, metric="accidents", last_month=29)
    assert r["headline"] == "poisson"
    assert r["verdict"] == "cannot_tell"
