"""Small hand-built worlds for service tests: a company with vehicles and a confirmed listing."""
from __future__ import annotations

import datetime as dt

from listing.domain.identifiers import uscc_check_char
from listing.domain.states import Event
from listing.services import listings
from listing.store import tables
from listing.timeutil import LOCAL_TZ
from tests.conftest import actor

_counter = {"n": 0}


def local(y, m, d, hh=10, mm=0) -> dt.datetime:
    return dt.datetime(y, m, d, hh, mm, tzinfo=LOCAL_TZ)


def plate(n: int, i: int) -> str:
    """A valid, distinct plate for vehicle i of the n-th company (n < 2,400, i < 1,000): the
    second letter carries the hundreds of n, so plates never grow past 7 characters."""
    return f"浙{'ABCDEFGHJKLMNPQRSTUVWXYZ'[n // 100]}{n % 100:02d}{i:03d}"


def listed_company(store, confirmed: dt.datetime, vehicles: int = 10, jurisdiction: str = "西湖区", *, number: int | None = None):
    """(company_id, listing_id, vehicle_ids) with a listing confirmed at `confirmed`. `number`
    fixes the company's code and plates (a test that replays itself needs the same ones each
    time); by default each company of the process gets new ones."""
    if number is None:
        _counter["n"] += 1
    n = _counter["n"] if number is None else number
    first = f"91330106{n:09d}"
    with store.session() as s:
        c = tables.Company(uscc=first + uscc_check_char(first), name=f"测试公司{n}", business_type="freight",
                           jurisdiction=jurisdiction)
        s.add(c)
        s.flush()
        vids = []
        for i in range(vehicles):
            v = tables.Vehicle(plate=plate(n, i), company_id=c.id, vehicle_class="truck", active_from=dt.date(2020, 1, 1))
            s.add(v)
            s.flush()
            vids.append(v.id)
        cid = c.id
    reviewer = actor(store, "reviewer")
    with store.session() as s:
        lid = listings.propose(s, reviewer, cid, rules_version="t", explanation={}, now=confirmed).id
        listings.apply(s, reviewer, lid, Event.CONFIRM, now=confirmed)
    return cid, lid, vids


def drivers_on_duty(store, company_id: int, vehicle_ids: list[int], id_number=None) -> None:
    """One driver per vehicle, assigned to it since 2026-01-01 (who drove is then known)."""
    id_number = id_number or (lambda i: f"33010619900101{company_id:02d}{i:02d}")
    with store.session() as s:
        for i, vid in enumerate(vehicle_ids):
            d = tables.Driver(id_number=id_number(i), name=f"司机{company_id}-{i}", company_id=company_id)
            s.add(d)
            s.flush()
            s.add(tables.Assignment(driver_id=d.id, vehicle_id=vid, start=local(2026, 1, 1)))
