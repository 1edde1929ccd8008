"""`guapai report effect`: the matched, stacked difference in differences of rules/effect.py
on the store's data — accidents and violations per vehicle-month before vs after listing, each
listing against comparable companies that were never listed (docs/effect.md)."""
from __future__ import annotations

import calendar
import datetime as dt

import polars as pl
from sqlalchemy import func, literal_column
from sqlmodel import Session, select

from listing.domain.policy import Actor, authorize
from listing.store.tables import Accident, Company, Cycle, Listing, Vehicle, Violation
from messages.errors import ValidationError
from rules.effect import Design, Treated, measure, month_index


def _local_month(dialect: str, column):
    if dialect == "sqlite":
        return func.strftime("%Y-%m", column, "+8 hours")
    return func.to_char(func.timezone("Asia/Shanghai", column), literal_column("'YYYY-MM'"))


def _counts(session: Session, model, first: dt.date, name: str) -> pl.DataFrame:
    dialect = session.get_bind().dialect.name
    month = _local_month(dialect, model.occurred_at)
    start = dt.datetime.combine(first, dt.time(), tzinfo=dt.timezone(dt.timedelta(hours=8)))
    query = select(model.company_id, month, func.count()).where(model.occurred_at >= start)
    if model is Violation:
        # trajectory-sampled violations exist only for listed companies: counting them would
        # compare sampled with unsampled companies, not listed with unlisted ones
        query = query.where(Violation.source != "trajectory")
    rows = session.exec(query.group_by(model.company_id, month)).all()
    frame = pl.DataFrame(rows, schema={"company_id": pl.Int64, "ym": pl.Utf8, name: pl.Int64}, orient="row")
    return frame.with_columns((pl.col("ym").str.slice(0, 4).cast(pl.Int64) * 12 + pl.col("ym").str.slice(5, 2).cast(pl.Int64) - 1)
                              .alias("month")).drop("ym")


def _exposure(session: Session, first: int, last: int) -> pl.DataFrame:
    """Vehicle-months per company and month from the vehicles' registration periods."""
    rows = session.exec(select(Vehicle.company_id, Vehicle.active_from, Vehicle.active_to)).all()
    v = pl.DataFrame(rows, schema={"company_id": pl.Int64, "active_from": pl.Date, "active_to": pl.Date}, orient="row")
    months = pl.DataFrame({"month": list(range(first, last + 1))}).with_columns(
        pl.date(pl.col("month") // 12, pl.col("month") % 12 + 1, 1).alias("m_start"))
    months = months.with_columns(pl.col("m_start").dt.offset_by("1mo").alias("m_end"))
    cross = v.join(months, how="cross").with_columns(
        ((pl.min_horizontal(pl.col("active_to").fill_null(pl.col("m_end")), pl.col("m_end"))
          - pl.max_horizontal(pl.col("active_from"), pl.col("m_start"))).dt.total_days().clip(lower_bound=0)
         / (pl.col("m_end") - pl.col("m_start")).dt.total_days()).alias("vm"))
    return cross.group_by("company_id", "month").agg(pl.col("vm").sum().alias("vehicle_months"))


def _design(months: int, controls: int, caliper: float, listing_month: str) -> Design:
    if months < 1 or months > 24:
        raise ValidationError("err.effect_months", value=months)
    if controls < 1:
        raise ValidationError("err.effect_controls", value=controls)
    if not caliper > 0:
        raise ValidationError("err.effect_caliper", value=caliper)
    if listing_month not in ("drop", "weight"):
        raise ValidationError("err.effect_listing_month", value=listing_month)
    return Design(months=months, controls=controls, caliper=caliper, listing_month=listing_month)


def effect(session: Session, actor: Actor, as_of: dt.date, months: int = Design.months, controls: int = Design.controls,
           caliper: float = Design.caliper, listing_month: str = Design.listing_month) -> dict:
    """The effect of listing on violations and accidents per vehicle-month, with the data up to
    the last complete month before `as_of`. One Design (window, controls, caliper) for the demo,
    the CLI and the reports."""
    authorize(actor, "data.read")
    design = _design(months, controls, caliper, listing_month)
    listed = session.exec(select(Listing.id, Listing.company_id, Cycle.start)
                          .join(Cycle, (Cycle.listing_id == Listing.id) & (Cycle.number == 1))).all()
    ever_listed = {cid for _, cid, _ in listed}
    treated = [Treated(lid, cid, month_index(start.year, start.month),
                       share_listed=(calendar.monthrange(start.year, start.month)[1] - start.day + 1)
                       / calendar.monthrange(start.year, start.month)[1])
               for lid, cid, start in listed]
    companies = pl.DataFrame(session.exec(select(Company.id, Company.business_type, Company.name, Company.uscc)).all(),
                             schema=["company_id", "business_type", "name", "uscc"], orient="row")
    last = month_index(as_of.year, as_of.month) - 1  # the last complete month
    first = min((t.month for t in treated), default=last) - max(design.months, design.match_months)
    exposure = _exposure(session, first, last)
    first_day = dt.date(first // 12, first % 12 + 1, 1)
    panel = (exposure.join(_counts(session, Violation, first_day, "violations"), on=["company_id", "month"], how="left")
             .join(_counts(session, Accident, first_day, "accidents"), on=["company_id", "month"], how="left")
             .with_columns(pl.col("violations", "accidents").fill_null(0)))
    # data arrive monthly: months after the last one with any record are not yet imported, not clean
    recorded = panel.filter((pl.col("violations") + pl.col("accidents")) > 0)["month"]
    last = min(last, int(recorded.max())) if recorded.len() else last
    panel = panel.filter(pl.col("month") <= last)
    avg = panel.group_by("company_id").agg(pl.col("vehicle_months").mean().alias("avg_vehicles"))
    size = pl.col("avg_vehicles").fill_null(0)
    band = pl.when(size < 5).then(pl.lit("<5")).when(size < 20).then(pl.lit("5-20")).when(size < 100).then(pl.lit("20-100")).otherwise(pl.lit("≥100"))
    companies = companies.join(avg, on="company_id", how="left").with_columns(band.alias("size_band"))
    never = set(companies["company_id"].to_list()) - ever_listed
    names = {r["company_id"]: (r["name"], r["uscc"]) for r in companies.iter_rows(named=True)}
    out = {"as_of": as_of, "last_month": _month_name(last), "design": design.as_dict()}
    for metric in ("violations", "accidents"):
        out[metric] = _readable(measure(panel, companies, treated, never, metric=metric, design=design, last_month=last),
                                treated, names)
    return out


def effect_for_month(session: Session, actor: Actor, month: str) -> dict | None:
    """The effect with the data up to the end of `month` (YYYY-MM), for the monthly report;
    None when nobody was ever listed."""
    from listing.services.inspections import month_bounds

    _, last_day = month_bounds(month)
    if session.exec(select(func.count()).select_from(Listing)).one() == 0:
        return None
    return effect(session, actor, last_day + dt.timedelta(days=1))


def _month_name(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _readable(result: dict, treated: list[Treated], names: dict) -> dict:
    """Company names and month names instead of ids and month indexes; matches grouped per listing."""
    month_of = {t.listing_id: t.month for t in treated}
    per_listing: dict[int, dict] = {}
    for m in result.pop("matches"):
        row = per_listing.setdefault(m["listing_id"], {"listing_id": m["listing_id"], "month": _month_name(month_of[m["listing_id"]]),
                                                       "window": [_month_name(m["first"]), _month_name(m["last"])],
                                                       "controls": []})
        name, uscc = names[m["company_id"]]
        if m["role"] == "treated":
            row.update(company=name, uscc=uscc)
        else:
            row["controls"].append({"company": name, "uscc": uscc, "distance": round(m["distance"], 3)})
    result["per_listing"] = list(per_listing.values())
    result.pop("design", None)  # once, at the top
    for e in result["excluded"]:
        e["company"], e["uscc"] = names[e["company_id"]]
        e["month"] = _month_name(month_of[e["listing_id"]])
    return result
