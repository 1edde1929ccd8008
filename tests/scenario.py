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


def found_and_expected(samples, findings, platform, day: dt.date):
    """(found, expected) Counters of (plate, rule) for a sampled day on the SIMULATED platform:
    the findings, and the violations planted in the sampled vehicles. A planted 4 h 40 min drive
    after the ordinary day before can also pass 8 h of driving in the 24 h that end in it: that
    `fatigue_daily` finding is true though not planted, and it is expected exactly when its own
    evidence says so (more than the limit in a 24 h window, its episode covering the planted
    drive). Any other finding beyond the planted ones, or any planted one missing, differs."""
    from collections import Counter

    found = Counter((plate, f.rule) for f, plate in findings)
    expected = Counter()
    long_drives: dict[str, list[tuple[dt.datetime, dt.datetime]]] = {}
    for _, plate in samples:
        for p in platform.planted(plate, day):
            expected[(plate, p["rule"])] += 1
            if p["rule"] == "fatigue_continuous":
                long_drives.setdefault(plate, []).append((dt.datetime.fromisoformat(p["start"]),
                                                          dt.datetime.fromisoformat(p["end"])))
    slack = dt.timedelta(minutes=2)
    for f, plate in findings:
        evidence = f.evidence or {}
        details = evidence.get("details") or {}
        if f.rule != "fatigue_daily" or details.get("window_h") != 24.0:
            continue
        start, end = (t if t.tzinfo else t.replace(tzinfo=dt.timezone.utc) for t in (f.start, f.end))
        if evidence.get("duration_s", 0) > details.get("limit_s", float("inf")) and any(
                start <= s + slack and end >= e - slack for s, e in long_drives.get(plate, [])):
            expected[(plate, "fatigue_daily")] += 1
    return found, expected
