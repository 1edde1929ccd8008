"""Vectorised checks of an import frame: every bad cell found at once, with row, column, reason.

Input: the string frame from reader.py. Output: a typed frame and a frame of errors
(row, column, value, reason key). Nothing here touches the database; references to
companies/vehicles/drivers are resolved in resolve.py.
"""
from __future__ import annotations

import datetime as dt

import polars as pl

from listing.domain.identifiers import PHONE_PATTERN, PLATE_PATTERN, ric_reasons, uscc_reasons
from listing.services.imports.reader import ROW
from listing.services.imports.specs import BOOLEANS, Col, Spec

_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y.%m.%d")
_NAIVE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M",
                  "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f")
_AWARE_FORMATS = ("%Y-%m-%dT%H:%M:%S%:z", "%Y-%m-%dT%H:%M:%S%.f%:z", "%Y-%m-%d %H:%M:%S%:z", "%Y-%m-%dT%H:%M:%SZ")


def _normalised_code(e: pl.Expr) -> pl.Expr:
    return e.str.replace_all(r"\s+", "").str.to_uppercase()


def enum_key(e: pl.Expr) -> pl.Expr:
    """An everyday word as compared with a spec's choices: case and spaces do not matter."""
    return e.str.replace_all(r"\s+", "").str.to_lowercase()


_NUMBER = r"^(\d+)(?:\.(\d*))?(?:[eE]\+?(\d+))?$"


def excel_digits(s: pl.Series) -> tuple[pl.Series, pl.Series]:
    """Identifiers Excel turned into numbers: (restored text, digits lost). `330106198001010012.0`
    and `9.13301061234567890E+17` still hold every digit and are restored; `9.13307E+17` (Excel
    shows 15 significant digits at most) has lost some and is flagged, never guessed."""
    parts = s.str.strip_chars().str.extract_groups(_NUMBER)
    whole, frac = parts.struct.field("1"), parts.struct.field("2").fill_null("")
    exp = parts.struct.field("3").cast(pl.Int64, strict=False).fill_null(0)
    frame = pl.DataFrame({"s": s, "whole": whole, "frac": frac, "exp": exp})
    number = pl.col("whole").is_not_null() & pl.col("s").str.contains(r"[.eE]")
    integral = ~pl.col("frac").str.slice(pl.col("exp")).str.contains("[1-9]")  # 12.5 is no identifier: left as is
    lost = number & integral & (pl.col("frac").str.len_chars() < pl.col("exp"))
    restored = pl.col("whole") + pl.col("frac").str.slice(0, pl.col("exp"))
    out = frame.select(pl.when(number & integral & ~lost).then(restored).otherwise(pl.col("s")).alias(s.name),
                       lost.fill_null(False).alias("lost"))
    return out[s.name], out["lost"]


def _parse(col: Col, s: pl.Series) -> tuple[pl.Series, pl.Series]:
    """(typed values, reason keys) for one column."""
    present = s.is_not_null()
    reason = pl.Series(s.name, [None] * len(s), dtype=pl.Utf8)
    if col.kind == "str":
        value = s
    elif col.kind == "int":
        value = s.str.replace_all(r"\.0+$", "").cast(pl.Int64, strict=False)
        reason = pl.select(pl.when(present & value.is_null()).then(pl.lit("imp.int"))
                           .when(value < 0).then(pl.lit("imp.negative"))
                           .when(value > 2_147_483_647).then(pl.lit("imp.too_large"))).to_series()  # a database integer
    elif col.kind == "bool":
        mapped = s.str.to_lowercase().replace_strict(BOOLEANS, default=None)
        value = (mapped == "1").fill_null(False)
        reason = pl.select(pl.when(present & mapped.is_null()).then(pl.lit("imp.bool"))).to_series()
    elif col.kind == "date":
        # a date from Excel arrives as a midnight time stamp (the reader keeps times whole)
        stamp = s.str.to_datetime("%Y-%m-%d %H:%M:%S", strict=False, time_unit="us")
        midnight = pl.when(stamp.dt.time() == dt.time(0)).then(stamp.dt.date())
        value = pl.select(pl.coalesce([*(s.str.to_date(f, strict=False) for f in _DATE_FORMATS), midnight])).to_series()
        reason = pl.select(pl.when(present & value.is_null()).then(pl.lit("imp.date"))).to_series()
    elif col.kind == "datetime":
        naive = [s.str.to_datetime(f, strict=False, time_unit="us").dt.replace_time_zone("Asia/Shanghai", ambiguous="earliest", non_existent="null").dt.convert_time_zone("UTC") for f in _NAIVE_FORMATS]
        aware = [s.str.to_datetime(f, strict=False, time_unit="us").dt.convert_time_zone("UTC") for f in _AWARE_FORMATS[:-1]]
        zulu = s.str.to_datetime(_AWARE_FORMATS[-1], strict=False, time_unit="us").dt.replace_time_zone("UTC")
        value = pl.select(pl.coalesce([*aware, zulu, *naive])).to_series()
        reason = pl.select(pl.when(present & value.is_null()).then(pl.lit("imp.datetime"))).to_series()
    elif col.kind == "enum":
        keys = pl.select(enum_key(pl.lit(pl.Series(list(col.choices), dtype=pl.Utf8)))).to_series().to_list()
        value = pl.select(enum_key(pl.lit(s))).to_series().replace_strict(dict(zip(keys, col.choices.values())), default=None)
        reason = pl.select(pl.when(present & value.is_null()).then(pl.lit("imp.enum"))).to_series()
    elif col.kind in ("uscc", "ric"):
        restored, lost = excel_digits(s)
        value = pl.select(_normalised_code(pl.lit(restored))).to_series()
        reasons = uscc_reasons(value) if col.kind == "uscc" else ric_reasons(value)
        reason = pl.select(pl.when(lost).then(pl.lit("imp.digits_lost")).when(present).then(reasons)).to_series()
    elif col.kind == "plate":
        value = pl.select(_normalised_code(pl.lit(s))).to_series()
        reason = pl.select(pl.when(present & ~value.str.contains(PLATE_PATTERN)).then(pl.lit("id.plate.format"))).to_series()
    elif col.kind == "phone":
        restored, lost = excel_digits(s)
        value = restored.str.replace_all(r"[\s()]", "")
        reason = pl.select(pl.when(lost).then(pl.lit("imp.digits_lost"))
                           .when(present & ~value.str.contains(PHONE_PATTERN)).then(pl.lit("id.phone.format"))).to_series()
    else:  # pragma: no cover - a spec typo
        raise ValueError(col.kind)
    if col.required:
        reason = pl.select(pl.when(~present).then(pl.lit("imp.required")).otherwise(reason)).to_series()
    return value.alias(col.name), reason.alias(col.name)


def check(frame: pl.DataFrame, spec: Spec) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Typed frame and errors (row, column, value, reason, params)."""
    typed, errors = [frame[ROW]], []
    for col in spec.columns:
        value, reason = _parse(col, frame[col.name])
        bad = reason.is_not_null()
        typed.append(value if col.kind == "bool" else value.zip_with(~bad, pl.Series([None], dtype=value.dtype)))  # a bad cell is reported once, not again as an unknown reference
        if bad.any():
            params = ", ".join(sorted(set(col.choices.values()))) if col.kind == "enum" else ""
            errors.append(pl.DataFrame({
                "row": frame[ROW].filter(bad), "column": col.name, "value": frame[col.name].filter(bad),
                "reason": reason.filter(bad), "choices": params,
            }, schema_overrides={"column": pl.Utf8, "choices": pl.Utf8}))
    out = pl.DataFrame(typed)
    if "active_to" in out.columns:
        errors.append(_when(out, pl.col("active_to") < pl.col("active_from"), "active_to", "imp.end_before_start", frame))
    if "end" in out.columns:
        errors.append(_when(out, pl.col("end") <= pl.col("start"), "end", "imp.end_before_start", frame))
    return out, collect(errors)


def _when(typed: pl.DataFrame, condition: pl.Expr, column: str, reason: str, raw: pl.DataFrame) -> pl.DataFrame:
    mask = typed.select(condition.fill_null(False)).to_series()
    return pl.DataFrame({"row": raw[ROW].filter(mask), "column": column, "value": raw[column].filter(mask),
                         "reason": reason, "choices": ""}, schema_overrides={"column": pl.Utf8, "reason": pl.Utf8, "choices": pl.Utf8})


def duplicates(typed: pl.DataFrame, key: list[str], column: str) -> pl.DataFrame:
    """Rows whose natural key repeats an earlier row of the same file."""
    ranked = typed.select(ROW, *key).with_columns(pl.col(ROW).first().over(key).alias("first"))
    dup = ranked.filter((pl.col(ROW) != pl.col("first")) & pl.all_horizontal(pl.col(key).is_not_null()))
    return pl.DataFrame({"row": dup[ROW], "column": column, "value": dup[key[0]].cast(pl.Utf8),
                         "reason": "imp.duplicate_key", "choices": dup["first"].cast(pl.Utf8)},
                        schema_overrides={"column": pl.Utf8, "reason": pl.Utf8})


def collect(parts: list[pl.DataFrame]) -> pl.DataFrame:
    schema = {"row": pl.Int64, "column": pl.Utf8, "value": pl.Utf8, "reason": pl.Utf8, "choices": pl.Utf8}
    parts = [p.select([pl.col(k).cast(v) for k, v in schema.items()]) for p in parts if p.height]
    if not parts:
        return pl.DataFrame(schema=schema)
    return pl.concat(parts).sort("row", "column")
