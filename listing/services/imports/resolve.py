"""Resolving an import's references (credit code -> company, plate -> vehicle, ID -> driver)
against what is already stored, vectorised as joins."""
from __future__ import annotations

import polars as pl
from sqlalchemy.engine import Connection

from listing.services.imports.reader import ROW

_LOOKUPS = {
    "company": ("SELECT uscc, id, jurisdiction FROM company", {"uscc": pl.Utf8, "company_id": pl.Int64, "jurisdiction": pl.Utf8}),
    "vehicle": ("SELECT v.plate, v.id, v.company_id, c.jurisdiction FROM vehicle v JOIN company c ON c.id = v.company_id",
                {"plate": pl.Utf8, "vehicle_id": pl.Int64, "company_id": pl.Int64, "jurisdiction": pl.Utf8}),
    "driver": ("SELECT id_number, id FROM driver", {"driver_id_number": pl.Utf8, "driver_id": pl.Int64}),
}

# kind -> stored columns (in order) of the target table
STORED = {
    "companies": ["uscc", "name", "business_type", "jurisdiction"],
    "vehicles": ["plate", "company_id", "vehicle_class", "active_from", "active_to"],
    "drivers": ["id_number", "name", "phone", "company_id"],
    "assignments": ["driver_id", "vehicle_id", "start", "end"],
    "accidents": ["occurred_at", "vehicle_id", "company_id", "driver_id", "fatalities", "injuries",
                  "responsibility", "dangerous_goods_release", "record_no"],
    "violations": ["occurred_at", "vehicle_id", "company_id", "driver_id", "code", "points", "source", "record_no"],
}


def lookup(conn: Connection, name: str) -> pl.DataFrame:
    sql, schema = _LOOKUPS[name]
    rows = conn.exec_driver_sql(sql).fetchall()
    return pl.DataFrame(rows, schema=schema, orient="row")


def _unknown(frame: pl.DataFrame, key: str, resolved: str, reason: str) -> pl.DataFrame:
    bad = frame.filter(pl.col(key).is_not_null() & pl.col(resolved).is_null())
    return pl.DataFrame({"row": bad[ROW], "column": key, "value": bad[key], "reason": reason, "choices": ""},
                        schema_overrides={"column": pl.Utf8, "reason": pl.Utf8, "choices": pl.Utf8, "value": pl.Utf8})


def resolve(conn: Connection, kind: str, typed: pl.DataFrame) -> tuple[pl.DataFrame, list[pl.DataFrame]]:
    """Typed frame with id columns added (and `jurisdiction` for the permission check), plus
    error frames for references that do not exist."""
    errors: list[pl.DataFrame] = []
    frame = typed
    if kind in ("vehicles", "drivers"):
        companies = lookup(conn, "company").rename({"uscc": "company_uscc"})
        frame = frame.join(companies, on="company_uscc", how="left", maintain_order="left")
        errors.append(_unknown(frame, "company_uscc", "company_id", "imp.unknown_company"))
    if kind in ("assignments", "accidents", "violations"):
        vehicles = lookup(conn, "vehicle")
        if kind == "assignments":
            vehicles = vehicles.drop("company_id")
        frame = frame.join(vehicles, on="plate", how="left", maintain_order="left")
        errors.append(_unknown(frame, "plate", "vehicle_id", "imp.unknown_vehicle"))
        drivers = lookup(conn, "driver")
        frame = frame.join(drivers, on="driver_id_number", how="left", maintain_order="left")
        errors.append(_unknown(frame, "driver_id_number", "driver_id", "imp.unknown_driver"))
    return frame, errors


def jurisdictions(frame: pl.DataFrame) -> set[str]:
    if "jurisdiction" not in frame.columns:
        return set()
    return set(frame["jurisdiction"].drop_nulls().unique().to_list())
