"""Readers into the one columnar form: CSV and Parquet (configurable column names), the
platform's JSON, and JT/T 808 frames (see jt808.py). A malformed record is reported with its
position and skipped, or the whole input rejected (`on_error="reject"`): never misread."""
from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from messages.errors import ValidationError
from rules.trajectory.columns import SCHEMA, ReadResult, conform, empty

# canonical name -> accepted source names (first match wins)
DEFAULT_COLUMNS = {
    "vehicle": ("vehicle", "vehicle_id", "plate", "车牌号", "号牌号码", "terminal_phone"),
    "time": ("time", "timestamp", "gps_time", "datetime", "定位时间", "时间"),
    "lat": ("lat", "latitude", "纬度"),
    "lon": ("lon", "lng", "longitude", "经度"),
    "speed_kmh": ("speed_kmh", "speed", "速度"),
    "heading": ("heading", "bearing", "direction", "方向"),
    "status": ("status", "状态"),
    "alarm": ("alarm", "报警"),
}


def _mapping(columns: list[str], overrides: dict[str, str] | None) -> dict[str, str]:
    found = {}
    lower = {c.lower(): c for c in columns}
    for canonical, names in DEFAULT_COLUMNS.items():
        if overrides and canonical in overrides:
            found[canonical] = overrides[canonical]
            continue
        for n in names:
            if n.lower() in lower:
                found[canonical] = lower[n.lower()]
                break
    missing = [c for c in ("vehicle", "time", "lat", "lon") if c not in found]
    if missing:
        raise ValidationError("err.positions_columns", columns=", ".join(missing))
    return found


def parse_times(s: pl.Series, naive_tz: str = "Asia/Shanghai") -> pl.Series:
    """Times as aware UTC: text with an offset or Z keeps it, text and datetimes without one are
    in `naive_tz` (Beijing time unless said otherwise), numbers are epoch seconds."""
    if s.dtype == pl.Null:
        return s.cast(pl.Datetime("us", "UTC"))
    if s.dtype == pl.Utf8:
        text = s.str.strip_chars()
        aware = text.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f%:z", strict=False, time_unit="us").dt.convert_time_zone("UTC")
        aware2 = text.str.to_datetime("%Y-%m-%d %H:%M:%S%.f%:z", strict=False, time_unit="us").dt.convert_time_zone("UTC")
        zulu = text.str.replace("Z$", "").str.to_datetime("%Y-%m-%dT%H:%M:%S%.f", strict=False, time_unit="us").dt.replace_time_zone("UTC")
        zulu = pl.select(pl.when(text.str.ends_with("Z")).then(zulu)).to_series()
        naive = pl.select(pl.coalesce([text.str.to_datetime(f, strict=False, time_unit="us") for f in
                                       ("%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f", "%Y/%m/%d %H:%M:%S")])).to_series()
        naive = naive.dt.replace_time_zone(naive_tz, ambiguous="earliest", non_existent="null").dt.convert_time_zone("UTC")
        return pl.select(pl.coalesce([aware, aware2, zulu, naive])).to_series()
    if s.dtype == pl.Datetime or isinstance(s.dtype, pl.Datetime):
        return (s.dt.replace_time_zone(naive_tz) if s.dtype.time_zone is None else s).dt.convert_time_zone("UTC").dt.cast_time_unit("us")
    if s.dtype.is_numeric():  # epoch seconds
        micros = (s.cast(pl.Float64) * 1e6).cast(pl.Int64, strict=False)  # out of range or NaN: unreadable
        return pl.from_epoch(micros, time_unit="us").dt.replace_time_zone("UTC")
    raise ValidationError("err.positions_columns", columns="time")


def from_frame(raw: pl.DataFrame, *, columns: dict[str, str] | None = None, naive_tz: str = "Asia/Shanghai",
               on_error: str = "skip", first_position: int = 2, position_name: str = "line") -> ReadResult:
    """Map, parse and check a frame of source columns; report bad rows by their position."""
    mapping = _mapping(raw.columns, columns)
    cols = {}
    for canonical, source in mapping.items():
        s = raw[source]
        if canonical == "time":
            cols[canonical] = parse_times(s, naive_tz)
        elif canonical == "vehicle":
            coded = isinstance(s.dtype, (pl.Categorical, pl.Enum))  # codes kept: the text of a few thousand plates is checked
            s = s if coded else s.cast(pl.Utf8)
            plates = s.unique().cast(pl.Utf8)  # a few thousand plates: strip the column only if one of them needs it
            if (plates.str.strip_chars() != plates).any():
                s = s.cast(pl.Utf8).str.strip_chars()
                s = s.cast(pl.Categorical) if coded else s
                plates = plates.str.strip_chars()
            blank = bool((plates == "").any())
            cols[canonical] = s
        else:
            cols[canonical] = s.cast(pl.Utf8).str.strip_chars().cast(pl.Float64, strict=False) if s.dtype == pl.Utf8 else s.cast(pl.Float64, strict=False)
    frame = pl.DataFrame(cols)
    bad_reason = pl.select(
        pl.when((frame["vehicle"].is_null() | (frame["vehicle"] == "")) if blank else frame["vehicle"].is_null()).then(pl.lit("vehicle"))
        .when(frame["time"].is_null()).then(pl.lit("time"))
        .when(frame["lat"].is_null() | frame["lon"].is_null()).then(pl.lit("position"))
    ).to_series()
    bad = bad_reason.is_not_null()
    errors = [{position_name: int(i) + first_position, "reason": f"unreadable {r}"}
              for i, r in zip(bad.arg_true().to_list(), bad_reason.filter(bad).to_list())]
    if errors and on_error == "reject":
        raise ValidationError("err.positions_malformed", n=len(errors), first=f"{position_name} {errors[0][position_name]}: {errors[0]['reason']}")
    for name in ("status", "alarm"):
        if name in frame.columns:
            frame = frame.with_columns(pl.col(name).cast(pl.UInt32, strict=False))
    return ReadResult(conform(frame.filter(~bad) if errors else frame), errors)


def _polars_read(reader, path: Path, **options) -> pl.DataFrame:
    """A file read by polars, or "cannot read the file". OSError: a damaged Parquet file, or CSV
    bytes polars took for a zlib/gzip stream."""
    try:
        return reader(path, **options)
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise ValidationError("err.file_unreadable", reason=str(exc).splitlines()[0][:200]) from None


def read_csv(path: Path, **kw) -> ReadResult:
    return from_frame(_polars_read(pl.read_csv, path, infer_schema=False, encoding="utf8-lossy"), **kw)


def read_parquet(path: Path, *, coded_plates: bool = False, **kw) -> ReadResult:
    """A Parquet file. `coded_plates`: plates written as text are read as categorical codes (a
    few thousand plates over millions of rows): the frame holds no string per row, and the
    engine numbers vehicles without hashing a string per row and reads the columns where they
    lie, a chunk per row group (`clean.points_of`), without a contiguous copy first. For a
    scan; a frame to be joined or stacked with others keeps text (the default)."""
    def scan(path: Path) -> pl.DataFrame:
        lazy = pl.scan_parquet(path)
        schema = lazy.collect_schema()
        vehicle = _mapping(list(schema.names()), kw.get("columns"))["vehicle"]
        kind = schema.get(vehicle)
        if coded_plates and kind == pl.Utf8:
            lazy = lazy.with_columns(pl.col(vehicle).cast(pl.Categorical))
        elif not coded_plates and isinstance(kind, (pl.Categorical, pl.Enum)):  # written as codes: text unless asked
            lazy = lazy.with_columns(pl.col(vehicle).cast(pl.Utf8))
        return lazy.collect()

    raw = _polars_read(scan, path)
    return from_frame(raw, position_name="row", first_position=0, **kw)


def read_platform_json(data) -> ReadResult:
    """The platform's JSON: a page {"vehicle", "positions": [...]}, a list of pages, or a list of
    positions. Anything else (a record that is not an object, positions that are not a list) is
    refused as a whole: the answer is not what the platform sends."""
    pages = data if isinstance(data, list) and data and isinstance(data[0], dict) and "positions" in data[0] else None
    if pages is None and isinstance(data, dict):
        pages = [data]
    rows = []
    if pages is not None:
        for i, page in enumerate(pages):
            positions = page.get("positions") if isinstance(page, dict) else None
            if not isinstance(positions, list) or not all(isinstance(p, dict) for p in positions):
                raise ValidationError("err.positions_json", where=f"page {i}")
            rows.extend({"vehicle": page.get("vehicle"), **p} if "vehicle" not in p else p for p in positions)
    elif isinstance(data, list):
        bad = next((i for i, r in enumerate(data) if not isinstance(r, dict)), None)
        if bad is not None:
            raise ValidationError("err.positions_json", where=f"record {bad}")
        rows = data
    else:
        raise ValidationError("err.positions_json", where=type(data).__name__)
    if not rows:
        return ReadResult(empty())
    try:
        raw = pl.from_dicts(rows, infer_schema_length=None)
        if any(dtype.is_nested() or dtype == pl.Object for dtype in raw.dtypes):
            raise TypeError("a field holds a list or an object")
    except (pl.exceptions.PolarsError, TypeError, ValueError, OverflowError):  # mixed types: every field as text
        raw = pl.DataFrame([{k: (None if v is None else str(v)) for k, v in r.items()} for r in rows],
                           schema={k: pl.Utf8 for k in dict.fromkeys(k for r in rows for k in r)})
    return from_frame(raw, position_name="record", first_position=0)


def read(path: Path, fmt: str | None = None, **kw) -> ReadResult:
    """Positions from a file. A file with bytes but no usable position is an error that says why
    (never an empty, clean-looking result). `coded_plates=True`: Parquet plates as categorical
    codes (`read_parquet`), for a scan of a large file."""
    fmt = (fmt or path.suffix.lstrip(".")).lower()
    if not path.is_file():
        raise ValidationError("err.file_missing", path=str(path))
    if path.stat().st_size == 0:
        raise ValidationError("err.positions_none", path=path.name, why="the file is empty")
    if fmt in SNIFFED:
        fmt = sniff(path) or fmt
    result = _read(path, fmt, **kw)
    if result.points.height == 0:
        raise ValidationError("err.positions_none", path=path.name, why=_why_empty(path, result))
    return result


SNIFFED = ("txt", "", "log", "dat", "raw")  # names that do not say what is inside: the content does


def sniff(path: Path) -> str | None:
    """'jt808' when a file's first bytes are JT/T 808 frames (a 0x7e flag byte, or hex text that
    starts with 7e: captures are often saved as .txt); 'csv' for other text of a .txt file; None
    when the start says nothing."""
    from rules.trajectory.jt808 import hex_text

    with open(path, "rb") as f:
        head = f.read(4096)
    if head.lstrip()[:1] == b"\x7e" or hex_text(head) is not None:  # the reader's own test for hex text
        return "jt808"
    return "csv" if path.suffix.lower() == ".txt" else None


def _why_empty(path: Path, result: ReadResult) -> str:
    if result.errors:
        first = result.errors[0]
        where = ", ".join(f"{k} {v}" for k, v in first.items() if k != "reason")
        return f"{len(result.errors)} unreadable records, first at {where}: {first['reason']}"
    return "no records (a header only, an empty list, or no 0x7e frame)"


def _read(path: Path, fmt: str, *, coded_plates: bool = False, **kw) -> ReadResult:
    if fmt in ("csv", "txt"):
        return read_csv(path, **kw)
    if fmt in ("parquet", "pq"):
        return read_parquet(path, coded_plates=coded_plates, **kw)
    if fmt == "json":
        try:
            return read_platform_json(json.loads(path.read_text(encoding="utf-8-sig")))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ValidationError("err.file_unreadable", reason=str(exc)) from None
    if fmt in ("jt808", "808", "bin", "hex"):
        from rules.trajectory.jt808 import read_jt808

        return read_jt808(path.read_bytes(), on_error=kw.get("on_error", "skip"))
    raise ValidationError("err.positions_format", format=fmt)


__all__ = ["SCHEMA", "ReadResult", "read", "from_frame", "parse_times", "read_platform_json"]
