"""On the demo city, `rules check --json` agrees with metrics computed independently, in plain
Python, from the raw generated rows."""
import datetime as dt
import json
from collections import defaultdict

from typer.testing import CliRunner

import main
from listing.services.demo import build_city
from listing.simulation.city import synthetic_city
from listing.store.db import open_store
from rules.criteria import config
from tests.conftest import NOW

AS_OF = dt.date(2026, 11, 24)


def independent(city, rules):
    start, end = dt.date(2025, 11, 25), dt.date(2026, 11, 25)  # (as_of - 12 months, as_of]
    days = (end - start).days
    company_of = {}
    exposure = defaultdict(float)
    for v in city["vehicles"].iter_rows(named=True):
        company_of[v["plate"]] = v["company_uscc"]
        lo = max(dt.date.fromisoformat(v["active_from"]), start)
        hi = min(dt.date.fromisoformat(v["active_to"]) if v["active_to"] else end, end)
        exposure[v["company_uscc"]] += max((hi - lo).days, 0)

    def inside(text):
        return start <= dt.datetime.fromisoformat(text).date() < end  # local times, local window

    fatal, at_fault, violations = defaultdict(int), defaultdict(int), defaultdict(int)
    for a in city["accidents"].iter_rows(named=True):
        if inside(a["occurred_at"]):
            c = company_of[a["plate"]]
            fatal[c] += int(a["fatalities"]) > 0 and a["responsibility"] in rules.fatal_responsibility
            at_fault[c] += a["responsibility"] in rules.at_fault
    for v in city["violations"].iter_rows(named=True):
        if inside(v["occurred_at"]):
            violations[company_of[v["plate"]]] += 1
    out = {}
    for c in city["companies"].iter_rows(named=True):
        u, avg = c["uscc"], exposure[c["uscc"]] / days
        rates = {"at_fault_per_vehicle": at_fault[u] / avg if avg else None,
                 "violations_per_vehicle": violations[u] / avg if avg else None}
        hits = {k: v is not None and v >= rules.threshold(c["business_type"], k) for k, v in rates.items()}
        hit_fatal = fatal[u] >= rules.threshold(c["business_type"], "fatal_accidents")
        small = avg < rules.min_fleet
        flag = hit_fatal or (all(hits.values()) if small else any(hits.values()))
        if flag:
            out[u] = {"fatal_accidents": fatal[u], "violations": violations[u], "avg_vehicles": avg, **rates}
    return out


def test_rules_check_on_the_demo_matches_an_independent_computation(tmp_path):
    url = f"sqlite:///{tmp_path / 'demo.sqlite'}"
    build_city(open_store(url), seed=3, as_of=AS_OF, now=NOW)
    r = CliRunner().invoke(main.app, ["--db", url, "--as", "reviewer.zhao", "rules", "check", "--as-of", "2026-11-24", "--json"])
    assert r.exit_code == 0, r.stderr
    got = {c["uscc"]: c for c in json.loads(r.stdout)["flagged"]}
    expected = independent(synthetic_city(3, AS_OF), config.load())
    assert 3 <= len(expected) <= 40  # a few clearly bad companies, not half the city
    assert set(got) == set(expected)
    for u, e in expected.items():
        g = got[u]
        assert (g["fatal_accidents"], g["violations"]) == (e["fatal_accidents"], e["violations"])
        assert abs(g["avg_vehicles"] - e["avg_vehicles"]) < 1e-3
        if e["violations_per_vehicle"] is not None:
            assert abs(g["violations_per_vehicle"] - e["violations_per_vehicle"]) < 1e-3
