"""The daily sampling run (每日抽查): for every listed company, draw ceil(10%) of its active
vehicles for a local day, fetch their trajectories (with context before and after the day) from
the platform, run the trajectory rules, attribute drivers, and store findings as `suspected`.

A platform failure is never the company's fault: a vehicle-day without a real answer stays
`selected` (its failures recorded on the sample), the run raises `SamplingIncomplete`, and the
scheduler runs it again with backoff; once the platform answers, the run completes. Only the
platform's answer that a known vehicle had no positions makes a `no_data` finding. Partial data
(too little of the moving time covered, or data stopping while moving) is a `partial_data`
finding and never a clean day. Statuses: rules/sampling.py.

Crash-safe and idempotent: the draw (with its inputs) is committed first; each batch's findings
and sample statuses are committed together, and only samples still waiting are written; a rerun
asks only for what is still waiting and changes nothing already stored.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import func, insert, update
from sqlmodel import Session, select

from listing.domain.policy import Actor, authorize
from listing.domain.states import State
from listing.services.read.samples import show  # noqa: F401 - re-exported
from listing.store.tables import Assignment, Company, Finding, Listing, Sample, SampleDraw, Vehicle
from listing.timeutil import LOCAL_TZ
from messages.errors import GuapaiError
from rules import sampling as rules_sampling
from rules.sampling import draw_key, last_sampled_before, select_sample

if TYPE_CHECKING:  # `sample show` and `sample verify` are read commands: polars only for the run
    import polars as pl

DATA_RULES = rules_sampling.DATA_RULES


class SamplingIncomplete(GuapaiError):
    """The platform left vehicle-days without an answer: the run is not done (retried later)."""

    def __init__(self, day: dt.date, waiting: int, total: int, error: str | None):
        super().__init__("err.sampling_waiting", day=day.isoformat(), waiting=waiting, total=total, error=error or "?")


@dataclass(frozen=True)
class SamplingConfig:
    context_before: dt.timedelta
    context_after: dt.timedelta
    min_moving_share: float
    notice_after: dt.timedelta
    batch: int

    @classmethod
    def of(cls, settings) -> "SamplingConfig":
        return cls(dt.timedelta(hours=settings.sampling_context_hours), dt.timedelta(hours=settings.sampling_after_hours),
                   settings.sampling_min_moving_coverage, dt.timedelta(hours=settings.sampling_notice_hours),
                   max(1, settings.sampling_batch))


def day_window(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day, dt.time(), tzinfo=LOCAL_TZ)
    return start, start + dt.timedelta(days=1)


def _secret(settings) -> bytes:
    if not settings.sampling_secret:
        raise GuapaiError("err.sampling_secret")
    return settings.sampling_secret.encode()


def _utc(value: dt.datetime) -> dt.datetime:
    """Aware UTC (naive values, as some stores return them, are UTC)."""
    return value.astimezone(dt.timezone.utc) if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


# --- the draw ---------------------------------------------------------------------------------

def listed_on(session: Session, day: dt.date) -> list[tuple[Listing, Company]]:
    """Listings in force on `day`: listed or under review, confirmed on or before it."""
    from listing.store.tables import Cycle

    rows = session.exec(select(Listing, Company).join(Company, Company.id == Listing.company_id).where(
        Listing.state.in_([State.LISTED.value, State.UNDER_REVIEW.value])).order_by(Company.uscc)).all()
    confirmed = dict(session.exec(select(Cycle.listing_id, Cycle.start).where(Cycle.number == 1)).all())
    return [(l, c) for l, c in rows if confirmed.get(l.id) and confirmed[l.id] <= day]


def first_day_owed(session: Session, since: dt.date) -> dt.date | None:
    """The oldest day, not before `since`, that the daily sampling owes a listing in force (its
    confirmation); None when no listing is in force."""
    from sqlalchemy import func

    from listing.store.tables import Cycle

    first = session.exec(select(func.min(Cycle.start)).join(Listing, Listing.id == Cycle.listing_id).where(
        Cycle.number == 1, Listing.state.in_([State.LISTED.value, State.UNDER_REVIEW.value]))).one()
    return None if first is None else max(first, since)


def active_vehicles(session: Session, company_id: int, day: dt.date) -> list[Vehicle]:
    return list(session.exec(select(Vehicle).where(
        Vehicle.company_id == company_id, Vehicle.active_from <= day,
        (Vehicle.active_to.is_(None)) | (Vehicle.active_to > day)).order_by(Vehicle.plate)).all())


def _history(session: Session, company_id: int, before_draw: int | None = None) -> list[tuple[str, dt.date]]:
    """(plate, day) of the company's samples made by draws before `before_draw` (all: None).
    Samples of an earlier version have no draw row: they were all drawn before any draw row."""
    query = (select(Vehicle.plate, Sample.day).join(Vehicle, Vehicle.id == Sample.vehicle_id)
             .join(SampleDraw, (SampleDraw.day == Sample.day) & (SampleDraw.company_id == Sample.company_id), isouter=True)
             .where(Sample.company_id == company_id))
    if before_draw is not None:
        query = query.where(SampleDraw.id.is_(None) | (SampleDraw.id < before_draw))
    return list(session.exec(query).all())


def draw_inputs(session: Session, company: Company, day: dt.date) -> tuple[list[Vehicle], dict[str, dt.date]]:
    """What a draw made now sees: the active vehicles and each one's last sampled day before `day`."""
    vehicles = active_vehicles(session, company.id, day)
    return vehicles, last_sampled_before(_history(session, company.id), day)


def select_day(store, settings, day: dt.date, *, now: dt.datetime) -> int:
    """Record the day's draws with their inputs (once per company, in bulk); returns how many
    samples the day has."""
    secret = _secret(settings)
    with store.session() as s:
        # drawn before (a retry, or a crash): keep that draw; a company without an active vehicle
        # has a draw that chose nothing, and samples without a draw row are an earlier version's
        existing = set(s.exec(select(SampleDraw.company_id).where(SampleDraw.day == day)).all())
        existing |= set(s.exec(select(Sample.company_id).where(Sample.day == day).distinct()).all())
        todo = [(listing, company) for listing, company in listed_on(s, day) if company.id not in existing]
        if todo:
            ids = [company.id for _, company in todo]
            fleet: dict[int, list[tuple[int, str]]] = {}
            for vid, plate, cid in s.exec(select(Vehicle.id, Vehicle.plate, Vehicle.company_id).where(
                    Vehicle.company_id.in_(ids), Vehicle.active_from <= day,
                    (Vehicle.active_to.is_(None)) | (Vehicle.active_to > day)).order_by(Vehicle.plate)).all():
                fleet.setdefault(cid, []).append((vid, plate))
            history: dict[int, list[tuple[str, dt.date]]] = {}
            for cid, plate, when in s.exec(select(Sample.company_id, Vehicle.plate, Sample.day).join(
                    Vehicle, Vehicle.id == Sample.vehicle_id).where(Sample.company_id.in_(ids), Sample.day < day)).all():
                history.setdefault(cid, []).append((plate, when))
            draws, samples = [], []
            for listing, company in todo:
                by_plate = {plate: vid for vid, plate in fleet.get(company.id, [])}
                last = last_sampled_before(history.get(company.id, []), day)
                chosen = select_sample(list(by_plate), last, day, company.uscc, secret, settings.sampling_fraction)
                draws.append({"day": day, "company_id": company.id, "listing_id": listing.id, "fraction": settings.sampling_fraction,
                              "vehicles": [[p, last[p].isoformat() if p in last else None] for p in by_plate],
                              "chosen": chosen, "drawn_at": _utc(now)})
                samples += [{"day": day, "company_id": company.id, "listing_id": listing.id, "vehicle_id": by_plate[p], "rank": rank,
                             "status": rules_sampling.WAITING, "points": 0, "attempts": 0} for rank, p in enumerate(chosen)]
            s.execute(insert(SampleDraw), draws)  # ids in this order: the draw order verify relies on
            if samples:
                s.execute(insert(Sample), samples)
        return s.exec(select(func.count()).select_from(Sample).where(Sample.day == day)).one()


# --- the run ------------------------------------------------------------------------------------

def _assignments(session: Session, vehicle_ids: list[int]) -> pl.DataFrame:
    import polars as pl

    rows = session.exec(select(Vehicle.plate, Assignment.driver_id, Assignment.start, Assignment.end)
                        .join(Vehicle, Vehicle.id == Assignment.vehicle_id).where(Assignment.vehicle_id.in_(vehicle_ids))).all()
    return pl.DataFrame([(p, str(d), s, e) for p, d, s, e in rows], orient="row",
                        schema={"vehicle": pl.Utf8, "driver": pl.Utf8, "start": pl.Datetime("us", "UTC"), "end": pl.Datetime("us", "UTC")})


def run_day(ctx, day: dt.date) -> dict:
    """The job's work for one local day. Raises SamplingIncomplete while the platform owes
    answers, PlatformConfigError (one line: the token on 401/403, the URL when the platform knows
    none of the vehicles asked)."""
    from listing.clients.platform import PlatformClient, PlatformConfigError
    from rules.trajectory import load_rules

    store, settings = ctx.store, ctx.settings
    cfg = SamplingConfig.of(settings)
    selected = select_day(store, settings, day, now=ctx.now)
    with store.session(readonly=True) as s:
        todo = s.exec(select(Sample.id, Sample.vehicle_id, Vehicle.plate, Vehicle.vehicle_class)
                      .join(Vehicle, Vehicle.id == Sample.vehicle_id)
                      .where(Sample.day == day, Sample.status == rules_sampling.WAITING).order_by(Sample.id)).all()
    counts = Counter({"selected": selected, "already_answered": selected - len(todo)})
    if todo:
        rules = load_rules()
        window = day_window(day)
        fetch = (window[0] - cfg.context_before, window[1])  # the context after the day is asked only where needed
        client = PlatformClient(settings.platform_url, settings.platform_token, transport=ctx.platform_transport)
        batches = [todo[first:first + cfg.batch] for first in range(0, len(todo), cfg.batch)]
        done = 0
        # the next batch is fetched while this one is judged and stored: waiting on the platform overlaps the work
        ahead = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sampling-fetch")
        pending = ahead.submit(client.fetch_many, [plate for _, _, plate, _ in batches[0]], *fetch)
        try:
            for k, batch in enumerate(batches):
                try:
                    fetched = pending.result()
                except PlatformConfigError as exc:
                    _record_failures(store, [sid for b in batches[k:] for sid, *_ in b], exc.message("en"), ctx.now)
                    _notice_if_overdue(store, ctx, day, cfg)
                    raise
                if k + 1 < len(batches):
                    pending = ahead.submit(client.fetch_many, [plate for _, _, plate, _ in batches[k + 1]], *fetch)
                with store.session(readonly=True) as s:
                    roster = _assignments(s, [vid for _, vid, _, _ in batch])
                items = [(sid, plate, cls) for sid, _, plate, cls in batch]
                judged = rules_sampling.judge(items, fetched, window, rules=rules, roster=roster if roster.height else None,
                               min_moving_share=cfg.min_moving_share)
                judged = _episodes_past_midnight(client, items, fetched, judged, window, cfg, rules=rules,
                                                 roster=roster if roster.height else None)
                for status, n in store_judged(store, judged, day, ctx.now).items():
                    counts[status] += n
                counts["findings"] += sum(len(j.findings) for j in judged if j.status != rules_sampling.WAITING)
                done += len(batch)
                if not ctx.heartbeat():
                    counts["lost_claim"] += 1  # another worker took the run over: stop, it will finish
                    break
                if ctx.progress:
                    ctx.progress(done, len(todo))
        finally:
            pending.cancel()
            ahead.shutdown(wait=True)
            client.close()
    waiting, last_error = _waiting(store, day)
    if waiting and not counts["lost_claim"]:
        _notice_if_overdue(store, ctx, day, cfg)
        raise SamplingIncomplete(day, waiting, selected, last_error)
    return dict(counts)


def _episodes_past_midnight(client, items, fetched: dict, judged: list[rules_sampling.Judged], window, cfg: SamplingConfig, *, rules,
                            roster) -> list[rules_sampling.Judged]:
    """A finding still going on when the day's data end (within max_gap_s of midnight) gets the
    hours after the day too, so its evidence is the whole episode: those vehicles only are asked
    again (the rest of the fleet is parked at midnight) and judged again. An unanswered request
    leaves the vehicle-day waiting, as any platform failure does."""
    import polars as pl

    from listing.clients.platform import FetchResult

    margin = dt.timedelta(seconds=float(rules.section("signal_gap")["max_gap_s"]))
    edge = window[1] - margin
    plate_of = {sid: plate for sid, plate, _ in items}
    going_on = sorted({plate_of[j.sample_id] for j in judged for f in j.findings
                       if f.rule not in DATA_RULES and f.end >= edge})
    if not going_on or cfg.context_after <= dt.timedelta(0):
        return judged
    after = client.fetch_many(going_on, window[1], window[1] + cfg.context_after)
    extended = dict(fetched)
    for plate in going_on:
        more, had = after[plate], fetched[plate]
        if not more.answered:
            extended[plate] = FetchResult(plate, "unavailable", error=f"the hours after the day: {more.error}")
        elif more.points:
            extended[plate] = FetchResult(plate, "ok", pl.concat([had.positions, more.positions]), pages=had.pages + more.pages)
    again = {j.sample_id: j for j in rules_sampling.judge([i for i in items if i[1] in going_on], extended, window, rules=rules,
                                           roster=roster, min_moving_share=cfg.min_moving_share)}
    return [again.get(j.sample_id, j) for j in judged]


def store_judged(store, judged: list[rules_sampling.Judged], day: dt.date, now: dt.datetime) -> Counter:
    """One transaction: findings and statuses of the samples still waiting (bulk); a sample some
    other worker answered meanwhile is left as it is. Failures are recorded on the sample only."""
    counts = Counter()
    with store.session() as s:
        ids = [j.sample_id for j in judged]
        rows = {r.id: r for r in s.exec(select(Sample).where(Sample.id.in_(ids))).all()}
        known = {(i, rule, _utc(start)) for i, rule, start in
                 s.exec(select(Finding.sample_id, Finding.rule, Finding.start).where(Finding.sample_id.in_(ids))).all()}
        findings, answered, failed = [], [], []
        for j in judged:
            row = rows[j.sample_id]
            if row.status != rules_sampling.WAITING:
                counts["already_answered"] += 1
                continue
            counts[j.status] += 1
            if j.status == rules_sampling.WAITING:
                failed.append(j)
                continue
            answered.append({"b_id": row.id, "status": j.status, "points": j.points, "coverage": j.quality,
                             "scanned_at": _utc(now)})
            for f in j.findings:
                start = _utc(f.start)
                if (row.id, f.rule, start) in known:
                    continue
                known.add((row.id, f.rule, start))
                findings.append({"sample_id": row.id, "day": row.day, "company_id": row.company_id, "vehicle_id": row.vehicle_id,
                                 "driver_id": int(f.driver) if f.driver and f.driver.isdigit() else None, "rule": f.rule,
                                 "regulation": f.regulation, "start": start, "end": _utc(f.end), "evidence": f.to_dict(),
                                 "state": "suspected", "version": 1})
        if findings:
            s.execute(insert(Finding), findings)
        if answered:
            from sqlalchemy import bindparam

            s.connection().execute(update(Sample.__table__).where(Sample.__table__.c.id == bindparam("b_id"))
                                   .values(status=bindparam("status"), points=bindparam("points"),
                                           coverage=bindparam("coverage"), scanned_at=bindparam("scanned_at")), answered)
        for j in failed:
            row = rows[j.sample_id]
            row.attempts += 1
            row.last_error = (j.error or "no answer")[:500]
            row.waiting_since = row.waiting_since or _utc(now)
            s.add(row)
    return counts


def _record_failures(store, sample_ids: list[int], error: str, now: dt.datetime) -> None:
    with store.session() as s:
        s.execute(update(Sample).where(Sample.id.in_(sample_ids), Sample.status == rules_sampling.WAITING)
                  .values(attempts=Sample.attempts + 1, last_error=error[:500],
                          waiting_since=func.coalesce(Sample.waiting_since, _utc(now)))
                  .execution_options(synchronize_session=False))


def _waiting(store, day: dt.date) -> tuple[int, str | None]:
    with store.session(readonly=True) as s:
        n = s.exec(select(func.count()).select_from(Sample).where(Sample.day == day, Sample.status == rules_sampling.WAITING)).one()
        return n, _waiting_error(s, day)


def _notice_if_overdue(store, ctx, day: dt.date, cfg: SamplingConfig) -> bool:
    """Once the day has waited notice_after for the platform (since its first failure), say so, once."""
    from listing.services.notifications import queue_notice
    from messages import t

    with store.session() as s:
        since, total = s.exec(select(func.min(Sample.waiting_since), func.count()).where(Sample.day == day)).one()
        waiting = s.exec(select(func.count()).select_from(Sample).where(Sample.day == day, Sample.status == rules_sampling.WAITING)).one()
        if since is None or not waiting:
            return False
        waited = _utc(ctx.now) - _utc(since)
        if waited < cfg.notice_after:
            return False
        last = _waiting_error(s, day)
        lang = ctx.settings.notify_lang
        params = {"day": day.isoformat(), "hours": round(waited.total_seconds() / 3600, 1), "waiting": waiting, "total": total,
                  "error": last or "?"}
        return queue_notice(s, ctx.channel, f"sampling-waiting:{day.isoformat()}", t("notify.sampling_waiting.title", lang),
                           t("notify.sampling_waiting.text", lang, **params), now=ctx.now)


def _waiting_error(session: Session, day: dt.date) -> str | None:
    return session.exec(select(Sample.last_error).where(Sample.day == day, Sample.status == rules_sampling.WAITING,
                                                        Sample.last_error.is_not(None)).order_by(Sample.id.desc()).limit(1)).first()


# --- verify and show ----------------------------------------------------------------------------

def verify(session: Session, actor: Actor, day: dt.date, company_ref: str, secret: bytes, fraction: float) -> dict:
    """Recompute a day's draw for a company from the inputs stored with it, check those inputs
    against the draws made before it, and compare with what was sampled."""
    authorize(actor, "data.read")
    company = session.exec(select(Company).where(Company.uscc == company_ref)).first()
    if company is None:
        from messages.errors import NotFound

        raise NotFound("err.company_unknown", company=company_ref)
    authorize(actor, "data.read", company.jurisdiction)
    return _verify(session, company, day, secret, fraction)


def _verify(session: Session, company: Company, day: dt.date, secret: bytes, fraction: float) -> dict:
    draw = session.exec(select(SampleDraw).where(SampleDraw.day == day, SampleDraw.company_id == company.id)).first()
    stored = list(session.exec(select(Vehicle.plate).join(Sample, Sample.vehicle_id == Vehicle.id).where(
        Sample.day == day, Sample.company_id == company.id).order_by(Sample.rank)).all())  # scalars: one column
    if draw is None:  # drawn by an earlier version: its inputs are the samples of the days before
        vehicles, last = draw_inputs(session, company, day)
        plates, inputs_ok = [v.plate for v in vehicles], True
    else:
        plates = [p for p, _ in draw.vehicles]
        last = {p: dt.date.fromisoformat(d) for p, d in draw.vehicles if d}
        fraction = draw.fraction
        inputs_ok = last == {p: d for p, d in last_sampled_before(_history(session, company.id, draw.id), day).items() if p in plates}
    expected = select_sample(plates, last, day, company.uscc, secret, fraction)
    keys = {p: draw_key(secret, day, company.uscc, p)[:16] for p in expected}
    match = expected == stored and inputs_ok and (draw is None or draw.chosen == stored)
    return {"day": day, "company": company.uscc, "expected": expected, "stored": stored, "match": match,
            "inputs_match_history": inputs_ok, "stored_inputs": draw is not None, "keys": keys}


def verify_day(session: Session, actor: Actor, day: dt.date, secret: bytes, fraction: float) -> list[dict]:
    """Every company's draw of a day that the actor may see."""
    authorize(actor, "data.read")
    companies = session.exec(select(Company).where(Company.id.in_(
        select(Sample.company_id).where(Sample.day == day).distinct())).order_by(Company.uscc)).all()
    return [_verify(session, c, day, secret, fraction) for c in companies if actor.city_level or c.jurisdiction == actor.jurisdiction]


