"""A small city for the officers' terminal tests, built through the services at fixed times.

- 杭州甲运输有限公司 (西湖区): listed 2026-05-05, cycle 1 failed on 2026-08-05 ("检查缺失"), cycle 2
  ended -> under review on 2026-11-24. A problem found in cycle 1 (2026-06-01) is still open and
  rectified by `transport`; a transport inspection in October, none by the police.
- 杭州乙客运有限公司 (上城区): listed 2026-10-01; a suspected overspeed finding with a speed profile.
- 杭州甲物流有限公司 (西湖区): never listed (makes "杭州甲" ambiguous).
- 萧山丙危险品运输有限公司 (萧山区): proposed, not confirmed.
"""
from __future__ import annotations

import datetime as dt

import pytest

from sqlmodel import select

from listing.domain.identifiers import uscc_check_char
from listing.domain.states import Event
from listing.services import inspections, listings, problems, review
from listing.store import tables
from listing.timeutil import LOCAL_TZ
from tests.conftest import actor

NOW = dt.datetime(2026, 11, 24, 2, 0, tzinfo=dt.timezone.utc)  # 10:00 in Hangzhou
TODAY = dt.date(2026, 11, 24)


def local(y, m, d, hh=10) -> dt.datetime:
    return dt.datetime(y, m, d, hh, tzinfo=LOCAL_TZ)


def uscc(n: int) -> str:
    first = f"91330106{n:09d}"
    return first + uscc_check_char(first)


def build(store) -> dict:
    from listing.services.users import add_user

    with store.session() as s:
        add_user(s, None, "admin", "admin", "信息中心", "*", now=NOW)
        add_user(s, "admin", "police", "police", "交警支队", "*", now=NOW)
        add_user(s, "admin", "police2", "police", "交警支队", "*", now=NOW)
        add_user(s, "admin", "transport", "transport", "运管处", "*", now=NOW)
        add_user(s, "admin", "reviewer", "reviewer", "交安委", "*", now=NOW)
        add_user(s, "admin", "xihu", "transport", "西湖运管所", "西湖区", now=NOW)
    ids = {}
    with store.session() as s:
        for key, n, name, jur in (("jia", 1, "杭州甲运输有限公司", "西湖区"), ("yi", 2, "杭州乙客运有限公司", "上城区"),
                                  ("jia_wl", 3, "杭州甲物流有限公司", "西湖区"),
                                  ("bing", 4, "萧山丙危险品运输有限公司", "萧山区")):
            c = tables.Company(uscc=uscc(n), name=name, business_type="freight", jurisdiction=jur)
            s.add(c)
            s.flush()
            ids[key] = c.id
            for i in range(3):
                s.add(tables.Vehicle(plate=f"浙A{n}{i:04d}", company_id=c.id, vehicle_class="truck",
                                     active_from=dt.date(2020, 1, 1)))
        s.flush()
        ids["yi_vehicle"] = s.exec(select(tables.Vehicle.id).where(tables.Vehicle.company_id == ids["yi"])).first()
    reviewer, transport, police = (actor(store, n) for n in ("reviewer", "transport", "police"))
    with store.session() as s:
        ids["jia_listing"] = lid = listings.propose(s, reviewer, ids["jia"], rules_version="t", explanation={
            "criteria": [{"criterion": "at_fault_per_vehicle", "value": 0.4, "threshold": 0.05, "record_ids": []}]},
            now=local(2026, 5, 5)).id
        listings.apply(s, reviewer, lid, Event.CONFIRM, now=local(2026, 5, 5))
    with store.session() as s:
        inspections.record(s, transport, uscc(1), "transport", dt.date(2026, 6, 1), now=local(2026, 6, 1),
                           problems=[("安全台账不全", dt.date(2026, 6, 30))])
        ids["problem"] = s.exec(select(tables.Problem.id)).first()
    with store.session() as s:
        problems.change(s, transport, ids["problem"], "rectify", now=local(2026, 6, 20))
    with store.session() as s:
        listings.apply(s, reviewer, lid, Event.END_CYCLE, now=local(2026, 8, 5, 0))
    with store.session() as s:
        review.decide(s, reviewer, lid, False, reason="检查缺失", now=local(2026, 8, 5, 12))
    with store.session() as s:
        inspections.record(s, transport, uscc(1), "transport", dt.date(2026, 10, 12), now=local(2026, 10, 12))
        listings.apply(s, reviewer, lid, Event.END_CYCLE, now=local(2026, 11, 5, 0))
    with store.session() as s:
        ids["yi_listing"] = yl = listings.propose(s, reviewer, ids["yi"], rules_version="t", explanation={},
                                                  now=local(2026, 10, 1)).id
        listings.apply(s, reviewer, yl, Event.CONFIRM, now=local(2026, 10, 1))
        ids["bing_listing"] = listings.propose(s, reviewer, ids["bing"], rules_version="t", explanation={},
                                               now=local(2026, 11, 20)).id
    with store.session() as s:
        sample = tables.Sample(day=dt.date(2026, 11, 22), company_id=ids["yi"], listing_id=yl, vehicle_id=ids["yi_vehicle"],
                               rank=0, status="scanned", points=2880)
        s.add(sample)
        s.flush()
        start = local(2026, 11, 22, 8)
        profile = [[t, 60 + (40 if 120 <= t <= 420 else 0)] for t in range(0, 541, 30)]
        f = tables.Finding(sample_id=sample.id, day=sample.day, company_id=ids["yi"], vehicle_id=ids["yi_vehicle"],
                           rule="overspeed", regulation="实施条例 第45条", start=start, end=start + dt.timedelta(minutes=5),
                           evidence={"duration_s": 300.0, "max_speed_kmh": 100.0, "limit_kmh": 80.0, "band": "20-50%",
                                     "start_lat": 30.25, "start_lon": 120.15, "end_lat": 30.3, "end_lon": 120.2,
                                     "speed_profile": profile})
        s.add(f)
        s.flush()
        ids["finding"] = f.id
    del police
    return ids


@pytest.fixture
def world(sqlite_url):
    """The city above on a fresh SQLite store: its ids, and the store under "store"."""
    from listing.store.db import open_store

    store = open_store(sqlite_url)
    ids = build(store)
    ids["store"] = store
    yield ids
    store.engine.dispose()
