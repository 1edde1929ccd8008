"""The daily sampling run (每日抽查): for every listed company, draw ceil(10%) of its active
vehicles for a local day, fetch their trajectories from the platform, run the trajectory
rules, attribute drivers, and store findings as `suspected`. No data, or partial data, is a
finding of its own: never a clean vehicle.

Crash-safe and idempotent: the selection is committed first; each vehicle's findings and its
sample status are committed together; a rerun scans only what is not yet scanned, and unique
keys stop any finding from being stored twice.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict

import polars as pl
from sqlalchemy import func
from sqlmodel import Session, select

from listing.domain.policy import Actor, authorize
from listing.domain.states import State
from listing.errors import GuapaiError
from listing.i18n import register
from listing.store.tables import Assignment, Company, Finding, Listing, Sample, Vehicle
from listing.timeutil import LOCAL_TZ
from rules.sampling import draw_key, select_sample

register({"err.sampling_secret": ("未配置抽样密钥(GUAPAI_SAMPLING_SECRET)", "no sampling secret configured (GUAPAI_SAMPLING_SECRET)")})

MARGIN = dt.timedelta(hours=4)  # context before the day, for fatigue and episodes over midnight
DATA_RULES = ("no_data", "partial_data")


def day_window(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day, dt.time(), tzinfo=LOCAL_TZ)
    return start, start + dt.timedelta(days=1)


def _secret(settings) -> bytes:
    if not settings.sampling_secret:
        raise GuapaiError("err.sampling_secret")
    return settings.sampling_secret.encode()


def listed_on(session: Session, day: dt.date) -> list[tuple[Listing, Company]]:
    """Listings in force on `day`: listed or under review, confirmed on or before it."""
    rows = session.exec(select(Listing, Company).join(Company, Company.id == Listing.company_id).where(
        Listing.state.in_([State.LISTED.value, State.UNDER_REVIEW.value])).order_by(Company.uscc)).all()
    from listing.store.tables import Cycle

    confirmed = dict(session.exec(select(Cycle.listing_id, Cycle.start).where(Cycle.number == 1)).all())
    return [(l, c) for l, c in rows if confirmed.get(l.id) and confirmed[l.id] <= day]


def active_vehicles(session: Session, company_id: int, day: dt.date) -> list[Vehicle]:
    return list(session.exec(select(Vehicle).where(
        Vehicle.company_id == company_id, Vehicle.active_from <= day,
        (Vehicle.active_to.is_(None)) | (Vehicle.active_to > day)).order_by(Vehicle.plate)).all())


def selection(session: Session, company: Company, day: dt.date, secret: bytes, fraction: float) -> list[Vehicle]:
    """The verifiable draw for one company and day (history: samples before `day`)."""
    vehicles = active_vehicles(session, company.id, day)
    last = dict(session.exec(select(Sample.vehicle_id, func.max(Sample.day)).where(
        Sample.company_id == company.id, Sample.day < day).group_by(Sample.vehicle_id)).all())
    by_plate = {v.plate: v for v in vehicles}
    chosen = select_sample(list(by_plate), {v.plate: last.get(v.id) for v in vehicles}, day, company.uscc, secret, fraction)
    return [by_plate[p] for p in chosen]


def select_day(store, settings, day: dt.date) -> int:
    """Record the day's samples (once); returns how many samples the day has."""
    secret = _secret(settings)
    with store.session() as s:
        existing = set(s.exec(select(Sample.company_id).where(Sample.day == day).distinct()).all())
        for listing, company in listed_on(s, day):
            if company.id in existing:
                continue  # selected before a crash: keep that selection
            for rank, vehicle in enumerate(selection(s, company, day, secret, settings.sampling_fraction)):
                s.add(Sample(day=day, company_id=company.id, listing_id=listing.id, vehicle_id=vehicle.id, rank=rank))
        s.flush()
        return s.exec(select(func.count()).select_from(Sample).where(Sample.day == day)).one()


def _assignments(session: Session, vehicle_ids: list[int]) -> pl.DataFrame:
    rows = session.exec(select(Vehicle.plate, Assignment.driver_id, Assignment.start, Assignment.end)
                        .join(Vehicle, Vehicle.id == Assignment.vehicle_id).where(Assignment.vehicle_id.in_(vehicle_ids))).all()
    return pl.DataFrame([(p, str(d), s, e) for p, d, s, e in rows], orient="row",
                        schema={"vehicle": pl.Utf8, "driver": pl.Utf8, "start": pl.Datetime("us", "UTC"), "end": pl.Datetime("us", "UTC")})


def run_day(ctx, day: dt.date) -> dict:
    """The job's work for one local day."""
    from jobs.platform.client import PlatformClient
    from rules.trajectory import load_rules, read_platform_json, scan

    store, settings = ctx.store, ctx.settings
    selected = select_day(store, settings, day)
    with store.session(readonly=True) as s:
        todo = s.exec(select(Sample, Vehicle).join(Vehicle, Vehicle.id == Sample.vehicle_id).where(
            Sample.day == day, Sample.status == "selected").order_by(Sample.id)).all()
    counts = defaultdict(int)
    counts["selected"] = selected
    counts["already_scanned"] = selected - len(todo)
    if not todo:
        return dict(counts)
    rules = load_rules()
    start, end = day_window(day)
    client = PlatformClient(settings.platform_url, settings.platform_token, transport=ctx.platform_transport)
    done = 0
    try:
        size = max(1, settings.sampling_batch)
        for first in range(0, len(todo), size):
            batch = todo[first:first + size]
            plates = [v.plate for _, v in batch]
            fetched = client.fetch_many(plates, start - MARGIN, end + MARGIN)
            pages = [{"vehicle": p, "positions": r.positions} for p, r in fetched.items() if r.positions]
            points = read_platform_json(pages).points
            with store.session(readonly=True) as s:
                roster = _assignments(s, [v.id for _, v in batch])
            result = scan(points, vehicle_class={v.plate: v.vehicle_class for _, v in batch}, rules=rules,
                          assignments=roster if roster.height else None, window=(start, end), expected_vehicles=plates)
            by_vehicle = defaultdict(list)
            for f in result.findings:
                by_vehicle[f.vehicle].append(f)
            for sample, vehicle in batch:
                outcome = _store_vehicle(store, sample, vehicle, fetched[vehicle.plate], result.coverage.get(vehicle.plate),
                                         by_vehicle[vehicle.plate], start, end, ctx.now)
                counts[outcome] += 1
                counts["findings"] += len(by_vehicle[vehicle.plate])
            done += len(batch)
            if not ctx.heartbeat():
                counts["lost_claim"] += 1  # another worker took the run over: stop, it will finish
                break
            if ctx.progress:
                ctx.progress(done, len(todo))
    finally:
        client.close()
    return dict(counts)


def _store_vehicle(store, sample: Sample, vehicle: Vehicle, fetched, coverage, findings, start, end, now) -> str:
    """One vehicle's outcome, in one transaction with its findings."""
    from rules.trajectory import Finding as Found

    status = "scanned"
    extra: list = []
    points = coverage.points if coverage else 0
    if fetched.status in ("missing", "failed") or points == 0:
        status = "no_data" if fetched.status != "failed" else "failed"
        extra.append(Found(rule="no_data", regulation="道路运输车辆动态监督管理办法(车载终端应保持在线)", vehicle=vehicle.plate,
                           start=start.astimezone(dt.timezone.utc), end=end.astimezone(dt.timezone.utc),
                           details={"platform": fetched.status, "error": fetched.error}))
    elif fetched.status == "partial":
        status = "partial"
        extra.append(Found(rule="partial_data", regulation="道路运输车辆动态监督管理办法(车载终端应保持在线)", vehicle=vehicle.plate,
                           start=start.astimezone(dt.timezone.utc), end=end.astimezone(dt.timezone.utc), point_count=points,
                           details={"platform": fetched.status, "error": fetched.error,
                                    "covered_fraction": coverage.covered_fraction if coverage else 0.0}))
    with store.session() as s:
        row = s.get(Sample, sample.id)
        if row.status != "selected":
            return "already_scanned"  # another worker finished it
        known = set(s.exec(select(Finding.rule, Finding.start).where(Finding.sample_id == row.id)).all())
        for f in [*findings, *extra]:
            if (f.rule, f.start) in known or (f.rule, f.start.replace(tzinfo=None)) in known:
                continue
            s.add(Finding(sample_id=row.id, day=row.day, company_id=row.company_id, vehicle_id=row.vehicle_id,
                          driver_id=int(f.driver) if f.driver and f.driver.isdigit() else None, rule=f.rule,
                          regulation=f.regulation, start=f.start, end=f.end, evidence=f.to_dict()))
        row.status, row.points, row.scanned_at = status, points, now
        row.coverage = coverage.as_dict() if coverage else None
        s.add(row)
    return status


def verify(session: Session, actor: Actor, day: dt.date, company_ref: str, secret: bytes, fraction: float) -> dict:
    """Recompute a day's draw for a company and compare it with what was sampled."""
    authorize(actor, "data.read")
    company = session.exec(select(Company).where(Company.uscc == company_ref)).first()
    if company is None:
        from listing.errors import NotFound

        raise NotFound("err.company_unknown", company=company_ref)
    authorize(actor, "data.read", company.jurisdiction)
    expected = [v.plate for v in selection(session, company, day, secret, fraction)]
    stored = list(session.exec(select(Vehicle.plate).join(Sample, Sample.vehicle_id == Vehicle.id).where(
        Sample.day == day, Sample.company_id == company.id).order_by(Sample.rank)).all())  # scalars: one column
    keys = {p: draw_key(secret, day, company.uscc, p)[:16] for p in expected}
    return {"day": day, "company": company.uscc, "expected": expected, "stored": stored, "match": expected == stored,
            "keys": keys}


def show(session: Session, actor: Actor, day: dt.date | None, company_ref: str | None, days: int = 1) -> list[dict]:
    """The samples of `day`, or without one of the `days` most recent sampled days."""
    authorize(actor, "data.read")
    query = (select(Sample, Vehicle.plate, Company.name, Company.uscc, Company.jurisdiction)
             .join(Vehicle, Vehicle.id == Sample.vehicle_id).join(Company, Company.id == Sample.company_id)
             .order_by(Sample.day.desc(), Company.uscc, Sample.rank))
    scope = []
    if company_ref:
        scope.append(Company.uscc == company_ref)
    if not actor.city_level:
        scope.append(Company.jurisdiction == actor.jurisdiction)
    if day:
        query = query.where(Sample.day == day)
    else:  # every day ever sampled is no one's question (and was seconds of table to print)
        recent = (select(Sample.day).join(Company, Company.id == Sample.company_id).where(*scope)
                  .distinct().order_by(Sample.day.desc()).limit(days))
        query = query.where(Sample.day.in_(recent.scalar_subquery()))
    rows = session.exec(query.where(*scope).limit(5000)).all()
    counts = dict(session.exec(select(Finding.sample_id, func.count()).where(
        Finding.sample_id.in_([r[0].id for r in rows])).group_by(Finding.sample_id)).all()) if rows else {}
    return [{"day": s.day, "company": name, "uscc": uscc, "plate": plate, "rank": s.rank, "status": s.status,
             "points": s.points, "findings": counts.get(s.id, 0)} for s, plate, name, uscc, _ in rows]


register(
    {
        "col.day": ("日期", "day"),
        "col.points": ("点数", "points"),
        "col.findings": ("线索", "findings"),
        "col.rank": ("序", "rank"),
        "col.stored": ("实际抽取", "sampled"),
        "col.key": ("抽样密钥摘要", "draw key"),
        "msg.sample_match": ("复核一致:抽样结果可由密钥重算", "verified: the stored sample is exactly the keyed draw"),
        "msg.sample_mismatch": ("复核不一致:实际抽样与重算结果不同", "MISMATCH: the stored sample differs from the keyed draw"),
        "msg.platform_serving": ("模拟监控平台运行于 {url}({n} 辆车);Ctrl-C 停止", "simulated platform at {url} ({n} vehicles); Ctrl-C to stop"),
    }
)
