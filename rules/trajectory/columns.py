"""The one columnar form every reader produces and every detector reads.

A polars DataFrame with: vehicle (str; categorical codes where a reader has them), time (Datetime us, UTC), lat, lon (f64, degrees),
speed_kmh (f64, null where the source did not report it), heading (f64, nullable),
status and alarm (u32, nullable: JT/T 808 flags where the source has them).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

SCHEMA = {
    "vehicle": pl.Utf8,
    "time": pl.Datetime("us", "UTC"),
    "lat": pl.Float64,
    "lon": pl.Float64,
    "speed_kmh": pl.Float64,
    "heading": pl.Float64,
    "status": pl.UInt32,
    "alarm": pl.UInt32,
}


def empty() -> pl.DataFrame:
    return pl.DataFrame(schema=SCHEMA)


def conform(frame: pl.DataFrame) -> pl.DataFrame:
    """Add missing optional columns as nulls, cast, and order the columns."""
    missing = [pl.lit(None, dtype=dtype).alias(name) for name, dtype in SCHEMA.items() if name not in frame.columns]
    frame = frame.with_columns(missing)
    coded = isinstance(frame.schema["vehicle"], (pl.Enum, pl.Categorical))  # plates as codes (a Parquet read, a part of a larger scan): kept
    return frame.select([pl.col(name) if coded and name == "vehicle" else pl.col(name).cast(dtype) for name, dtype in SCHEMA.items()])


@dataclass
class ReadResult:
    """What a reader returns: the positions in the canonical columns, and every malformed record
    with where it was and why (shared by readers.py and jt808.py, so neither imports the other)."""

    points: pl.DataFrame
    errors: list[dict] = field(default_factory=list)  # {"position": ..., "reason": ...}
