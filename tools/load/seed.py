"""Seeding the officer load (tools/load/run.py): listed companies in three districts with vehicles,
drivers, suspected findings, open and rectified problems, and officers of both departments."""
from __future__ import annotations

import datetime as dt
import random
from dataclasses import asdict, dataclass

from tools.load.plan import LoadPlan

JURISDICTIONS = ("西湖区", "上城区", "拱墅区")
FINDING_RULES = ("overspeed", "fatigue_continuous", "signal_gap", "no_data")


@dataclass(frozen=True)
class Officer:
    name: str
    role: str  # police / transport
    jurisdiction: str  # a district or "*"


def officers(n: int) -> list[Officer]:
    """Pairs of police and transport officers per district in turn, the last two city-level; fewer
    than 8 officers are all city-level (so every company has someone)."""
    out = []
    for i in range(n):
        role = "police" if i % 2 == 0 else "transport"
        city = n < 8 or i >= n - 2
        out.append(Officer(f"officer{i:02d}", role, "*" if city else JURISDICTIONS[(i // 2) % len(JURISDICTIONS)]))
    return out


def seed(store, plan: LoadPlan, now: dt.datetime) -> dict:
    """Users, listed companies with fleets and drivers, suspected findings, problems. Returns
    the manifest `verify` starts from (problem states before the load, audit length)."""
    from sqlmodel import select

    from listing.domain.identifiers import uscc_check_char
    from listing.domain.states import Event
    from listing.services import listings
    from listing.services.users import add_user, resolve_actor
    from listing.store import tables
    from listing.timeutil import LOCAL_TZ

    cast = officers(plan.workers)
    with store.session() as s:
        add_user(s, None, "admin", "admin", "信息中心", "*", now=now)
        add_user(s, "admin", "reviewer", "reviewer", "交安委", "*", now=now)
        for o in cast:
            add_user(s, "admin", o.name, o.role, "交警大队" if o.role == "police" else "运管所", o.jurisdiction, now=now)
    rng = random.Random(plan.seed)
    companies = []  # (company_id, jurisdiction, [(vehicle_id, driver_id)])
    with store.session() as s:
        k = 0
        for jurisdiction in JURISDICTIONS:
            for _ in range(plan.companies_per_jurisdiction):
                k += 1
                code = f"91330106{k:09d}"
                c = tables.Company(uscc=code + uscc_check_char(code), name=f"负载测试运输公司{k}",
                                   business_type="freight", jurisdiction=jurisdiction)
                s.add(c)
                s.flush()
                fleet = []
                for i in range(plan.vehicles):
                    v = tables.Vehicle(plate=f"浙A{k:02d}{i:03d}", company_id=c.id, vehicle_class="coach" if i % 5 == 0 else "truck",
                                       active_from=dt.date(2020, 1, 1))
                    d = tables.Driver(id_number=f"330106199001{k:02d}{i:04d}", name=f"司机{k}-{i}", company_id=c.id)
                    s.add_all([v, d])
                    s.flush()
                    s.add(tables.Assignment(driver_id=d.id, vehicle_id=v.id, start=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)))
                    fleet.append((v.id, d.id))
                companies.append((c.id, jurisdiction, fleet))
    confirmed = dt.datetime.combine(now.astimezone(LOCAL_TZ).date() - dt.timedelta(days=40), dt.time(10), tzinfo=LOCAL_TZ)
    listing_of = {}
    with store.session() as s:
        reviewer = resolve_actor(s, "reviewer")
        for cid, _, _ in companies:
            lid = listings.propose(s, reviewer, cid, rules_version="load", explanation={}, now=confirmed).id
            listings.apply(s, reviewer, lid, Event.CONFIRM, now=confirmed)
            listing_of[cid] = lid
    today = now.astimezone(LOCAL_TZ).date()
    with store.session() as s:
        samples: dict = {}
        for j in range(plan.n_findings()):
            cid, _, fleet = companies[j % len(companies)]
            slot = j // len(companies)
            vid, did = fleet[slot % len(fleet)]
            day = today - dt.timedelta(days=3 + slot // len(fleet))  # before any day the scheduler samples
            if (day, vid) not in samples:
                sample = tables.Sample(day=day, company_id=cid, listing_id=listing_of[cid], vehicle_id=vid, rank=0,
                                       status="scanned", points=2880, scanned_at=now)
                s.add(sample)
                s.flush()
                samples[(day, vid)] = sample.id
            start = dt.datetime.combine(day, dt.time(8), tzinfo=LOCAL_TZ) + dt.timedelta(minutes=j % 600)
            rule = FINDING_RULES[j % len(FINDING_RULES)]
            s.add(tables.Finding(sample_id=samples[(day, vid)], day=day, company_id=cid, vehicle_id=vid, driver_id=did,
                                 rule=rule, start=start, end=start + dt.timedelta(minutes=3), evidence={"seeded": True}))
        s.flush()
        for j in range(plan.n_problems()):
            cid, jurisdiction, _ = companies[j % len(companies)]
            rectified = j % 3 == 2
            s.add(tables.Problem(company_id=cid, listing_id=listing_of[cid], source="inspection", source_id=None,
                                 description=f"台账不全(种子 {j})", owner="负载测试运输公司", due=today + dt.timedelta(days=15),
                                 state="rectified" if rectified else "open", created_at=now,
                                 rectified_by=rng.choice([o.name for o in cast if o.jurisdiction in (jurisdiction, "*")] or ["seed-officer"])
                                 if rectified else None,
                                 rectified_at=now if rectified else None))
        s.flush()
        problems = {p.id: [p.state, p.rectified_by] for p in s.exec(select(tables.Problem)).all()}
        head = s.exec(select(tables.AuditHead)).one()
        vehicles = dict(s.exec(select(tables.Vehicle.plate, tables.Vehicle.vehicle_class)).all())
    return {"officers": [asdict(o) for o in cast], "problems": problems, "audit_seq": head.seq,
            "vehicles": vehicles, "findings": plan.n_findings(), "companies": len(companies)}


