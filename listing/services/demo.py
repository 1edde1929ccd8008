"""`guapai demo`: a fresh SIMULATED city loaded through the real services (users, imports,
audit), ending in a summary. Later capabilities extend it until it runs the whole mechanism."""
from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Callable

from sqlmodel import func, select

from listing.services import audit, imports, users
from listing.store.db import Store
from listing.store.tables import Accident, Company, Driver, Vehicle, Violation

DEMO_USERS = [  # name, role, department, jurisdiction
    ("admin", "admin", "信息中心", "*"),
    ("police.wang", "police", "交警支队", "*"),
    ("transport.li", "transport", "运管处", "*"),
    ("reviewer.zhao", "reviewer", "市交通安全委员会", "*"),
    ("police.xihu", "police", "西湖交警大队", "西湖区"),
]
IMPORT_ORDER = [  # kind, the user who brings that data in
    ("companies", "transport.li"), ("vehicles", "transport.li"), ("drivers", "transport.li"),
    ("assignments", "transport.li"), ("accidents", "police.wang"), ("violations", "police.wang"),
]


def is_empty(store: Store) -> bool:
    with store.session() as session:
        return session.exec(select(func.count()).select_from(Company)).one() == 0


def build_city(store: Store, *, seed: int, as_of: dt.date, now: dt.datetime,
               step: Callable[[str], None] = lambda _: None, plan=None) -> dict:
    """Load a SIMULATED city into an empty store through the real services; return a summary."""
    from listing.simulation.city import synthetic_city

    step("demo.step.users")
    with store.session() as session:
        for name, role, department, jurisdiction in DEMO_USERS:
            users.add_user(session, "admin", name, role, department, jurisdiction, now=now)
    step("demo.step.city")
    from listing.simulation.city import CityPlan

    city = synthetic_city(seed, as_of, plan or CityPlan())
    results = {}
    with tempfile.TemporaryDirectory(prefix="guapai-demo-") as folder:
        for kind, who in IMPORT_ORDER:
            step("demo.step.import")
            path = Path(folder) / f"{kind}.csv"
            city[kind].write_csv(path)
            with store.session() as session:
                actor = users.resolve_actor(session, who)
                result = imports.import_file(session, actor, kind, path, now=now)
            if not result.ok:  # the simulated city is valid by construction; say loudly if not
                raise RuntimeError(f"demo import of {kind} rejected: {result.errors[:3]}")
            results[kind] = result.rows
    step("demo.step.verify")
    with store.session() as session:
        verdict = audit.verify(session, users.resolve_actor(session, "admin"))
        summary = _summary(session, as_of)
    summary.update(seed=seed, as_of=as_of, imported=results, audit_ok=verdict.ok, audit_events=verdict.checked,
                   planted_bad=city["planted_bad"]["uscc"].to_list(), truth=city["truth"])
    return summary


def _summary(session, as_of: dt.date) -> dict:
    counts = {t.__tablename__: session.exec(select(func.count()).select_from(t)).one()
              for t in (Company, Vehicle, Driver, Accident, Violation)}
    by_type = dict(session.exec(select(Company.business_type, func.count()).group_by(Company.business_type)).all())
    fatal = session.exec(select(func.coalesce(func.sum(Accident.fatalities), 0))).one()
    # The companies with most violations per vehicle: a first look, before the listing rules.
    rows = session.exec(
        select(Company.name, Company.uscc, Company.jurisdiction, func.count(func.distinct(Vehicle.id)), func.count(Violation.id))
        .join(Vehicle, Vehicle.company_id == Company.id)
        .join(Violation, Violation.vehicle_id == Vehicle.id, isouter=True)
        .group_by(Company.id).order_by((func.count(Violation.id) * 1.0 / func.count(func.distinct(Vehicle.id))).desc()).limit(8)
    ).all()
    worst = [{"name": n, "uscc": u, "jurisdiction": j, "vehicles": v,
              "violations": c, "per_vehicle": round(c / v, 2) if v else None} for n, u, j, v, c in rows]
    return {"counts": counts, "business_types": by_type, "deaths": int(fatal), "worst_by_violations": worst}
