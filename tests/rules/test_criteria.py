"""Listing criteria on hand-built companies: each verdict and its explanation checked by hand."""
import datetime as dt
import textwrap

import pytest
from sqlmodel import select

from listing.domain.identifiers import uscc_check_char
from listing.services import listings
from listing.services import rules as svc
from listing.store import tables
from rules.criteria import config
from tests.conftest import NOW, actor

AS_OF = dt.date(2026, 11, 24)
UTC = dt.timezone.utc
RULES = config.parse(textwrap.dedent("""
    version = "test-1"
    effective_from = 2026-01-01
    window_months = 12
    at_fault = ["full", "main", "equal"]
    fatal_responsibility = ["full", "main", "equal", "secondary"]
    min_fleet = 2
    vehicle_classes = ["truck", "coach"]
    [thresholds.default]
    fatal_accidents = 1
    at_fault_per_vehicle = 0.5
    violations_per_vehicle = 0.5
"""))


def uscc(n: int) -> str:
    first = f"91330106{n:09d}"
    return first + uscc_check_char(first)


class Builder:
    def __init__(self, store):
        self.store, self.n, self.plates = store, 0, 0

    def company(self, vehicles: int, *, business_type="freight", active_from=dt.date(2020, 1, 1), active_to=None,
                vehicle_class="truck"):
        self.n += 1
        with self.store.session() as s:
            c = tables.Company(uscc=uscc(self.n), name=f"公司{self.n}", business_type=business_type, jurisdiction="西湖区")
            s.add(c)
            s.flush()
            ids = []
            for _ in range(vehicles):
                self.plates += 1
                v = tables.Vehicle(plate=f"浙A{self.plates:05d}", company_id=c.id, vehicle_class=vehicle_class,
                                   active_from=active_from, active_to=active_to)
                s.add(v)
                s.flush()
                ids.append(v.id)
            return c.id, ids

    def violations(self, company_id, vehicle_id, count, when=dt.datetime(2026, 6, 1, 2, tzinfo=UTC)):
        with self.store.session() as s:
            for i in range(count):
                s.add(tables.Violation(occurred_at=when + dt.timedelta(minutes=i), vehicle_id=vehicle_id, company_id=company_id,
                                       code="1352", points=3, source="camera"))

    def accident(self, company_id, vehicle_id, *, fatalities=0, responsibility="main", when=dt.datetime(2026, 6, 1, 2, tzinfo=UTC)):
        with self.store.session() as s:
            s.add(tables.Accident(occurred_at=when, vehicle_id=vehicle_id, company_id=company_id, fatalities=fatalities,
                                  injuries=1, responsibility=responsibility))


@pytest.fixture
def build(people):
    return Builder(people)


def flagged(store, rules=RULES, as_of=AS_OF):
    with store.session() as s:
        return {c["uscc"]: c for c in svc.check(s, actor(store, "reviewer"), as_of, rules)["flagged"]}


def test_the_three_companies_of_the_issue(people, build):
    fatal, fv = build.company(3)
    build.accident(fatal, fv[0], fatalities=1, responsibility="secondary")
    busy, bv = build.company(10)
    build.violations(busy, bv[0], 8)  # 8 / 10 vehicles = 0.8 >= 0.5
    near, nv = build.company(10)
    build.violations(near, nv[0], 4)  # 0.4 < 0.5
    build.accident(near, nv[1], responsibility="main")  # 0.1 < 0.5
    build.accident(near, nv[2], fatalities=2, responsibility="none")  # a death it bore no responsibility for
    out = flagged(people)
    assert set(out) == {uscc(1), uscc(2)}
    (why,) = out[uscc(1)]["explanation"]
    assert (why["criterion"], why["value"], why["threshold"], why["record_count"]) == ("fatal_accidents", 1, 1.0, 1)
    assert why["records"][0]["responsibility"] == "secondary" and why["records"][0]["plate"] == "浙A00001"
    (why,) = out[uscc(2)]["explanation"]
    assert (why["criterion"], why["value"], why["threshold"], why["record_count"]) == ("violations_per_vehicle", 0.8, 0.5, 8)
    assert out[uscc(2)]["avg_vehicles"] == 10.0 and len(why["records"]) == 8


def test_denominator_is_average_active_vehicles_over_the_window(people, build):
    """4 vehicles all year + 4 that joined half way through: 6 average vehicles, not 8."""
    cid, full = build.company(4)
    with people.session() as s:
        for i in range(4):
            s.add(tables.Vehicle(plate=f"浙B{i:05d}", company_id=cid, vehicle_class="truck",
                                 active_from=dt.date(2026, 5, 26)))  # 183 of the window's 365 days
    build.violations(cid, full[0], 3)
    with people.session() as s:
        table = svc.metrics(s, RULES, AS_OF)
    row = table.row(0, named=True)
    window = svc.Window.ending(AS_OF, 12)
    assert window.days == 365 and (window.start, window.end) == (dt.date(2025, 11, 25), dt.date(2026, 11, 25))
    assert row["avg_vehicles"] == pytest.approx((4 * 365 + 4 * 183) / 365)
    assert row["violations_per_vehicle"] == pytest.approx(3 / ((4 * 365 + 4 * 183) / 365))


def test_window_edges_and_out_of_scope_classes(people, build):
    cid, vids = build.company(2)
    local = dt.timezone(dt.timedelta(hours=8))
    inside_first = dt.datetime(2025, 11, 25, 0, 0, tzinfo=local)
    outside_before = inside_first - dt.timedelta(seconds=1)
    inside_last = dt.datetime(2026, 11, 24, 23, 59, 59, tzinfo=local)
    outside_after = inside_last + dt.timedelta(seconds=1)
    for when in (outside_before, inside_first, inside_last, outside_after):
        build.violations(cid, vids[0], 1, when=when.astimezone(UTC))
    other, ov = build.company(2, vehicle_class="taxi")  # not in RULES.vehicle_classes
    build.violations(other, ov[0], 9)
    with people.session() as s:
        table = {r["company_id"]: r for r in svc.metrics(s, RULES, AS_OF).iter_rows(named=True)}
    assert table[cid]["violations"] == 2
    assert table[other]["violations"] == 0 and table[other]["avg_vehicles"] == 0


def test_small_fleets_need_more_than_one_rate(people, build):
    small, sv = build.company(1)  # below min_fleet = 2
    build.violations(small, sv[0], 5)  # 5 per vehicle, but a rate alone
    both, bv = build.company(1)
    build.violations(both, bv[0], 5)
    build.accident(both, bv[0], responsibility="full")
    out = flagged(people)
    assert uscc(1) not in out
    assert {r["criterion"] for r in out[uscc(2)]["explanation"]} == {"at_fault_per_vehicle", "violations_per_vehicle"}
    assert all(r["small_fleet_rule"] for r in out[uscc(2)]["explanation"])


def test_apply_proposes_once_and_confirm_opens_cycle_one(people, build):
    cid, vids = build.company(3)
    build.accident(cid, vids[0], fatalities=1)
    reviewer = actor(people, "reviewer")
    with people.session() as s:
        first = svc.apply(s, reviewer, AS_OF, now=NOW)
    assert [p["uscc"] for p in first["proposed"]] == [uscc(1)]
    with people.session() as s:
        again = svc.apply(s, reviewer, AS_OF, now=NOW)
    assert again["proposed"] == [] and again["skipped"] == [uscc(1)]
    with people.session() as s:
        row = listings.apply(s, reviewer, first["proposed"][0]["listing_id"], listings.Event.CONFIRM, now=NOW)
    assert (row.cycle, row.cycle_start, row.cycle_due) == (1, dt.date(2026, 11, 24), dt.date(2027, 2, 24))
    assert row.rules_version == config.load().version  # the shipped default, now stored
    assert row.explanation["criteria"][0]["criterion"] == "fatal_accidents"
    with people.session() as s:
        assert s.exec(select(tables.RuleVersion.version)).all() == [config.load().version]
    assert flagged(people, config.load())[uscc(1)]["listed"] is True


def test_rule_versions_by_effective_date_and_old_ones_stay_readable(people, build, tmp_path):
    reviewer = actor(people, "reviewer")
    strict = RULES.source.replace('"test-1"', '"test-2"').replace("2026-01-01", "2026-07-01").replace(
        "violations_per_vehicle = 0.5", "violations_per_vehicle = 0.2")
    for name, text in (("a.toml", RULES.source), ("b.toml", strict)):
        (tmp_path / name).write_text(text, encoding="utf-8")
        with people.session() as s:
            assert svc.load_rules(s, reviewer, tmp_path / name, now=NOW)[1] is True
    with people.session() as s:
        assert svc.active_rules(s, dt.date(2026, 6, 30)).version == "test-1"
        assert svc.active_rules(s, dt.date(2026, 7, 1)).version == "test-2"
        assert svc.rules_version(s, "test-1").threshold("freight", "violations_per_vehicle") == 0.5
        assert svc.load_rules(s, reviewer, tmp_path / "b.toml", now=NOW)[1] is False  # same text: no-op
    (tmp_path / "b.toml").write_text(strict.replace("0.2", "0.3"), encoding="utf-8")
    from messages.errors import Conflict, PermissionDenied

    with pytest.raises(Conflict):
        with people.session() as s:
            svc.load_rules(s, reviewer, tmp_path / "b.toml", now=NOW)
    with pytest.raises(PermissionDenied):
        with people.session() as s:
            svc.load_rules(s, actor(people, "police"), tmp_path / "a.toml", now=NOW)


def test_backtest_counts_each_version_month_by_month(people, build, tmp_path):
    cid, vids = build.company(3)
    build.accident(cid, vids[0], fatalities=1, when=dt.datetime(2026, 3, 10, tzinfo=UTC))
    cid2, v2 = build.company(10)
    build.violations(cid2, v2[0], 3, when=dt.datetime(2026, 3, 10, tzinfo=UTC))  # 0.3: only the strict version
    strict = config.parse(RULES.source.replace('"test-1"', '"strict"').replace("violations_per_vehicle = 0.5", "violations_per_vehicle = 0.25"))
    with people.session() as s:
        out = svc.backtest(s, actor(people, "reviewer"), dt.date(2026, 2, 1), dt.date(2026, 4, 30), strict)
    by_month = {str(r["as_of"]): (r[out["versions"][0]], r["strict"]) for r in out["months"]}
    assert by_month == {"2026-02-28": (0, 0), "2026-03-31": (1, 2), "2026-04-30": (1, 2)}


@pytest.mark.parametrize("mutation,field", [
    (lambda t: t.replace('version = "test-1"', 'version = ""'), "version"),
    (lambda t: t.replace("violations_per_vehicle = 0.5", "violations_per_vehicle = -1"), "thresholds.default.violations_per_vehicle"),
    (lambda t: t.replace('at_fault = ["full", "main", "equal"]', 'at_fault = ["guilty"]'), "at_fault"),
    (lambda t: t + "\n[thresholds.bus]\nspeeding = 3\n", "thresholds.bus.speeding"),
])
def test_bad_rules_files_say_which_field(mutation, field):
    from messages.errors import ValidationError

    with pytest.raises(ValidationError) as err:
        config.parse(mutation(RULES.source))
    assert err.value.params["field"] == field
