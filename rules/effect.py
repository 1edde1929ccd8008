"""Measuring the effect of listing honestly (DESIGN section 8).

Companies are listed after a bad period and would improve anyway (regression to the mean), so a
raw before/after drop overstates the effect. Each listing is compared with comparable companies
that were never listed, matched on the same pre-period, in event time:

1. **Matching** (`match`): same business type and size band, never listed, every month of the
   window observed, nearest in the pre-period rate and no further than a caliper (in standard
   deviations of the pool's pre-period rates). A listing without a control inside the caliper is
   left out and said so. `balance` compares treated and controls before listing.
2. **Stacking** (`stack`): each listing with its controls is one stack, months -m..+m around
   the listing month. The listing month is left out (`listing_month="drop"`) or kept with the
   treatment weighted by the share of its days under listing (`"weight"`). A company listed
   twice enters once per listing with windows that do not overlap.
3. **Estimation** (`estimate`, pyfixest): OLS on the rate weighted by vehicle-months, and Poisson
   on the count with log vehicle-months as offset, both with stack-by-company and stack-by-month
   fixed effects and standard errors clustered by company (a control shared by two listings is
   one cluster). Listing varies over the listed companies only, so intervals use t with
   listings - 1 degrees of freedom. The headline is the Poisson rate ratio. Under `few_listings`
   listings the OLS interval is a wild cluster bootstrap (restricted, Webb weights, inverted);
   under `min_listings` there is an estimate and no interval, with the reason. `event_study`
   gives one coefficient per event month with its interval. docs/effect.md has the calibration.

Pure: frames in, numbers out. pyfixest is imported inside the functions that use it (it takes
seconds to import).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import polars as pl


@dataclass(frozen=True)
class Treated:
    listing_id: int
    company_id: int
    month: int  # the listing month as a month index (year * 12 + month - 1)
    share_listed: float = 1.0  # share of the listing month's days under listing (for "weight")


@dataclass(frozen=True)
class Design:
    months: int = 6  # event window: months -months..+months around the listing month
    controls: int = 5  # nearest controls per listing
    caliper: float = 0.25  # max |pre-rate difference| in SDs of the companies' pre-period rates
    match_months: int = 12  # pre-period matched on: the listing rules' look-back (window_months)
    exact: tuple[str, ...] = ("size_band",)  # company columns a control must share with the listed one
    listing_month: str = "drop"  # "drop" or "weight"
    min_listings: int = 5  # fewer: an estimate without an interval
    few_listings: int = 10  # fewer: the OLS interval is a wild cluster bootstrap
    reps: int = 999  # bootstrap draws
    seed: int = 0
    cannot_tell_events: int = 10  # fewer treated events in the window: "the data cannot tell"

    def as_dict(self) -> dict:
        return asdict(self)


def month_index(year: int, month: int) -> int:
    return year * 12 + month - 1


# --- matching ----------------------------------------------------------------------------------

def windows(treated: list[Treated], months: int, last_month: int) -> dict[int, tuple[int, int]]:
    """Each listing's window (first, last month) clipped so that a company listed twice has
    windows that do not overlap: the earlier listing's after-period ends before the later
    listing's before-period starts (the gap is split)."""
    out: dict[int, tuple[int, int]] = {}
    by_company: dict[int, list[Treated]] = {}
    for t in treated:
        by_company.setdefault(t.company_id, []).append(t)
    for items in by_company.values():
        items.sort(key=lambda t: t.month)
        for i, t in enumerate(items):
            first, last = t.month - months, min(t.month + months, last_month)
            if i > 0:
                prev = items[i - 1]
                first = max(first, (prev.month + t.month) // 2 + 1)
            if i + 1 < len(items):
                last = min(last, (t.month + items[i + 1].month) // 2)
            out[t.listing_id] = (first, last)
    return out


def _window_rates(panel: pl.DataFrame, first: int, last: int, metric: str) -> pl.DataFrame:
    """Per company: events, exposure, months observed with exposure and the rate in [first, last]."""
    return (panel.filter(pl.col("month").is_between(first, last) & (pl.col("vehicle_months") > 0))
            .group_by("company_id")
            .agg(pl.col(metric).sum().alias("events"), pl.col("vehicle_months").sum().alias("exposure"),
                 pl.len().alias("observed"))
            .with_columns((pl.col("events") / pl.col("exposure")).alias("rate")))


def match(panel: pl.DataFrame, companies: pl.DataFrame, treated: list[Treated], never_listed: set[int],
          metric: str, design: Design, last_month: int) -> tuple[pl.DataFrame, list[dict]]:
    """Controls for each listing. Returns (pairs: listing_id, company_id, role, distance,
    first, last (the window), match_first (start of the matched look-back); excluded:
    [{listing_id, company_id, reason}])."""
    wins = windows(treated, design.months, last_month)
    info = companies.select("company_id", *design.exact)
    rows, excluded = [], []
    for t in treated:
        first, last = wins[t.listing_id]
        # matched on the rules' look-back, unless an earlier listing of the company ends later
        pre_first = first if first > t.month - design.months else t.month - max(design.match_months, design.months)
        pre_last = t.month - 1
        post_first = t.month if design.listing_month == "weight" else t.month + 1
        if pre_last < pre_first or last < post_first:
            reason = "no_before_period" if pre_last < pre_first else "no_after_period"
            excluded.append({"listing_id": t.listing_id, "company_id": t.company_id, "reason": reason})
            continue
        need = (last - first + 1) - (0 if design.listing_month == "weight" else int(first <= t.month <= last))
        whole = (_window_rates(panel.filter(pl.col("month") != t.month) if design.listing_month == "drop" else panel,
                               first, last, metric).filter(pl.col("observed") == need))
        pre = _window_rates(panel, pre_first, pre_last, metric).select("company_id", "rate")
        me = info.filter(pl.col("company_id") == t.company_id)
        mine = pre.join(whole.select("company_id"), on="company_id").filter(pl.col("company_id") == t.company_id)
        if me.height == 0 or mine.height == 0:
            excluded.append({"listing_id": t.listing_id, "company_id": t.company_id, "reason": "incomplete_data"})
            continue
        same = [pl.col(c) == me[c][0] for c in design.exact]
        pool = (info.filter(pl.all_horizontal(pl.lit(True), *same) & pl.col("company_id").is_in(list(never_listed)))
                .join(whole.select("company_id"), on="company_id").join(pre, on="company_id"))
        # the caliper's scale: the spread of pre-period rates over every company observed
        scale = float(pre["rate"].std() or 0.0) or 1.0
        target = mine["rate"][0]
        near = (pool.with_columns(((pl.col("rate") - target).abs() / scale).alias("distance"))
                .filter(pl.col("distance") <= design.caliper).sort("distance", "company_id").head(design.controls))
        if near.height == 0:
            excluded.append({"listing_id": t.listing_id, "company_id": t.company_id, "reason": "no_control_within_caliper"})
            continue
        rows.append({"listing_id": t.listing_id, "company_id": t.company_id, "role": "treated", "distance": 0.0,
                     "first": first, "last": last, "match_first": pre_first})
        rows += [{"listing_id": t.listing_id, "company_id": c, "role": "control", "distance": d, "first": first, "last": last,
                  "match_first": pre_first}
                 for c, d in zip(near["company_id"].to_list(), near["distance"].to_list())]
    schema = {"listing_id": pl.Int64, "company_id": pl.Int64, "role": pl.Utf8, "distance": pl.Float64,
              "first": pl.Int64, "last": pl.Int64, "match_first": pl.Int64}
    return pl.DataFrame(rows, schema=schema, orient="row"), excluded


def stack(panel: pl.DataFrame, pairs: pl.DataFrame, treated: list[Treated], metric: str, design: Design) -> pl.DataFrame:
    """The stacked panel in event time: one row per (listing, company, month) with `rel` (months
    from the listing month), `treat` (treated x after; the listing month weighted or dropped),
    the count, the exposure and the rate."""
    month_of = pl.DataFrame({"listing_id": [t.listing_id for t in treated], "listing_month": [t.month for t in treated],
                             "share": [t.share_listed for t in treated]}, schema={"listing_id": pl.Int64, "listing_month": pl.Int64,
                                                                                    "share": pl.Float64})
    out = (pairs.join(month_of, on="listing_id").join(panel.select("company_id", "month", "vehicle_months", metric), on="company_id")
           .filter(pl.col("month").is_between(pl.col("first"), pl.col("last")) & (pl.col("vehicle_months") > 0))
           .with_columns((pl.col("month") - pl.col("listing_month")).alias("rel"),
                         (pl.col("role") == "treated").cast(pl.Int8).alias("treated")))
    if design.listing_month == "drop":
        out = out.filter(pl.col("rel") != 0)
    after = pl.when(pl.col("rel") > 0).then(1.0).when(pl.col("rel") == 0).then(pl.col("share")).otherwise(0.0)
    return (out.with_columns((pl.col("treated") * after).alias("treat"),
                             pl.col(metric).alias("events"),
                             (pl.col(metric) / pl.col("vehicle_months")).alias("rate"),
                             pl.col("vehicle_months").log().alias("log_exposure"))
            .select("listing_id", "company_id", "role", "treated", "month", "rel", "treat", "events", "vehicle_months",
                    "log_exposure", "rate")
            .sort("listing_id", "role", "company_id", "month"))


def balance(panel: pl.DataFrame, pairs: pl.DataFrame, treated: list[Treated], metric: str) -> list[dict]:
    """Treated vs controls before listing, means over companies and the standardised difference
    (|d| < 0.25 is usually called balanced): the rate over the look-back they were matched on,
    the rate in the window's months before listing, and the fleet (vehicle-months a month)."""
    month_of = {t.listing_id: t.month for t in treated}
    joined = (pairs.with_columns(pl.col("listing_id").replace_strict(month_of, return_dtype=pl.Int64).alias("lm"))
              .join(panel.select("company_id", "month", "vehicle_months", metric), on="company_id"))

    def per_company(since: str) -> pl.DataFrame:
        return (joined.filter(pl.col("month").is_between(pl.col(since), pl.col("lm") - 1))
                .group_by("listing_id", "company_id", "role")
                .agg(pl.col(metric).sum().alias("events"), pl.col("vehicle_months").sum().alias("exposure"),
                     pl.col("vehicle_months").mean().alias("fleet"))
                .with_columns((pl.col("events") / pl.col("exposure")).alias("rate")))

    lookback, before = per_company("match_first"), per_company("first")
    out = []
    for name, frame, column in (("rate_lookback", lookback, "rate"), ("rate_before", before, "rate"), ("fleet", before, "fleet")):
        t = frame.filter(pl.col("role") == "treated")[column].to_numpy()
        c = frame.filter(pl.col("role") == "control")[column].to_numpy()
        if len(t) == 0 or len(c) == 0:
            continue
        sd = math.sqrt((np.var(t, ddof=1 if len(t) > 1 else 0) + np.var(c, ddof=1 if len(c) > 1 else 0)) / 2)
        out.append({"variable": name, "treated": float(t.mean()), "controls": float(c.mean()),
                    "std_diff": float((t.mean() - c.mean()) / sd) if sd > 0 else 0.0,
                    "n_treated": int(len(t)), "n_controls": int(len(c))})
    return out


# --- estimation --------------------------------------------------------------------------------

def _frame(stacked: pl.DataFrame):
    """The pandas frame pyfixest reads, with the stack-by-company and stack-by-month codes."""
    df = stacked.with_columns(
        pl.concat_str([pl.col("listing_id"), pl.col("company_id")], separator=":").alias("unit"),
        pl.concat_str([pl.col("listing_id"), pl.col("rel")], separator=":").alias("stack_month")).to_pandas()
    return df


def _fit(df, model: str, rhs: str):
    import warnings

    import pyfixest as pf

    with warnings.catch_warnings():  # separation notices: companies without a single event
        warnings.simplefilter("ignore")
        return _fit_quiet(pf, df, model, rhs)


def _fit_quiet(pf, df, model: str, rhs: str):
    if model == "ols":
        return pf.feols(f"rate ~ {rhs} | unit + stack_month", df, vcov={"CRV1": "company_id"}, weights="vehicle_months")
    return pf.fepois(f"events ~ {rhs} | unit + stack_month", df, vcov={"CRV1": "company_id"}, offset="log_exposure")


def _wild_interval(fit, df, design: Design, level: float = 0.95) -> tuple[float, float] | None:
    """Interval of the OLS `treat` coefficient by inverting the wild cluster bootstrap test over
    b0. The fixed effects are partialled out first (pyfixest's demeaned, weighted design:
    Frisch-Waugh-Lovell), so the bootstrap runs on one regressor."""
    from rules.wild_bootstrap import wild_interval

    x = np.asarray(fit._X, dtype=float).reshape(len(df), -1)[:, list(fit._coefnames).index("treat")]
    y = np.asarray(fit._Y, dtype=float).ravel()
    return wild_interval(x, y, df["company_id"].to_numpy(), _se(fit, "treat"), design.reps, design.seed, level)


def _coef(fit):
    """The fit's coefficients. pyfixest computes the inference with them (see _se): its NaN
    warning is not the caller's business; the SE is judged by _se."""
    with np.errstate(invalid="ignore"):
        return fit.coef()


def _se(fit, name: str) -> float | None:
    """The company-clustered standard error of `name`, or None where the variance estimate is not
    a number: a near-singular fit (an event month with few listings) can leave a negative
    variance on the diagonal, whose square root pyfixest returns as NaN with a RuntimeWarning."""
    with np.errstate(invalid="ignore"):
        se = float(fit.se()[name])
    return se if math.isfinite(se) and se >= 0 else None


def _t_interval(beta: float, se: float | None, listings: int, level: float = 0.95) -> tuple[float, float] | None:
    """beta +- t(listings - 1) x the company-clustered SE; None without an SE (see _se). Listing
    varies across the listed companies only, so their number, not the number of clusters, sets
    the degrees of freedom (with the default G - 1 the interval covers ~88% in the calibration,
    see docs/effect.md)."""
    from scipy.stats import t

    if se is None:
        return None
    q = float(t.ppf(0.5 + level / 2, max(listings - 1, 1)))
    return beta - q * se, beta + q * se


def _counterfactual(stacked: pl.DataFrame, beta: float) -> float:
    """What the treated companies' after-period rate would have been without listing (OLS)."""
    after = stacked.filter((pl.col("treated") == 1) & (pl.col("treat") > 0))
    rate = float((after["events"].sum()) / after["vehicle_months"].sum()) if after.height else float("nan")
    return rate - beta


def _relative(beta: float, counterfactual: float) -> float | None:
    return beta / counterfactual if counterfactual > 0 else None


def estimate(stacked: pl.DataFrame, design: Design) -> dict:
    """OLS and Poisson estimates of listing's effect on the stacked panel, each with its
    interval and how it was obtained, plus the raw before/after of the treated companies."""
    n = stacked.filter(pl.col("treated") == 1)["listing_id"].n_unique()
    treated = stacked.filter(pl.col("treated") == 1)
    before = treated.filter(pl.col("rel") < 0)
    after = treated.filter(pl.col("treat") > 0)
    rate_before = float(before["events"].sum() / before["vehicle_months"].sum()) if before.height else None
    rate_after = float(after["events"].sum() / after["vehicle_months"].sum()) if after.height else None
    out = {"listings": int(n), "clusters": int(stacked["company_id"].n_unique()),
           "controls": int(stacked.filter(pl.col("treated") == 0).select("listing_id", "company_id").unique().height),
           "treated_events": int(treated["events"].sum()),
           "raw": {"rate_before": rate_before, "rate_after": rate_after,
                   "change": None if rate_before is None or rate_after is None else rate_after - rate_before,
                   "relative": (rate_after / rate_before - 1) if rate_before and rate_after is not None else None},
           "ols": None, "poisson": None, "inference": None, "why": None}
    if n == 0:
        out["why"] = "no_listing"
        return out
    df = _frame(stacked)
    inference = "none" if n < design.min_listings else ("wild_bootstrap" if n < design.few_listings else "crv1")
    out["inference"] = inference
    if inference == "none":
        out["why"] = "too_few_listings"
    ols = _fit(df, "ols", "treat")
    beta, se = float(_coef(ols)["treat"]), _se(ols, "treat")
    ci = None
    if inference == "crv1":
        ci = _t_interval(beta, se, n)
    elif inference == "wild_bootstrap":
        ci = _wild_interval(ols, df, design)
    cf = _counterfactual(stacked, beta)
    out["ols"] = {"effect": beta, "ci95": list(ci) if ci else None, "se_crv1": se,
                  "interval": inference if ci else None,
                  "counterfactual": cf, "relative": _relative(beta, cf),
                  "relative_ci95": [_relative(b, _counterfactual(stacked, b)) for b in ci] if ci else None}
    try:
        pois = _fit(df, "poisson", "treat")
        b, pse = float(_coef(pois)["treat"]), _se(pois, "treat")
        pci = None
        interval = _t_interval(b, pse, n) if inference != "none" else None
        if interval:
            pci = [math.expm1(interval[0]), math.expm1(interval[1])]
        out["poisson"] = {"log_rate_ratio": b, "se_crv1": pse, "relative": math.expm1(b),
                          "relative_ci95": pci, "interval": "crv1" if pci else None}
    except Exception as error:  # noqa: BLE001 - a Poisson fit that cannot converge is a finding, not a crash
        out["poisson"] = {"error": type(error).__name__}
    return out


def event_study(stacked: pl.DataFrame, design: Design) -> list[dict]:
    """Per event month (-months..+months, the reference -1 is 0): the OLS coefficient
    of treated x month with its interval (clustered by company, t with listings - 1 df) (none under `min_listings`), next to the treated
    and the controls' exposure-weighted rates (the pre-listing spike shows in both)."""
    rels = sorted(stacked["rel"].unique().to_list())
    levels = (stacked.group_by("rel", "treated").agg((pl.col("events").sum() / pl.col("vehicle_months").sum()).alias("rate")))
    level = {(r["rel"], r["treated"]): r["rate"] for r in levels.iter_rows(named=True)}
    n = stacked.filter(pl.col("treated") == 1)["listing_id"].n_unique()
    coefs: dict[int, tuple[float, float | None, float | None]] = {-1: (0.0, None, None)}
    names = {r: f"ev_{'m' if r < 0 else 'p'}{abs(r)}" for r in rels if r != -1}
    if n and names:
        dummies = stacked.with_columns([((pl.col("rel") == r) & (pl.col("treated") == 1)).cast(pl.Float64).alias(c)
                                        for r, c in names.items()])
        fit = _fit(_frame(dummies), "ols", " + ".join(names.values()))
        coef = _coef(fit)
        for r, c in names.items():
            if c in coef.index:
                b = float(coef[c])
                lo, hi = (_t_interval(b, _se(fit, c), n) if n >= design.min_listings else None) or (None, None)
                coefs[r] = (b, lo, hi)
    return [{"month": r, "effect": coefs.get(r, (None, None, None))[0], "ci95": list(coefs[r][1:]) if r in coefs and coefs[r][1] is not None else None,
             "treated_rate": level.get((r, 1)), "control_rate": level.get((r, 0))} for r in rels]


def verdict(result: dict, headline: str, design: Design) -> str:
    """One word for the reader: reduced / increased / no_clear_change / cannot_tell / no_interval."""
    if result.get("listings", 0) == 0:
        return "cannot_tell"
    if result["treated_events"] < design.cannot_tell_events:
        return "cannot_tell"
    h = result.get(headline) or {}
    ci = h.get("relative_ci95")
    if not ci or (ci[0] is None and ci[1] is None):
        return "no_interval"
    # an end is None when the counterfactual rate it implies is not positive: unbounded
    lo, hi = (-1.0 if ci[0] is None else ci[0]), (math.inf if ci[1] is None else ci[1])
    if hi < 0:
        return "reduced"
    if lo > 0:
        return "increased"
    # an interval from a halving to a doubling says nothing useful
    if lo < -0.5 and hi > 1.0:
        return "cannot_tell"
    return "no_clear_change"


HEADLINE = {"violations": "poisson", "accidents": "poisson"}  # a rate ratio: what "-60%" claims


def measure(panel: pl.DataFrame, companies: pl.DataFrame, treated: list[Treated], never_listed: set[int], *,
            metric: str, design: Design = Design(), last_month: int, events: bool = True) -> dict:
    """The whole estimate for one measure. panel: company_id, month (index), vehicle_months and
    the metric's count; companies: company_id, business_type, size_band. `last_month`: the last
    complete month of data."""
    pairs, excluded = match(panel, companies, treated, never_listed, metric, design, last_month)
    stacked = stack(panel, pairs, treated, metric, design)
    headline = HEADLINE.get(metric, "ols")
    result = estimate(stacked, design)
    result.update(metric=metric, headline=headline, design=design.as_dict(), excluded=excluded,
                  balance=balance(panel, pairs, treated, metric),
                  matches=pairs.to_dicts())
    result["verdict"] = verdict(result, headline, design)
    if events and result["listings"]:
        result["event_study"] = event_study(stacked, design)
    else:
        result["event_study"] = []
    return result
