"""Confirming findings: one event reached by two findings is one violation, counted once."""
import datetime as dt

from sqlmodel import select

from listing.services import audit, findings
from listing.store import tables
from tests.conftest import NOW, actor
from tests.scenario import listed_company, local


def test_one_overspeed_across_midnight_sampled_on_both_days_is_one_violation(people):
    cid, _, vids = listed_company(people, local(2026, 11, 1))
    start = dt.datetime(2026, 11, 20, 15, 58, tzinfo=dt.timezone.utc)  # 23:58 in Hangzhou
    with people.session() as s:
        ids = []
        for day in (dt.date(2026, 11, 20), dt.date(2026, 11, 21)):
            sample = tables.Sample(day=day, company_id=cid, vehicle_id=vids[0], rank=0, status="scanned")
            s.add(sample)
            s.flush()
            finding = tables.Finding(sample_id=sample.id, day=day, company_id=cid, vehicle_id=vids[0], rule="overspeed",
                                     start=start, end=start + dt.timedelta(minutes=5))
            s.add(finding)
            s.flush()
            ids.append(finding.id)
    police = actor(people, "police")
    for fid in ids:
        with people.session() as s:
            findings.confirm(s, police, fid, now=NOW)
    with people.session(readonly=True) as s:
        violations = s.exec(select(tables.Violation)).all()
        assert len(violations) == 1 and violations[0].source == "trajectory"
        assert {f.violation_id for f in s.exec(select(tables.Finding)).all()} == {violations[0].id}
        assert {f.state for f in s.exec(select(tables.Finding)).all()} == {"confirmed"}
        assert len(s.exec(select(tables.Problem).where(tables.Problem.source == "finding")).all()) == 2
        assert audit.verify(s, actor(people, "admin")).ok


def _confirmed_world(url: str, together: bool) -> dict:
    """Two companies (one listed, one not) and their findings: one event sampled on two days,
    the same event confirmed before, another rule, a day without data; confirmed one by one or
    with confirm_many. Returns every row the confirmations wrote."""
    from listing.services.users import add_user
    from listing.store.db import open_store

    store = open_store(url)
    with store.session() as s:
        add_user(s, None, "admin", "admin", "信息中心", "*", now=NOW)
        add_user(s, "admin", "police", "police", "交警支队", "*", now=NOW)
        add_user(s, "admin", "reviewer", "reviewer", "交安委", "*", now=NOW)
    cid, _, vids = listed_company(store, local(2026, 11, 1), vehicles=3, number=901)
    with store.session() as s:
        other = tables.Company(uscc="91330106MA2B00000X", name="未挂牌公司", business_type="freight", jurisdiction="西湖区")
        s.add(other)
        s.flush()
        truck = tables.Vehicle(plate="浙A9X001", company_id=other.id, vehicle_class="truck", active_from=dt.date(2020, 1, 1))
        s.add(truck)
        s.flush()
        owners = {vids[0]: cid, vids[1]: cid, vids[2]: cid, truck.id: other.id}
        midnight = dt.datetime(2026, 11, 20, 15, 58, tzinfo=dt.timezone.utc)
        plan = [(dt.date(2026, 11, 20), vids[0], "overspeed", midnight), (dt.date(2026, 11, 21), vids[0], "overspeed", midnight),
                (dt.date(2026, 11, 21), vids[1], "fatigue_continuous", midnight + dt.timedelta(hours=10)),
                (dt.date(2026, 11, 21), vids[2], "no_data", midnight + dt.timedelta(hours=8)),
                (dt.date(2026, 11, 21), truck.id, "overspeed", midnight + dt.timedelta(hours=12)),
                (dt.date(2026, 11, 22), vids[1], "fatigue_continuous", midnight + dt.timedelta(hours=10))]
        ids = []
        for day, vid, rule, start in plan:
            sample = tables.Sample(day=day, company_id=owners[vid], vehicle_id=vid, rank=0, status="scanned")
            s.add(sample)
            s.flush()
            finding = tables.Finding(sample_id=sample.id, day=day, company_id=owners[vid], vehicle_id=vid, rule=rule,
                                     start=start, end=start + dt.timedelta(minutes=5))
            s.add(finding)
            s.flush()
            ids.append(finding.id)
    police = actor(store, "police")
    with store.session() as s:  # an earlier sitting confirmed the last one
        findings.confirm(s, police, ids[-1], now=NOW)
    with store.session() as s:
        if together:
            assert [f.state for f in findings.confirm_many(s, police, ids[:-1], now=NOW)] == ["confirmed"] * 5
        else:
            for fid in ids[:-1]:
                findings.confirm(s, police, fid, now=NOW)
    with store.session(readonly=True) as s:
        assert audit.verify(s, actor(store, "admin")).ok
        rows = {name: [r.model_dump() for r in s.exec(select(table).order_by(table.id)).all()]
                for name, table in (("finding", tables.Finding), ("violation", tables.Violation), ("problem", tables.Problem))}
        rows["audit"] = [(e.seq, e.actor, e.action, e.entity, e.entity_id, e.before, e.after, e.hash)
                         for e in s.exec(select(tables.AuditEvent).order_by(tables.AuditEvent.seq)).all()]
    store.engine.dispose()
    return rows


def test_confirming_many_at_once_writes_what_confirming_one_by_one_writes(tmp_path):
    one_by_one = _confirmed_world(f"sqlite:///{tmp_path / 'one.sqlite'}", together=False)
    together = _confirmed_world(f"sqlite:///{tmp_path / 'many.sqlite'}", together=True)
    assert together == one_by_one
    violations = one_by_one["violation"]
    assert len(violations) == 3  # the event sampled twice is one; no violation for a day without data
    problems = one_by_one["problem"]
    assert len(problems) == 6 and sum(p["listing_id"] is None for p in problems) == 1  # the company not listed
    assert [a[2] for a in one_by_one["audit"]].count("finding.confirm") == 6
