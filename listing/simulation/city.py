"""A SIMULATED city for the demo, tests and benchmarks: companies, vehicles, drivers,
assignments, a year of accidents and violations, with a few clearly bad companies planted.

Deterministic from a seed, vectorised (numpy). Returns frames shaped like officers' import
files (English headers), so the demo goes through the real import path.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl

from listing.domain.identifiers import RIC_CHECK, RIC_WEIGHTS, USCC_ALPHABET, USCC_WEIGHTS

# Hangzhou's districts and counties with their administrative division codes.
JURISDICTIONS = {
    "上城区": "330102", "拱墅区": "330105", "西湖区": "330106", "滨江区": "330108", "萧山区": "330109",
    "余杭区": "330110", "富阳区": "330111", "临安区": "330112", "临平区": "330113", "钱塘区": "330114",
    "桐庐县": "330122", "淳安县": "330127", "建德市": "330182",
}
BUSINESS_MIX = {"freight": 0.45, "passenger": 0.15, "dangerous_goods": 0.10, "taxi": 0.12, "bus": 0.06, "other": 0.12}
CLASS_OF = {"freight": "truck", "passenger": "coach", "dangerous_goods": "tanker", "taxi": "taxi", "bus": "bus", "other": "other"}
NAME_PART = {"freight": "物流", "passenger": "客运", "dangerous_goods": "危险品运输", "taxi": "出租汽车", "bus": "公交", "other": "运输"}
_WORDS = np.array(list("华通达顺安运恒信远鑫盛邦泰宏丰路捷兴新龙凯瑞金宇航祥和利源"))
_SURNAMES = np.array(list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾"))
_GIVEN = np.array(list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红"))
_PLATE_CHARS = np.array(list("0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"))
_CODES = np.array(["1344", "1352", "1636", "1039", "1301", "6048", "1625", "1019", "1211", "1723"])
_POINTS = np.array([6, 9, 3, 1, 3, 1, 6, 0, 3, 3])
_RESP = np.array(["full", "main", "equal", "secondary", "none"])


# The SIMULATED effect of listing the demo plants (violations and accidents), and the blocks of
# luck: the year of history and the months the demo simulates after it.
PLANTED_EFFECT = -0.40
BLOCK_DAYS = 365.25 / 12
HISTORY_BLOCKS, FUTURE_BLOCKS = 12, 12


@dataclass(frozen=True)
class CityPlan:
    companies: int = 300
    mean_fleet: float = 15.0
    violations_per_vehicle: float = 1.6  # a year, typical company
    accidents_per_vehicle: float = 0.03
    bad_companies: int = 6  # planted: clearly over the listing thresholds
    bad_factor: float = 3.0  # how much riskier the planted bad companies are
    risk_shape: float = 2.0  # gamma shape of the companies' own risk (mean 1)
    luck_sd: float = 0.35  # sd of a company's monthly log shock (good and bad spells)
    luck_persistence: float = 0.6  # month-to-month AR(1) coefficient of that shock


def _uscc(rng: np.random.Generator, region: np.ndarray) -> list[str]:
    """Valid 18-character credit codes: 91 (enterprise) + region + org code + check character."""
    n = len(region)
    body = rng.integers(0, 31, size=(n, 9))
    alphabet = np.array(list(USCC_ALPHABET))
    firsts = [f"91{r}" + "".join(alphabet[b]) for r, b in zip(region, body)]
    idx = np.array([[USCC_ALPHABET.index(c) for c in f] for f in firsts])
    check = (31 - (idx * np.array(USCC_WEIGHTS)).sum(axis=1) % 31) % 31
    return [f + alphabet[c] for f, c in zip(firsts, check)]


def _ric(rng: np.random.Generator, region: np.ndarray) -> list[str]:
    """Valid resident ID numbers: region + birth date + sequence + check digit."""
    n = len(region)
    born = np.datetime64("1965-01-01") + rng.integers(0, 35 * 365, size=n).astype("timedelta64[D]")
    seq = rng.integers(0, 1000, size=n)
    firsts = [f"{r}{str(b).replace('-', '')}{s:03d}" for r, b, s in zip(region, born, seq)]
    digits = np.array([[int(c) for c in f] for f in firsts])
    check = (digits * np.array(RIC_WEIGHTS)).sum(axis=1) % 11
    return [f + RIC_CHECK[c] for f, c in zip(firsts, check)]


def _unique_plates(rng: np.random.Generator, n: int, classes: np.ndarray) -> list[str]:
    plates: set[str] = set()
    out = []
    for cls in classes:
        while True:
            chars = _PLATE_CHARS[rng.integers(0, 34, size=5)]
            chars = chars[[c not in "IO" for c in chars]]
            if len(chars) < 5:
                continue
            body = "".join(chars)
            plate = f"浙A{body}" if cls != "taxi" else f"浙AD{body[:1]}{rng.integers(0, 10000):04d}"
            if plate not in plates:
                plates.add(plate)
                out.append(plate)
                break
    return out


def _times(rng: np.random.Generator, start: dt.date, days: int, n: int) -> list[str]:
    day = rng.integers(0, days, size=n)
    secs = rng.integers(6 * 3600, 23 * 3600, size=n)
    base = np.datetime64(start) + day.astype("timedelta64[D]")
    stamps = base.astype("datetime64[s]") + secs.astype("timedelta64[s]")
    return [str(s).replace("T", " ") for s in stamps]


def synthetic_city(seed: int, as_of: dt.date, plan: CityPlan = CityPlan()) -> dict[str, pl.DataFrame]:
    """Import-shaped frames for one SIMULATED city, a year of history ending on `as_of`."""
    rng = np.random.default_rng(seed)
    n = plan.companies
    year_start = as_of - dt.timedelta(days=365)
    names = list(JURISDICTIONS)
    jur = np.array(names)[rng.integers(0, len(names), size=n)]
    region = np.array([JURISDICTIONS[j] for j in jur])
    btype = rng.choice(list(BUSINESS_MIX), size=n, p=list(BUSINESS_MIX.values()))
    fleet = np.clip(rng.lognormal(np.log(plan.mean_fleet) - 0.5, 1.0, size=n).round().astype(int), 1, 400)
    uscc = _uscc(rng, region)
    cname = [f"杭州{''.join(_WORDS[rng.integers(0, len(_WORDS), 2)])}{NAME_PART[b]}有限公司{i:03d}" for i, b in enumerate(btype)]
    companies = pl.DataFrame({"uscc": uscc, "name": cname, "business_type": btype, "jurisdiction": jur})

    owner = np.repeat(np.arange(n), fleet)
    nv = len(owner)
    vclass = np.array([CLASS_OF[b] for b in btype[owner]])
    plates = _unique_plates(rng, nv, vclass)
    # Most vehicles are there all year; some join or leave during it (the denominator is exposure).
    joined = np.where(rng.random(nv) < 0.15, rng.integers(1, 330, size=nv), -rng.integers(30, 2000, size=nv))
    left = np.where(rng.random(nv) < 0.05, rng.integers(200, 365, size=nv), -1)
    left = np.where((left >= 0) & (left <= joined + 30), -1, left)  # leave only after joining
    active_from = [str(year_start + dt.timedelta(days=int(d))) for d in joined]
    active_to = [str(year_start + dt.timedelta(days=int(d))) if d >= 0 else None for d in left]
    vehicles = pl.DataFrame({"plate": plates, "company_uscc": [uscc[o] for o in owner], "vehicle_class": vclass,
                             "active_from": active_from, "active_to": active_to})

    # One regular driver per vehicle, plus relief drivers for a fifth of the fleet.
    relief = rng.random(nv) < 0.2
    driver_vehicle = np.concatenate([np.arange(nv), np.flatnonzero(relief)])
    nd = len(driver_vehicle)
    ids = _ric(rng, region[owner[driver_vehicle]])
    while len(set(ids)) < nd:  # rare collisions: draw those again
        seen, fixed = set(), []
        for i, x in enumerate(ids):
            fixed.append(x if x not in seen else _ric(rng, region[owner[driver_vehicle[i:i + 1]]])[0])
            seen.add(fixed[-1])
        ids = fixed
    dname = ["".join(p) for p in zip(_SURNAMES[rng.integers(0, len(_SURNAMES), nd)], _GIVEN[rng.integers(0, len(_GIVEN), nd)],
                                        np.where(rng.random(nd) < 0.6, _GIVEN[rng.integers(0, len(_GIVEN), nd)], ""))]
    phones = [f"1{rng.choice([3, 5, 7, 8, 9])}{rng.integers(0, 10**9):09d}" for _ in range(nd)]
    drivers = pl.DataFrame({"id_number": ids, "name": dname, "phone": phones,
                            "company_uscc": [uscc[owner[v]] for v in driver_vehicle]})
    start = [f"{active_from[v]} 06:00:00" for v in driver_vehicle]
    assignments = pl.DataFrame({"driver_id_number": ids, "plate": [plates[v] for v in driver_vehicle],
                                "start": start, "end": None}, schema_overrides={"end": pl.Utf8})

    # Company risk: each company keeps its own (gamma, wide: a city has good and poor operators)
    # and has runs of good and bad luck (a monthly AR(1) shock, the same for its whole fleet), so
    # the listing rules pick some companies for a bad spell that would pass anyway (regression to
    # the mean as it really happens). The planted bad companies are structurally worse.
    risk = rng.gamma(plan.risk_shape, 1.0 / plan.risk_shape, size=n)
    bad = rng.choice(np.flatnonzero(fleet >= 3), size=min(plan.bad_companies, int((fleet >= 3).sum())), replace=False)
    risk[bad] *= plan.bad_factor
    luck = _luck(rng, n, HISTORY_BLOCKS + FUTURE_BLOCKS, plan)
    truth = CityTruth(year_start=year_start, uscc=list(uscc), risk=risk, luck=luck, plan=plan)

    def events(rate: float) -> tuple[np.ndarray, list[str]]:
        return _events(rng, truth, rate, owner, joined, left)

    v_idx, v_time = events(plan.violations_per_vehicle)
    code_idx = rng.integers(0, len(_CODES), size=len(v_idx))
    driver_of_vehicle = {int(v): ids[i] for i, v in enumerate(driver_vehicle) if i < nv}
    violations = pl.DataFrame({
        "occurred_at": v_time, "plate": [plates[v] for v in v_idx],
        "driver_id_number": [driver_of_vehicle[int(v)] if r < 0.8 else None for v, r in zip(v_idx, rng.random(len(v_idx)))],
        "code": _CODES[code_idx], "points": _POINTS[code_idx].astype(str),
        "source": rng.choice(["camera", "onsite"], size=len(v_idx), p=[0.8, 0.2]), "record_no": None,
    }, schema_overrides={"record_no": pl.Utf8, "driver_id_number": pl.Utf8}).unique(["plate", "occurred_at", "code"], keep="first", maintain_order=True)

    a_idx, a_time = events(plan.accidents_per_vehicle)
    fatal_company = bad[0]  # one planted company gets a fatal at-fault accident
    fatal_vehicle = np.flatnonzero(owner == fatal_company)[0]
    a_idx = np.concatenate([a_idx, [fatal_vehicle]])
    a_time = a_time + _event_times(rng, np.array([fatal_vehicle]), joined, left, year_start)
    fatalities = (rng.random(len(a_idx)) < 0.03).astype(int) * rng.integers(1, 3, size=len(a_idx))
    fatalities[-1] = 1
    resp = rng.choice(_RESP, size=len(a_idx), p=[0.25, 0.25, 0.2, 0.15, 0.15])
    resp[-1] = "main"
    accidents = pl.DataFrame({
        "occurred_at": a_time, "plate": [plates[v] for v in a_idx],
        "driver_id_number": [driver_of_vehicle[int(v)] for v in a_idx],
        "fatalities": fatalities.astype(str), "injuries": rng.poisson(0.6, size=len(a_idx)).astype(str),
        "responsibility": resp,
        "dangerous_goods_release": np.where((btype[owner[a_idx]] == "dangerous_goods") & (rng.random(len(a_idx)) < 0.2), "yes", "no"),
        "record_no": [f"330100{seed % 1000:03d}{i:07d}" for i in range(len(a_idx))],
    }).unique(["plate", "occurred_at"], keep="first", maintain_order=True)
    return {"companies": companies, "vehicles": vehicles, "drivers": drivers, "assignments": assignments,
            "accidents": accidents, "violations": violations,
            "planted_bad": companies[bad.tolist()].select("uscc", "name"), "truth": truth}


def _event_times(rng, idx, joined, left, year_start: dt.date) -> list[str]:
    """Event times inside each vehicle's active days (local time, as officers' files have them)."""
    lo = np.maximum(joined[idx], 0)
    hi = np.where(left[idx] >= 0, left[idx], 365)
    hi = np.maximum(hi, lo + 1)
    day = lo + (rng.random(len(idx)) * (hi - lo)).astype(int)
    secs = rng.integers(6 * 3600, 23 * 3600, size=len(idx))
    stamps = (np.datetime64(year_start) + day.astype("timedelta64[D]")).astype("datetime64[s]") + secs.astype("timedelta64[s]")
    return [str(s).replace("T", " ") for s in stamps]


@dataclass(frozen=True)
class CityTruth:
    """What the SIMULATED city really is: each company's own risk and its luck by 30-day block
    (block 0 starts a year before `as_of`). The demo's later months are drawn from it too."""
    year_start: dt.date
    uscc: list[str]
    risk: np.ndarray
    luck: np.ndarray  # companies x blocks, multiplies the rate
    plan: CityPlan


def _luck(rng: np.random.Generator, n: int, blocks: int, plan: CityPlan) -> np.ndarray:
    shock = np.zeros((n, blocks))
    shock[:, 0] = rng.normal(0, plan.luck_sd, size=n)
    innovation = plan.luck_sd * np.sqrt(1 - plan.luck_persistence**2)
    for b in range(1, blocks):
        shock[:, b] = plan.luck_persistence * shock[:, b - 1] + rng.normal(0, innovation, size=n)
    return np.exp(shock - plan.luck_sd**2 / 2)  # mean 1


def _events(rng, truth: CityTruth, rate: float, owner, joined, left) -> tuple[np.ndarray, list[str]]:
    """History events: per vehicle and block, Poisson(rate a year x risk x luck x active share)."""
    edges = np.round(np.arange(HISTORY_BLOCKS + 1) * BLOCK_DAYS).astype(int)
    lo = np.maximum(joined[:, None], edges[None, :-1])
    hi = np.minimum(np.where(left >= 0, left, 365)[:, None], edges[None, 1:])
    active = np.clip(hi - lo, 0, None)
    mean = rate / 365.0 * truth.risk[owner][:, None] * truth.luck[owner][:, :HISTORY_BLOCKS] * active
    counts = rng.poisson(mean)
    vehicle, block = np.nonzero(counts)
    reps = counts[vehicle, block]
    vehicle, block = np.repeat(vehicle, reps), np.repeat(block, reps)
    start, span = lo[vehicle, block], active[vehicle, block]
    day = start + (rng.random(len(vehicle)) * span).astype(int)
    order = np.argsort(vehicle, kind="stable")
    vehicle, day = vehicle[order], day[order]
    secs = rng.integers(6 * 3600, 23 * 3600, size=len(vehicle))
    stamps = (np.datetime64(truth.year_start) + day.astype("timedelta64[D]")).astype("datetime64[s]") + secs.astype("timedelta64[s]")
    return vehicle, [str(x).replace("T", " ") for x in stamps]


def later_counts(truth: CityTruth, rng: np.random.Generator, company_of_vehicle: list[str], first: dt.date, days: int,
                 listed: set[str], effect: float = PLANTED_EFFECT) -> tuple[np.ndarray, np.ndarray]:
    """Violations and accidents per vehicle over `days` days from `first`, after the history:
    each company at its own risk and luck, listed companies (by credit code) times (1 + effect).
    Returns (violation counts, accident counts), one per vehicle in `company_of_vehicle`."""
    index = {u: i for i, u in enumerate(truth.uscc)}
    company = np.array([index.get(u, -1) for u in company_of_vehicle])
    block = min(int(((first - truth.year_start).days + days / 2) // BLOCK_DAYS), truth.luck.shape[1] - 1)
    known = company >= 0
    level = np.where(known, truth.risk[company] * truth.luck[company, block], 1.0)
    level = level * np.where(np.isin(np.array(company_of_vehicle, dtype=object), list(listed)), 1 + effect, 1.0)
    share = days / 365.0
    return (rng.poisson(truth.plan.violations_per_vehicle * share * level),
            rng.poisson(truth.plan.accidents_per_vehicle * share * level))
