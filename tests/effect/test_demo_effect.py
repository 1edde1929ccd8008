"""The demo's data keep each company's own risk and luck, so its effect estimate can be checked:
the city is built, the rules list who looks bad (some only had a bad spell), the listings are
confirmed, and the following months are imported as the demo imports them, with the planted
effect of listing. The effect service, with the one window the demo and the report share, must
cover the planted effect, while the raw before/after overstates it."""
import datetime as dt
import tempfile
from pathlib import Path

import pytest

from listing.domain.policy import SYSTEM_ACTOR
from listing.domain.states import Event
from listing.services import effect, listings, rules
from listing.services.demo import build_city
from listing.services.users import resolve_actor
from listing.simulation.city import PLANTED_EFFECT, CityPlan
from listing.simulation.drill import _at, _monthly_data
from listing.store.db import open_store

TODAY = dt.date(2026, 11, 24)
START = TODAY - dt.timedelta(days=100)


def demo_months(tmp_path, seed: int):
    store = open_store(f"sqlite:///{tmp_path / 'effect.sqlite'}")
    truth = build_city(store, seed=seed, as_of=START, now=_at(START, 8), plan=CityPlan(mean_fleet=10))["truth"]
    with store.session() as s:
        proposed = rules.apply(s, SYSTEM_ACTOR, START, now=_at(START, 9))["proposed"]
    with store.session(readonly=True) as s:
        reviewer, police = resolve_actor(s, "reviewer.zhao"), resolve_actor(s, "police.wang")
    for p in proposed:
        with store.session() as s:
            listings.apply(s, reviewer, p["listing_id"], Event.CONFIRM, now=_at(START, 10), reason="依据挂牌整治标准")
    with tempfile.TemporaryDirectory() as folder:
        day = START
        while day <= TODAY:
            if day.day == 1:
                _monthly_data(store, police, seed, day, truth, Path(folder), lambda: _at(day, 9))
            day += dt.timedelta(days=1)
    with store.session(readonly=True) as s:
        return effect.effect(s, reviewer, TODAY), len(proposed)


@pytest.mark.parametrize("seed", [2026])
def test_the_demo_estimate_covers_its_planted_effect(tmp_path, seed):
    out, n = demo_months(tmp_path, seed)
    v = out["violations"]
    assert v["listings"] >= v["design"]["few_listings"] and v["inference"] == "crv1"
    lo, hi = v["ols"]["relative_ci95"]
    assert lo <= PLANTED_EFFECT <= hi, v
    lo, hi = v["poisson"]["relative_ci95"]
    assert lo <= PLANTED_EFFECT <= hi, v
    assert all(abs(b["std_diff"]) < 0.5 for b in v["balance"])  # matched: comparable before listing
    assert [e["month"] for e in v["event_study"]][:3] == [-6, -5, -4]
