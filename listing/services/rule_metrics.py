"""What the listing rules measure, in the database: per company, the vehicle-days and the counts
the criteria need in a look-back window (a vehicle sold to another company counts for its owner
on the day), and the records behind a flagged company's criteria. listing/services/rules.py
applies the criteria to these."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl
from sqlalchemy import and_, case, func, literal, or_
from sqlmodel import Session, select

from listing.domain.states import add_months
from listing.store.tables import Accident, Company, Vehicle, VehicleOwnership, Violation
from listing.timeutil import LOCAL_TZ
from rules.criteria.config import RuleSet
from rules.criteria.evaluate import AGGREGATE_COLUMNS, evaluate

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


def records_behind(session: Session, rules: RuleSet, w: Window, wanted: dict[str, list[int]]) -> dict[tuple[int, str], dict]:
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
