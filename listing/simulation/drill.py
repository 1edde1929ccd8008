"""The full demo: ~100 SIMULATED days of the whole mechanism through the real services and jobs.

A simulated city is built with a year of history; the rules propose listings, a reviewer
confirms them; then, day by day on a simulated clock, the real scheduler runs the jobs (sampling
through the real HTTP client against the SIMULATED platform, reminders, misses, deadlines)
while SIMULATED officers act: inspections (some on time, some late, some missed), findings
confirmed or dismissed, problems rectified and verified, monthly data imports (with a planted
effect of listing), and acceptance reviews. One company, listed long before, fails again and
escalates. Every write goes through the services, so every step is audited.
"""
from __future__ import annotations

import datetime as dt
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import polars as pl
from sqlmodel import select

from jobs.scheduler import simulated_clock, tick
from listing.domain.policy import SYSTEM_ACTOR
from listing.domain.states import Event
from listing.services import findings as findings_svc
from listing.services import imports, inspections, listings, problems, review, rules
from listing.services.demo import build_city
from listing.services.notifications import LogChannel
from listing.services.users import resolve_actor
from listing.settings import Settings
from listing.store.db import Store
from listing.store.tables import Company, Finding, Listing, Problem, Vehicle
from listing.timeutil import to_local
from listing.timeutil import LOCAL_TZ

PROFILES = ("diligent", "late", "negligent")


@dataclass
class DrillResult:
    start: dt.date
    end: dt.date
    outcomes: dict
    channel: LogChannel


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=LOCAL_TZ)


def _rng(seed: int, *parts) -> np.random.Generator:
    import hashlib

    return np.random.default_rng(int.from_bytes(hashlib.sha256("|".join(map(str, (seed, *parts))).encode()).digest()[:8], "big"))


def run(store: Store, *, seed: int, today: dt.date, days: int = 100, step: Callable[[str, int, int], None] = lambda *a: None,
        city_plan=None) -> DrillResult:
    from listing.simulation.platform import PlantRates, SimulatorProcess
    from listing.simulation.city import CityPlan

    start = today - dt.timedelta(days=days)
    step("demo.step.city", 0, days)
    # smaller fleets than the default city keep the daily sampling of the drill quick
    truth = build_city(store, seed=seed, as_of=start, now=_at(start, 8), plan=city_plan or CityPlan(mean_fleet=10))["truth"]
    with store.session(readonly=True) as s:
        reviewer, police, transport = (resolve_actor(s, n) for n in ("reviewer.zhao", "police.wang", "transport.li"))
    # a repeat offender: listed ~3 months before the drill, its first cycle already failed
    repeat = _repeat_offender(store, reviewer, start, seed)
    with store.session() as s:
        proposed = rules.apply(s, SYSTEM_ACTOR, start, now=_at(start, 9))["proposed"]
    for p in proposed:
        with store.session() as s:
            listings.apply(s, reviewer, p["listing_id"], Event.CONFIRM, now=_at(start, 10), reason="依据挂牌整治标准")
    with store.session(readonly=True) as s:
        open_listings = s.exec(select(Listing).where(Listing.state == "listed")).all()
        profile = {l.company_id: ("negligent" if l.id == repeat else PROFILES[(l.id + seed) % 3]) for l in open_listings}
        fleet = {v.plate: (v.vehicle_class, v.company_id) for v in s.exec(select(Vehicle)).all()}

    plant_rate = PlantRates({plate: profile.get(cid) for plate, (_, cid) in fleet.items()}, start)

    channel = LogChannel(sink=lambda text: None)
    outcomes = {"job_runs": 0, "inspections": 0, "findings_confirmed": 0, "findings_dismissed": 0, "problems_verified": 0,
                "decisions": {}, "imports": 0}
    # the platform on every core: each sampled vehicle's days are generated fresh (rotation), and the
    # job waits for them (listing.simulation is the demo's: one argument, for its speed)
    with SimulatorProcess({p: c for p, (c, _) in fleet.items()}, seed=seed, plant_rates=plant_rate,
                          workers=os.cpu_count() or 1) as sim, \
            tempfile.TemporaryDirectory(prefix="guapai-drill-") as folder:
        settings = Settings(platform_url=sim.url, platform_token="sim-token", sampling_secret=f"demo-{seed}",
                            catch_up_days=1, remind_from_day=20,
                            sampling_catch_up_days=1)  # the drill samples from its own start: the repeat offender's
                            # earlier cycle is history it was not simulated for
        clock, advance = simulated_clock(_at(start + dt.timedelta(days=1), 9, 30))
        for i in range(days):
            day = clock().astimezone(LOCAL_TZ).date()
            step("demo.step.day", i + 1, days)
            outcomes["job_runs"] += sum(o.status == "done" for o in tick(store, settings, channel, clock=clock))
            _officers(store, day, profile, seed, police, transport, outcomes, clock)
            _reviews(store, day, reviewer, clock, outcomes)
            if day.day == 1:
                outcomes["imports"] += _monthly_data(store, police, seed, day, truth, Path(folder), clock)
            advance(dt.timedelta(days=1))
    return DrillResult(start, today, outcomes, channel)


def _repeat_offender(store: Store, reviewer, start: dt.date, seed: int) -> int | None:
    with store.session() as s:
        flagged = rules.check(s, reviewer, start - dt.timedelta(days=95))["flagged"]
    if not flagged:
        return None
    company = flagged[-1]["company_id"]
    first = start - dt.timedelta(days=95)
    with store.session() as s:
        lid = listings.propose(s, SYSTEM_ACTOR, company, rules_version=rules.active_rules(s, first).version,
                               explanation={"criteria": flagged[-1]["explanation"][:1] and
                                            [{k: v for k, v in flagged[-1]["explanation"][0].items() if k != "records"}]},
                               now=_at(first, 9)).id
        listings.apply(s, reviewer, lid, Event.CONFIRM, now=_at(first, 10))
    with store.session() as s:
        row = s.get(Listing, lid)
        listings.apply(s, SYSTEM_ACTOR, lid, Event.END_CYCLE, now=_at(row.cycle_due, 0, 10))
    with store.session() as s:
        row = s.get(Listing, lid)
        listings.apply(s, reviewer, lid, Event.FAIL, now=_at(row.cycle_due + dt.timedelta(days=1), 15),
                       reason="上一周期检查缺失、问题未整改")
    return lid


def _officers(store: Store, day: dt.date, profile: dict, seed: int, police, transport, outcomes: dict, clock) -> None:
    now = clock()
    with store.session(readonly=True) as s:
        active = s.exec(select(Listing, Company).join(Company, Company.id == Listing.company_id)
                        .where(Listing.state.in_(["listed", "under_review"]))).all()
    for listing, company in active:
        kind = profile.get(company.id, "late")
        rng = _rng(seed, company.id, day.year, day.month)
        plan = {"diligent": {"transport": 5 + int(rng.integers(0, 5)), "police": 8 + int(rng.integers(0, 6))},
                "late": {"transport": 24 + int(rng.integers(0, 4)), "police": 22 + int(rng.integers(0, 5))},
                "negligent": {"transport": 26 if rng.random() < 0.5 else None, "police": None}}[kind]
        confirmed = listing.cycle_start if listing.cycle == 1 else None
        for dept, who in (("transport", transport), ("police", police)):
            planned = plan[dept]
            if planned is not None and confirmed and (confirmed.year, confirmed.month) == (day.year, day.month) \
                    and planned <= confirmed.day:
                planned = confirmed.day + (2 if dept == "transport" else 4)  # listed mid-month: visit soon after
            if planned == day.day:
                with store.session() as s:
                    problem = [("安全台账不全", day + dt.timedelta(days=10))] if rng.random() < 0.5 else []
                    inspections.record(s, who, company.uscc, dept, day, now=now, findings=["例行检查"], problems=problem)
                outcomes["inspections"] += 1
    # police review yesterday's findings: most confirmed, device errors dismissed
    with store.session(readonly=True) as s:
        todo = s.exec(select(Finding.id, Finding.rule).where(Finding.state == "suspected", Finding.day < day)).all()
    with store.session() as s:  # one sitting: the day's reviews commit together
        confirming = []  # confirmed together, up to the next dismissal: the same order of events as one by one
        for fid, rule in todo:
            if _rng(seed, "finding", fid).random() < 0.15 and rule not in ("no_data", "partial_data"):
                findings_svc.confirm_many(s, police, confirming, now=now)
                confirming = []
                findings_svc.dismiss(s, police, fid, reason="设备误报(经核实)", now=now)
                outcomes["findings_dismissed"] += 1
            else:
                confirming.append(fid)
                outcomes["findings_confirmed"] += 1
        findings_svc.confirm_many(s, police, confirming, now=now)
    # diligent and late companies rectify within days; a different officer verifies
    with store.session(readonly=True) as s:
        open_ = s.exec(select(Problem.id, Problem.company_id, Problem.state, Problem.created_at)
                       .where(Problem.state.in_(["open", "reopened", "rectified"]))).all()
    with store.session() as s:
        for pid, cid, state, created in open_:
            kind = profile.get(cid, "late")
            age = (now - created).days
            if kind == "negligent":
                continue
            if state in ("open", "reopened") and age >= (3 if kind == "diligent" else 8):
                problems.change(s, transport, pid, "rectify", now=now, note="已整改")
            elif state == "rectified" and age >= (5 if kind == "diligent" else 12):
                problems.change(s, police, pid, "verify", now=now, note="现场核实")
                outcomes["problems_verified"] += 1


def _reviews(store: Store, day: dt.date, reviewer, clock, outcomes: dict) -> None:
    with store.session(readonly=True) as s:
        # reviewers meet a week after a cycle ends (the review is due within two weeks)
        due = s.exec(select(Listing.id).where(Listing.state == "under_review",
                                              Listing.cycle_due <= day - dt.timedelta(days=7))).all()
    for lid in due:
        with store.session(readonly=True) as s:
            recommendation = review.show(s, reviewer, lid, today=to_local(clock()).date())["recommendation"]
        with store.session() as s:
            row = review.decide(s, reviewer, lid, recommendation == "pass", now=clock(), channel=LogChannel(sink=lambda t: None),
                                reason="验收通过,予以摘牌" if recommendation == "pass" else "验收未通过,继续挂牌整治")
        outcomes["decisions"][lid] = "delisted" if row.state == "delisted" else ("escalated" if row.escalated else "continued")


def _monthly_data(store: Store, police, seed: int, day: dt.date, truth, folder: Path, clock) -> int:
    """Last month's camera violations and accidents, imported by the police as a file: every
    company at its own risk and luck, listed companies' rates cut by the SIMULATED effect of
    listing (listing.simulation.city.PLANTED_EFFECT) from their listing on."""
    from listing.simulation.city import later_counts

    last = day - dt.timedelta(days=1)
    first = max(last.replace(day=1), truth.year_start + dt.timedelta(days=365))  # the history ends there
    with store.session(readonly=True) as s:
        vehicles = s.exec(select(Vehicle.plate, Company.uscc).join(Company, Company.id == Vehicle.company_id)
                          .where(Vehicle.active_from <= first)
                          .where((Vehicle.active_to == None) | (Vehicle.active_to > last))).all()  # noqa: E711
        listed = set(s.exec(select(Company.uscc).join(Listing, Listing.company_id == Company.id)
                            .where(Listing.state.in_(["listed", "under_review", "delisted"]))).all())
    rng = _rng(seed, "month", first)
    n_days = (last - first).days + 1
    violations, accidents = later_counts(truth, rng, [u for _, u in vehicles], first, n_days, listed)
    rows_v, rows_a = [], []
    for (plate, _), k, a in zip(vehicles, violations, accidents):
        for _ in range(k):
            when = dt.datetime.combine(first + dt.timedelta(days=int(rng.integers(0, n_days))), dt.time(int(rng.integers(6, 23)),
                                       int(rng.integers(0, 60)), int(rng.integers(0, 60))))
            rows_v.append({"occurred_at": when.strftime("%Y-%m-%d %H:%M:%S"), "plate": plate, "code": "1352", "points": "3",
                           "source": "camera"})
        for _ in range(a):
            when = dt.datetime.combine(first + dt.timedelta(days=int(rng.integers(0, n_days))), dt.time(int(rng.integers(6, 20)),
                                       int(rng.integers(0, 60))))
            rows_a.append({"occurred_at": when.strftime("%Y-%m-%d %H:%M:%S"), "plate": plate, "fatalities": "0",
                           "injuries": "1", "responsibility": "equal"})
    count = 0
    for kind, rows in (("violations", rows_v), ("accidents", rows_a)):
        if not rows:
            continue
        path = folder / f"{kind}-{first:%Y-%m}.csv"
        pl.DataFrame(rows).unique(subset=["plate", "occurred_at"] + (["code"] if kind == "violations" else []), maintain_order=True).write_csv(path)
        with store.session() as s:
            result = imports.import_file(s, police, kind, path, now=clock())
        if not result.ok:
            raise RuntimeError(f"drill import rejected: {result.errors[:3]}")
        count += result.inserted
    return count
