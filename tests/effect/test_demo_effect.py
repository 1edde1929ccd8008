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
    url = f"sqlite:///{tmp_path / 'effect.sqlite'}"
    store = open_store(url)
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
                _monthly_data(store, police, seed, day, truth, Path(folder), lambda d=day: _at(d, 9))
            day += dt.timedelta(days=1)
    with store.session(readonly=True) as s:
        return effect.effect(s, reviewer, TODAY), url


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return demo_months(tmp_path_factory.mktemp("effect"), 2026)


def test_the_demo_estimate_covers_its_planted_effect(demo):
    out, _ = demo
    v = out["violations"]
    assert v["listings"] >= out["design"]["few_listings"] and v["inference"] == "crv1"
    lo, hi = v["ols"]["relative_ci95"]
    assert lo <= PLANTED_EFFECT <= hi, v
    lo, hi = v["poisson"]["relative_ci95"]
    assert lo <= PLANTED_EFFECT <= hi, v
    assert all(abs(b["std_diff"]) < 0.5 for b in v["balance"])  # matched: comparable before listing
    assert [e["month"] for e in v["event_study"]][:3] == [-6, -5, -4]


def cli(url, *args):
    from typer.testing import CliRunner

    import main

    return CliRunner().invoke(main.app, ["--db", url, "--as", "reviewer.zhao", "--lang", "en", *args])


def test_report_effect_json_has_the_headline_raw_balance_and_event_study(demo, tmp_path):
    import json

    _, url = demo
    r = cli(url, "report", "effect", "--json", "--out", str(tmp_path / "effect.html"))
    assert r.exit_code == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["last_month"] == "2026-10" and data["design"]["months"] == 6
    for metric in ("violations", "accidents"):
        m = data[metric]
        assert {"raw", "ols", "poisson", "headline", "verdict", "balance", "event_study", "per_listing", "excluded"} <= set(m)
        assert all({"company", "uscc", "reason", "month"} <= set(x) for x in m["excluded"])
    es = data["violations"]["event_study"]
    assert [e["month"] for e in es] == [-6, -5, -4, -3, -2, -1, 1, 2]  # data end in October
    assert all(set(e) == {"month", "effect", "ci95", "treated_rate", "control_rate"} for e in es)
    html = (tmp_path / "effect.html").read_text(encoding="utf-8")
    assert html.count("<svg") == 1 and "Months around listing" in html


def test_report_effect_writes_xlsx_with_native_charts_and_prints_a_table(demo, tmp_path):
    import openpyxl

    _, url = demo
    r = cli(url, "report", "effect", "--out", str(tmp_path / "effect.xlsx"))
    assert r.exit_code == 0, r.stderr
    assert "Effect of listing" in r.stdout and "Months around listing" in r.stdout
    book = openpyxl.load_workbook(tmp_path / "effect.xlsx")
    assert len(book.worksheets[0]._charts) == 2


def test_the_monthly_report_carries_the_event_study(demo, tmp_path):
    import openpyxl

    _, url = demo
    for name in ("m.html", "m.xlsx"):
        r = cli(url, "report", "monthly", "--month", "2026-10", "--out", str(tmp_path / name))
        assert r.exit_code == 0, r.stderr
    assert 'id="effect"' in (tmp_path / "m.html").read_text(encoding="utf-8")
    book = openpyxl.load_workbook(tmp_path / "m.xlsx")
    assert sum(len(ws._charts) for ws in book.worksheets) >= 2 + 2


@pytest.mark.parametrize("args", [["--months", "0"], ["--listing-month", "half"], ["--caliper", "0"], ["--controls", "0"],
                                  ["--out", "effect.pdf"]])
def test_bad_options_are_one_line_and_exit_2(demo, args, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _, url = demo
    r = cli(url, "report", "effect", *args)
    assert r.exit_code == 2, (r.stdout, r.stderr)
    assert len(r.stderr.strip().splitlines()) == 1
