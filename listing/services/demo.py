"""`guapai demo`: a fresh SIMULATED city loaded through the real services (users, imports,
audit), ending in a summary. Later capabilities extend it until it runs the whole mechanism."""
from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Callable

from sqlmodel import func, select

from listing.i18n import register
from listing.services import audit, imports, users
from listing.store.db import Store
from listing.store.tables import Accident, Company, Driver, Vehicle, Violation

register(
    {
        "demo.step.users": ("创建用户", "creating users"),
        "demo.step.city": ("生成模拟城市", "generating the simulated city"),
        "demo.step.import": ("导入 {kind}", "importing {kind}"),
        "demo.step.verify": ("校验审计链", "verifying the audit chain"),
        "demo.step.day": ("模拟第 {day}/{days} 天", "simulated day {day}/{days}"),
        "demo.done": ("guapai 演示:模拟城市挂牌整治 {start} 至 {end}", "guapai demo: listed rectification in a simulated city, {start} to {end}"),
        "demo.outcomes": ("任务运行 {runs} 次;检查 {inspections} 次;线索确认 {confirmed}、驳回 {dismissed};问题验证 {verified};导入违法/事故 {imported} 条",
                          "{runs} job runs; {inspections} inspections; findings {confirmed} confirmed, {dismissed} dismissed; {verified} problems verified; {imported} violations/accidents imported"),
        "demo.decisions": ("验收:摘牌 {delisted},继续挂牌 {continued},升级 {escalated}", "acceptance: {delisted} delisted, {continued} continued, {escalated} escalated"),
        "demo.effect": ("挂牌效果(车均违法,匹配双重差分):{did}(95%区间 {lo} 至 {hi});简单前后对比 {raw};{n} 个案件;模拟植入的真实效果 {planted}",
                        "effect of listing on violations per vehicle (matched DiD): {did} (95% interval {lo} to {hi}); raw before/after {raw}; {n} listings; planted (SIMULATED truth) {planted}"),
        "demo.report": ("报告:{path}", "report: {path}"),
        "err.demo_not_empty": ("数据库 {url} 已有数据;演示需要空库(或不带 --db 使用默认演示库)", "database {url} is not empty; the demo needs an empty one (or omit --db to use the demo database)"),
    }
)

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


register(
    {
        "demo.title": ("guapai 演示:模拟城市已建成", "guapai demo: the simulated city is built"),
        "demo.seed": ("种子", "seed"),
        "demo.as_of": ("截至", "as of"),
        "demo.counts": ("企业 {companies} 家,车辆 {vehicles} 辆,驾驶员 {drivers} 人;近一年事故 {accidents} 起(死亡 {deaths} 人),违法 {violations} 起",
                        "{companies} companies, {vehicles} vehicles, {drivers} drivers; last 12 months: {accidents} accidents ({deaths} deaths), {violations} violations"),
        "demo.types": ("业务类型:", "business types: "),
        "demo.worst": ("车均违法最多的企业(挂牌规则见 guapai rules)", "Most violations per vehicle (the listing rules come in `guapai rules`)"),
        "demo.next": ("继续查看:guapai --db {db} --as reviewer.zhao board(或 findings list、review show、report effect)",
                      "explore: guapai --db {db} --as reviewer.zhao board (or findings list, review show, report effect)"),
        "col.per_vehicle": ("车均", "per vehicle"),
    }
)
