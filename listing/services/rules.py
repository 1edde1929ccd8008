"""Listing rules as a service: metrics aggregated in the database, criteria applied in
vectorised code (rules.criteria), explanations with the records behind them, proposals,
rule versions and backtests."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from sqlalchemy import and_, case, func, literal, or_
from sqlmodel import Session, select

from listing.domain import lookback
from listing.domain.policy import Actor, authorize
from listing.domain.states import OPEN_STATES, add_months
from listing.services import audit, listings
from listing.store.tables import (
    Accident,
    Company,
    Cycle,
    Listing,
    RuleVersion,
    Vehicle,
    VehicleOwnership,
    Violation,
)
from listing.timeutil import LOCAL_TZ
from messages.errors import Conflict, NotFound
from rules.criteria import config
from rules.criteria.config import RuleSet
from rules.criteria.evaluate import AGGREGATE_COLUMNS, evaluate, explanation

RECORDS_SHOWN = 20  # records listed per criterion in an explanation (the count is always full)
# a trajectory violation whose finding was reopened or voided stays stored and counts nowhere
COUNTED_VIOLATION = Violation.voided_at.is_(None)


@dataclass(frozen=True)
class Window:
    """(as_of - window_months, as_of], in local calendar days; events compared in UTC."""

    start: dt.date  # first day inside
    end: dt.date  # first day after

    @classmethod
    def ending(cls, as_of: dt.date, months: int) -> "Window":
        return cls(add_months(as_of, -months) + dt.timedelta(days=1), as_of + dt.timedelta(days=1))

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def utc(self) -> tuple[dt.datetime, dt.datetime]:
        return tuple(dt.datetime.combine(d, dt.time(), tzinfo=LOCAL_TZ).astimezone(dt.timezone.utc) for d in (self.start, self.end))


# ---- rule versions ------------------------------------------------------------------------

def stored_versions(session: Session) -> list[RuleVersion]:
    return list(session.exec(select(RuleVersion).order_by(RuleVersion.effective_from, RuleVersion.id)).all())


def active_rules(session: Session, on: dt.date) -> RuleSet:
    """The stored version in force on `on`; the shipped default while none is stored."""
    row = session.exec(select(RuleVersion).where(RuleVersion.effective_from <= on)
                       .order_by(RuleVersion.effective_from.desc(), RuleVersion.id.desc())).first()
    return config.parse(row.source) if row else config.load()


def rules_version(session: Session, version: str) -> RuleSet:
    row = session.exec(select(RuleVersion).where(RuleVersion.version == version)).first()
    if row is None:
        if version == config.load().version:
            return config.load()
        raise NotFound("err.rules_version_unknown", version=version)
    return config.parse(row.source)


def load_rules(session: Session, actor: Actor, path: Path | None, *, now: dt.datetime) -> tuple[RuleSet, bool]:
    """Store a rules file as a version; (rules, newly stored?). Same version + same text: no-op."""
    authorize(actor, "rules.change")
    rules = config.load(path)
    existing = session.exec(select(RuleVersion).where(RuleVersion.version == rules.version)).first()
    if existing is not None:
        if existing.sha256 != rules.sha256:
            raise Conflict("err.rules_version_conflict", version=rules.version)
        return rules, False
    session.add(RuleVersion(version=rules.version, effective_from=rules.effective_from, source=rules.source,
                            sha256=rules.sha256, loaded_by=actor.name, loaded_at=now))
    session.flush()
    audit.record(session, actor, "rules.load", "rule_version", rules.version, at=now,
                 after={"version": rules.version, "effective_from": rules.effective_from.isoformat(), "sha256": rules.sha256})
    return rules, True


# ---- metrics ------------------------------------------------------------------------------

def _exposure_days(dialect: str, w: Window, start=None, stop=None):
    """Days each vehicle was registered to a company inside the window (SQL expression), for the
    period start <= day < stop (default: the vehicle's active period)."""
    start = Vehicle.active_from if start is None else start
    end = func.coalesce(Vehicle.active_to if stop is None else stop, w.end)
    if dialect == "sqlite":
        hi = func.min(end, w.end)
        lo = func.max(start, w.start)
        return func.julianday(hi) - func.julianday(lo)
    return func.least(end, w.end) - func.greatest(start, w.start)


def _ownership_exposure(dialect: str, w: Window):
    """Vehicle-days per company from the ownership history (a vehicle sold to another company
    counts for the old one until the move), for the vehicles that have one."""
    o = VehicleOwnership
    return (select(o.company_id.label("company_id"), func.sum(_exposure_days(dialect, w, o.start, o.end)).label("days"))
            .join(Vehicle, Vehicle.id == o.vehicle_id)
            .where(o.start < w.end, or_(o.end.is_(None), o.end > w.start)).group_by(o.company_id))


def _moved_vehicles(session: Session) -> list[int]:
    return list(session.exec(select(VehicleOwnership.vehicle_id).group_by(VehicleOwnership.vehicle_id)
                             .having(func.count() > 1)).all())


def _owner_corrections(session: Session, rules: RuleSet, w: Window, moved: list[int]) -> pl.DataFrame:
    """For vehicles that changed company: per company, the events to add (the owner on the day of
    the event) and remove (the company the record names). Few rows: decided in polars."""
    start, end = w.utc()
    history = pl.DataFrame(session.exec(select(VehicleOwnership.vehicle_id, VehicleOwnership.company_id, VehicleOwnership.start,
                                               VehicleOwnership.end).where(VehicleOwnership.vehicle_id.in_(moved))).all(),
                           schema={"vehicle_id": pl.Int64, "owner": pl.Int64, "start": pl.Date, "end": pl.Date}, orient="row")
    fatal = and_(Accident.fatalities > 0, Accident.responsibility.in_(rules.fatal_responsibility))
    frames = [
        pl.DataFrame(session.exec(select(Violation.vehicle_id, Violation.company_id, Violation.occurred_at, literal(1), literal(0),
                                         literal(0), literal(0)).where(Violation.vehicle_id.in_(moved), Violation.occurred_at >= start,
                                                                       Violation.occurred_at < end, COUNTED_VIOLATION)).all(),
                     schema=_EVENT_SCHEMA, orient="row"),
        pl.DataFrame(session.exec(select(Accident.vehicle_id, Accident.company_id, Accident.occurred_at, literal(0),
                                         case((fatal, 1), else_=0), case((fatal, Accident.fatalities), else_=0),
                                         case((Accident.responsibility.in_(rules.at_fault), 1), else_=0))
                                  .where(Accident.vehicle_id.in_(moved), Accident.occurred_at >= start, Accident.occurred_at < end)).all(),
                     schema=_EVENT_SCHEMA, orient="row"),
    ]
    events = pl.concat(frames).with_columns(
        pl.col("at").dt.replace_time_zone("UTC").dt.convert_time_zone(str(LOCAL_TZ)).dt.date().alias("day"))
    owned = (events.join(history, on="vehicle_id").filter(
        (pl.col("start") <= pl.col("day")) & (pl.col("end").is_null() | (pl.col("end") > pl.col("day"))))
        .filter(pl.col("owner") != pl.col("company_id")))
    counts = ["violations", "fatal_accidents", "deaths", "at_fault_accidents"]
    plus = owned.group_by(pl.col("owner").alias("cid")).agg([pl.col(c).sum() for c in counts])
    minus = owned.group_by(pl.col("company_id").alias("cid")).agg([-pl.col(c).sum() for c in counts])
    return pl.concat([plus, minus]).group_by("cid").agg([pl.col(c).sum() for c in counts])


_EVENT_SCHEMA = {"vehicle_id": pl.Int64, "company_id": pl.Int64, "at": pl.Datetime("us"), "violations": pl.Int64,
                 "fatal_accidents": pl.Int64, "deaths": pl.Int64, "at_fault_accidents": pl.Int64}


def _class_filter(session: Session, rules: RuleSet):
    """None when every stored vehicle class is in scope (then no join is needed)."""
    present = set(session.exec(select(Vehicle.vehicle_class).distinct()).all())
    return None if present <= set(rules.vehicle_classes) else Vehicle.vehicle_class.in_(rules.vehicle_classes)


def aggregates(session: Session, rules: RuleSet, w: Window, company_ids: list[int] | None = None) -> pl.DataFrame:
    """One row per company: vehicle-days in the window and the counts the criteria need."""
    dialect = session.get_bind().dialect.name
    start, end = w.utc()
    in_scope = _class_filter(session, rules)

    has_history = select(VehicleOwnership.id).where(VehicleOwnership.vehicle_id == Vehicle.id).exists()
    exposure = (select(Vehicle.company_id, func.sum(_exposure_days(dialect, w)))
                .where(Vehicle.active_from < w.end, or_(Vehicle.active_to.is_(None), Vehicle.active_to > w.start),
                       ~has_history)
                .group_by(Vehicle.company_id))
    owned = _ownership_exposure(dialect, w)
    fatal = and_(Accident.fatalities > 0, Accident.responsibility.in_(rules.fatal_responsibility))
    acc = (select(Accident.company_id,
                  func.sum(case((fatal, 1), else_=0)), func.sum(case((fatal, Accident.fatalities), else_=0)),
                  func.sum(case((Accident.responsibility.in_(rules.at_fault), 1), else_=0)))
           .where(Accident.occurred_at >= start, Accident.occurred_at < end).group_by(Accident.company_id))
    vio = (select(Violation.company_id, func.count()).where(Violation.occurred_at >= start, Violation.occurred_at < end,
                                                            COUNTED_VIOLATION)
           .group_by(Violation.company_id))
    if in_scope is not None:
        exposure = exposure.where(in_scope)
        owned = owned.where(in_scope)
        acc = acc.join(Vehicle, Vehicle.id == Accident.vehicle_id).where(in_scope)
        vio = vio.join(Vehicle, Vehicle.id == Violation.vehicle_id).where(in_scope)
    companies = select(Company.id, Company.uscc, Company.name, Company.business_type, Company.jurisdiction)
    if company_ids is not None:
        companies = companies.where(Company.id.in_(company_ids))
        exposure = exposure.where(Vehicle.company_id.in_(company_ids))
        owned = owned.where(VehicleOwnership.company_id.in_(company_ids))
        acc = acc.where(Accident.company_id.in_(company_ids))
        vio = vio.where(Violation.company_id.in_(company_ids))

    def frame(query, schema):
        return pl.DataFrame(session.exec(query).all(), schema=schema, orient="row")

    out = frame(companies, ["company_id", "uscc", "name", "business_type", "jurisdiction"])
    days = pl.concat([frame(exposure, {"company_id": pl.Int64, "vehicle_days": pl.Float64}),
                      frame(owned, {"company_id": pl.Int64, "vehicle_days": pl.Float64})])
    out = out.join(days.group_by("company_id").agg(pl.col("vehicle_days").sum()), on="company_id", how="left")
    out = out.join(frame(acc, {"company_id": pl.Int64, "fatal_accidents": pl.Int64, "deaths": pl.Int64,
                               "at_fault_accidents": pl.Int64}), on="company_id", how="left")
    out = out.join(frame(vio, {"company_id": pl.Int64, "violations": pl.Int64}), on="company_id", how="left")
    moved = _moved_vehicles(session)
    if moved:  # events of a vehicle that changed company count for its owner on the day
        fix = _owner_corrections(session, rules, w, moved).rename({"cid": "company_id"})
        counts = ["violations", "fatal_accidents", "deaths", "at_fault_accidents"]
        out = (out.join(fix.rename({c: f"fix_{c}" for c in counts}), on="company_id", how="left")
               .with_columns([(pl.col(c).fill_null(0) + pl.col(f"fix_{c}").fill_null(0)).alias(c) for c in counts])
               .drop([f"fix_{c}" for c in counts]))
    return out.select([pl.col(k).cast(v) for k, v in AGGREGATE_COLUMNS.items()])


def metrics(session: Session, rules: RuleSet, as_of: dt.date, company_ids: list[int] | None = None) -> pl.DataFrame:
    w = Window.ending(as_of, rules.window_months)
    return evaluate(aggregates(session, rules, w, company_ids), rules, w.days)


# ---- check, explain, apply ----------------------------------------------------------------

def _records(session: Session, rules: RuleSet, w: Window, wanted: dict[str, list[int]]) -> dict[tuple[int, str], dict]:
    """The records behind each (company, criterion): the newest RECORDS_SHOWN and the full
    count, fetched in one windowed query per criterion however many companies are flagged."""
    start, end = w.utc()
    out: dict[tuple[int, str], dict] = {}
    scope = _class_filter(session, rules)
    for criterion, companies in wanted.items():
        if not companies:
            continue
        if criterion == "violations_per_vehicle":
            model, kind = Violation, "violation"
            cond = and_(Violation.company_id.in_(companies), COUNTED_VIOLATION)
            fields = {"code": Violation.code, "points": Violation.points, "source": Violation.source}
        else:
            model, kind = Accident, "accident"
            cond = and_(Accident.company_id.in_(companies),
                        and_(Accident.fatalities > 0, Accident.responsibility.in_(rules.fatal_responsibility))
                        if criterion == "fatal_accidents" else Accident.responsibility.in_(rules.at_fault))
            fields = {"fatalities": Accident.fatalities, "injuries": Accident.injuries,
                      "responsibility": Accident.responsibility, "record_no": Accident.record_no}
        rank = func.row_number().over(partition_by=model.company_id, order_by=(model.occurred_at.desc(), model.id.desc()))
        total = func.count().over(partition_by=model.company_id)
        inner = (select(model.id.label("rid"), model.company_id.label("cid"), model.occurred_at.label("at"),
                        Vehicle.plate.label("plate"), *[c.label(k) for k, c in fields.items()],
                        rank.label("rank"), total.label("total"))
                 .join(Vehicle, Vehicle.id == model.vehicle_id)
                 .where(cond, model.occurred_at >= start, model.occurred_at < end))
        if scope is not None:
            inner = inner.where(scope)
        inner = inner.subquery()
        query = select(inner).where(inner.c.rank <= RECORDS_SHOWN).order_by(inner.c.cid, inner.c.rank)
        for row in session.execute(query).mappings():
            entry = out.setdefault((row["cid"], criterion), {"record_count": row["total"], "records": []})
            entry["records"].append({"kind": kind, "id": row["rid"], "occurred_at": row["at"], "plate": row["plate"],
                                     **{k: row[k] for k in fields}})
    return out


def check(session: Session, actor: Actor, as_of: dt.date, rules: RuleSet | None = None) -> dict:
    """The companies meeting the criteria on `as_of`, each with its explanation; companies with
    an open listing are marked. Scoped to the actor's jurisdiction."""
    authorize(actor, "data.read")
    rules = rules or active_rules(session, as_of)
    w = Window.ending(as_of, rules.window_months)
    table = evaluate(aggregates(session, rules, w), rules, w.days)
    flagged = table.filter(pl.col("flagged"))
    if not actor.city_level:
        flagged = flagged.filter(pl.col("jurisdiction") == actor.jurisdiction)
    open_listing = dict(session.exec(select(Listing.company_id, Listing.id).where(
        Listing.state.in_([s.value for s in OPEN_STATES]))).all())
    rows = flagged.sort(["fatal_accidents", "violations_per_vehicle"], descending=True, nulls_last=True).to_dicts()
    reasons_of = {row["company_id"]: explanation(row, rules) for row in rows}
    wanted: dict[str, list[int]] = {}
    for cid, reasons in reasons_of.items():
        for r in reasons:
            wanted.setdefault(r["criterion"], []).append(cid)
    records = _records(session, rules, w, wanted)
    companies = []
    for row in rows:
        reasons = reasons_of[row["company_id"]]
        for r in reasons:
            r.update(records.get((row["company_id"], r["criterion"]), {"record_count": 0, "records": []}))
        companies.append({
            "company_id": row["company_id"], "uscc": row["uscc"], "name": row["name"],
            "business_type": row["business_type"], "jurisdiction": row["jurisdiction"],
            "avg_vehicles": round(row["avg_vehicles"], 3), "fatal_accidents": row["fatal_accidents"],
            "deaths": row["deaths"], "at_fault_accidents": row["at_fault_accidents"], "violations": row["violations"],
            "at_fault_per_vehicle": _round(row["at_fault_per_vehicle"]),
            "violations_per_vehicle": _round(row["violations_per_vehicle"]),
            "listed": row["company_id"] in open_listing, "listing_id": open_listing.get(row["company_id"]),
            "explanation": reasons,
        })
    return {"as_of": as_of, "rules_version": rules.version, "window": {"start": w.start, "end": w.end - dt.timedelta(days=1),
            "days": w.days}, "companies_evaluated": table.height, "flagged": companies}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def apply(session: Session, actor: Actor, as_of: dt.date, *, now: dt.datetime) -> dict:
    """Turn new flags into `proposed` listings (never a second open listing for a company)."""
    authorize(actor, "listing.propose")
    rules = active_rules(session, as_of)
    if not session.exec(select(RuleVersion).where(RuleVersion.version == rules.version)).first():
        # the shipped default becomes a stored version the moment a listing depends on it
        session.add(RuleVersion(version=rules.version, effective_from=rules.effective_from, source=rules.source,
                                sha256=rules.sha256, loaded_by=actor.name, loaded_at=now))
        session.flush()
    result = check(session, actor, as_of, rules)
    proposed, skipped, recently_delisted = [], [], []
    ended = _last_listing_ended(session)
    for company in result["flagged"]:
        if company["listed"]:
            skipped.append(company["uscc"])
            continue
        if not _still_flagged_after_last_listing(session, rules, as_of, company["company_id"], ended):
            recently_delisted.append(company["uscc"])
            continue
        explanation_ = {"as_of": as_of.isoformat(), "window": {k: str(v) for k, v in result["window"].items()},
                        "criteria": [{k: (str(v) if isinstance(v, dt.datetime) else v) for k, v in r.items() if k != "records"}
                                     | {"record_ids": [rec["id"] for rec in r["records"]]} for r in company["explanation"]],
                        "metrics": {k: company[k] for k in ("avg_vehicles", "fatal_accidents", "deaths", "at_fault_accidents",
                                                             "violations", "at_fault_per_vehicle", "violations_per_vehicle")}}
        row = listings.propose(session, actor, company["company_id"], rules_version=rules.version,
                               explanation=explanation_, now=now)
        proposed.append({"listing_id": row.id, "uscc": company["uscc"], "name": company["name"]})
    return {"as_of": as_of, "rules_version": rules.version, "proposed": proposed, "skipped": skipped,
            "recently_delisted": recently_delisted}


def _last_listing_ended(session: Session) -> dict[int, dt.date]:
    """company -> the day its last delisting took effect (the passed cycle's due date)."""
    rows = session.exec(select(Listing.company_id, Cycle.due).join(Cycle, Cycle.listing_id == Listing.id)
                        .where(Listing.state == "delisted", Cycle.outcome == "pass")).all()
    out: dict[int, dt.date] = {}
    for cid, due in rows:
        out[cid] = max(due, out.get(cid, due))
    return out


def _still_flagged_after_last_listing(session: Session, rules: RuleSet, as_of: dt.date, company_id: int,
                                      ended: dict[int, dt.date]) -> bool:
    """The look-back rule for a company listed before (rules `relist_lookback`): judged only on
    what happened since its last listing ended, thresholds scaled to that shorter window."""
    from dataclasses import replace

    from listing.domain.checklist import scale_thresholds

    w = Window.ending(as_of, rules.window_months)
    start = lookback.window_start(w.start, ended.get(company_id), rules.relist_lookback)
    if start == w.start:
        return True
    if lookback.too_short(start, w.end):
        return False
    short = Window(start, w.end)
    scaled = replace(rules, thresholds=scale_thresholds(rules.thresholds, short.days, w.days))
    return bool(evaluate(aggregates(session, scaled, short, [company_id]), scaled, short.days)["flagged"][0])


def backtest(session: Session, actor: Actor, start: dt.date, end: dt.date, extra: RuleSet | None = None) -> dict:
    """Replay month by month (as-of = each month's last day): how many companies each rule
    version would have flagged."""
    authorize(actor, "data.read")
    versions = [config.parse(v.source) for v in stored_versions(session)] or [config.load()]
    if extra is not None:
        versions = [v for v in versions if v.version != extra.version] + [extra]
    months, day = [], dt.date(start.year, start.month, 1)
    while day <= end:
        months.append(min(add_months(day, 1) - dt.timedelta(days=1), end))
        day = add_months(day, 1)
    rows = []
    for as_of in months:
        row = {"as_of": as_of}
        for rules in versions:
            row[rules.version] = int(metrics(session, rules, as_of)["flagged"].sum())
        rows.append(row)
    return {"versions": [v.version for v in versions], "months": rows}


# ---- peer scoring (optional mode) ---------------------------------------------------------

def scores(session: Session, actor: Actor, as_of: dt.date, rules: RuleSet | None = None) -> pl.DataFrame:
    """SMS-style measures and peer percentiles for every company over 24 months."""
    from rules.criteria.scoring import score

    authorize(actor, "data.read")
    rules = rules or active_rules(session, as_of)
    s = rules.scoring
    horizon = s.time_weights[-1][0]
    w = Window.ending(as_of, horizon)
    edges = [Window.ending(as_of, months).utc()[0] for months, _ in s.time_weights]
    start, end = w.utc()

    def bucket(column):
        return case(*[(column >= edge, literal(i)) for i, edge in enumerate(edges)], else_=literal(len(edges)))

    agg = aggregates(session, rules, w)
    exposure = agg.select("company_id", "uscc", "name", "business_type", "jurisdiction",
                          (pl.col("vehicle_days").fill_null(0) / w.days).alias("avg_vehicles"))
    vb = bucket(Violation.occurred_at)
    vq = (select(Violation.company_id, vb, Violation.code, Violation.points, func.count())
          .where(Violation.occurred_at >= start, Violation.occurred_at < end, COUNTED_VIOLATION)
          .group_by(Violation.company_id, vb, Violation.code, Violation.points))
    ab = bucket(Accident.occurred_at)
    hurt = (Accident.fatalities + Accident.injuries) > 0
    aq = (select(Accident.company_id, ab, hurt, Accident.dangerous_goods_release, func.count())
          .where(Accident.occurred_at >= start, Accident.occurred_at < end)
          .group_by(Accident.company_id, ab, hurt, Accident.dangerous_goods_release))
    violations = pl.DataFrame(session.exec(vq).all(), orient="row", schema={
        "company_id": pl.Int64, "bucket": pl.Int64, "code": pl.Utf8, "points": pl.Int64, "n": pl.Int64})
    accidents = pl.DataFrame(session.exec(aq).all(), orient="row", schema={
        "company_id": pl.Int64, "bucket": pl.Int64, "injury_or_fatal": pl.Boolean, "dg_release": pl.Boolean, "n": pl.Int64})
    out = score(exposure, violations, accidents, s)
    if not actor.city_level:
        out = out.filter(pl.col("jurisdiction") == actor.jurisdiction)
    return out
