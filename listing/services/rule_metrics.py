"""What the listing rules measure, in the database: per company, the vehicle-days and the counts
the criteria need in a look-back window (a vehicle sold to another company counts for its owner
on the day), and the records behind a flagged company's criteria. listing/services/rules.py
applies the criteria to these."""
from __future__ import annotations

import datetime as dt

import polars as pl
from sqlalchemy import and_, func
from sqlmodel import Session, select

from listing.services.read.criteria_counts import Window, aggregate_rows
from listing.store.tables import Accident, Vehicle, Violation
from rules.criteria.config import RuleSet
from rules.criteria.evaluate import AGGREGATE_COLUMNS, evaluate

RECORDS_SHOWN = 20  # records listed per criterion in an explanation (the count is always full)
# a trajectory violation whose finding was reopened or voided stays stored and counts nowhere
COUNTED_VIOLATION = Violation.voided_at.is_(None)


def _class_filter(session: Session, rules: RuleSet):
    """None when every stored vehicle class is in scope (then no join is needed)."""
    present = set(session.exec(select(Vehicle.vehicle_class).distinct()).all())
    return None if present <= set(rules.vehicle_classes) else Vehicle.vehicle_class.in_(rules.vehicle_classes)


def aggregates(session: Session, rules: RuleSet, w: Window, company_ids: list[int] | None = None) -> pl.DataFrame:
    """One row per company: vehicle-days in the window and the counts the criteria need (the
    rows of listing.services.read.criteria_counts, as a frame for the vectorised criteria)."""
    rows = aggregate_rows(session, rules, w, company_ids)
    return pl.DataFrame(rows, schema=AGGREGATE_COLUMNS, orient="row") if rows else pl.DataFrame(schema=AGGREGATE_COLUMNS)


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
