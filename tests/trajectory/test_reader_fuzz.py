"""Fuzz of the trajectory readers: random bytes under every format, random tables as CSV and
Parquet, random JSON as the platform's answer, damaged JT/T 808 streams. Only guapai's own
errors (clear messages) or a result in the one columnar form: never a crash, never a misread row."""
from __future__ import annotations

import datetime as dt
import io
import json
import tempfile
from pathlib import Path

import polars as pl
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from messages.errors import GuapaiError
from rules.trajectory import read, read_platform_json
from rules.trajectory.columns import SCHEMA
from rules.trajectory.jt808 import encode_position, read_jt808
from tests.budget import cases

BEIJING = dt.timezone(dt.timedelta(hours=8))
FOLDER = Path(tempfile.mkdtemp(prefix="guapai-fuzz-"))
NAMES = ["vehicle", "plate", "车牌号", "time", "gps_time", "定位时间", "lat", "latitude", "纬度", "lon", "lng", "经度",
         "speed", "速度", "heading", "status", "alarm", "other"]
CELLS = st.one_of(st.sampled_from(["浙A12345", "2026-11-23 10:00:00", "2026-11-23T02:00:00Z", "30.27", "120.15", "55.5",
                                   "", " ", "NaN", "inf", "-1", "1e308", "3", "not a time", "2026-02-30 10:00:00"]),
                  st.text(max_size=10))


def check_result(result) -> None:
    assert dict(result.points.schema) == SCHEMA  # the one columnar form, whatever came in
    assert result.points["vehicle"].null_count() == 0 and result.points["time"].null_count() == 0
    assert result.points["lat"].null_count() == 0 and result.points["lon"].null_count() == 0


def read_clearly(path: Path, fmt: str | None = None, **kw):
    try:
        result = read(path, fmt, **kw)
    except GuapaiError as exc:
        assert exc.message("en") and exc.message("zh")
        return None
    check_result(result)
    return result


@settings(max_examples=cases(ci=300, long=10_000), deadline=None)
@given(data=st.binary(max_size=300), fmt=st.sampled_from(["csv", "parquet", "json", "jt808", "hex"]))
@example(data=b"x\x01\x02\x01", fmt="csv")  # found by the long run: polars took it for a zlib stream
@example(data=b"\x1f\x8b\x08\x00", fmt="csv")  # a gzip header, cut short
def test_random_bytes_under_every_format_are_refused_clearly(data, fmt):
    path = FOLDER / f"random.{fmt}"
    path.write_bytes(data)
    read_clearly(path)


@st.composite
def tables(draw):
    names = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=7, unique=True))
    n = draw(st.integers(0, 6))
    return names, [[draw(CELLS) for _ in names] for _ in range(n)]


@settings(max_examples=cases(ci=200, long=8_000), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(table=tables(), on_error=st.sampled_from(["skip", "reject"]), fmt=st.sampled_from(["csv", "parquet"]))
def test_random_tables_read_or_refuse_clearly_and_bad_rows_are_counted(table, on_error, fmt):
    names, rows = table
    frame = pl.DataFrame(rows, schema={n: pl.Utf8 for n in names}, orient="row")
    path = FOLDER / f"table.{fmt}"
    frame.write_csv(path) if fmt == "csv" else frame.write_parquet(path)
    result = read_clearly(path, on_error=on_error)
    if result is not None:
        assert result.points.height + len(result.errors) == len(rows)  # every row read or reported, none lost
        assert not (on_error == "reject" and result.errors)


@st.composite
def typed_parquet(draw):
    """Parquet columns of other types than text: numbers, epoch seconds, real time stamps, nulls."""
    n = draw(st.integers(1, 5))
    time = draw(st.sampled_from([
        pl.Series("time", [dt.datetime(2026, 11, 23, 10, i) for i in range(n)]),
        pl.Series("time", [dt.datetime(2026, 11, 23, 2, i, tzinfo=dt.timezone.utc) for i in range(n)]),
        pl.Series("time", [1_795_000_000 + 30 * i for i in range(n)]),
        pl.Series("time", [None] * n, dtype=pl.Int64),
        pl.Series("time", [True] * n)]))
    num = st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True), st.integers(-2**31, 2**31))
    lat = pl.Series("lat", [draw(num) for _ in range(n)], dtype=pl.Float64)
    lon = pl.Series("lon", [draw(num) for _ in range(n)], dtype=pl.Float64)
    vehicle = pl.Series("vehicle", [draw(st.sampled_from([1, 2])) for _ in range(n)])
    return pl.DataFrame([vehicle, time, lat, lon])


@settings(max_examples=cases(ci=60, long=2_000), deadline=None)
@given(frame=typed_parquet())
def test_parquet_of_any_column_types_reads_or_refuses_clearly(frame):
    path = FOLDER / "typed.parquet"
    frame.write_parquet(path)
    read_clearly(path)


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(
                        ["vehicle", "positions", "time", "lat", "lon", "speed_kmh", "status", "x"]), inner, max_size=5),
                    max_leaves=20)


@settings(max_examples=cases(ci=300, long=10_000), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=JSON)
def test_random_platform_json_reads_or_refuses_clearly(data):
    try:
        result = read_platform_json(data)
    except GuapaiError as exc:
        assert exc.message("en")
        return
    check_result(result)
    path = FOLDER / "page.json"  # the same through the file reader
    path.write_text(json.dumps(data), encoding="utf-8")
    read_clearly(path)


@settings(max_examples=cases(ci=300, long=10_000), deadline=None)
@given(n=st.integers(1, 4), flips=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=4),
       cut=st.integers(0, 10_000), hexed=st.booleans())
def test_damaged_jt808_streams_keep_good_frames_and_name_bad_ones(n, flips, cut, hexed):
    frames = [encode_position("13800138000", i, dt.datetime(2026, 11, 23, 10, tzinfo=BEIJING) + dt.timedelta(seconds=30 * i), 30.1, 120.2, 50 + i)
              for i in range(n)]
    stream = bytearray(b"".join(frames))
    for at, value in flips:
        stream[at % len(stream)] = value
    stream = bytes(stream[: max(1, len(stream) - cut % len(stream))])
    data = stream.hex().encode() if hexed else stream
    result = read_jt808(data)
    check_result(result)
    assert all(e["byte_offset"] >= 0 and e["reason"] for e in result.errors)
    if not flips and cut % len(b"".join(frames)) == 0:
        assert result.points.height == n and not result.errors  # an undamaged stream reads whole
    assert result.points.height <= n + len(flips)  # a flip can split a frame, never invent many


def test_a_parquet_that_is_not_one_is_refused_clearly():
    path = FOLDER / "broken.parquet"
    buf = io.BytesIO()
    pl.DataFrame({"vehicle": ["a"], "time": ["2026-11-23 10:00:00"], "lat": [30.0], "lon": [120.0]}).write_parquet(buf)
    path.write_bytes(buf.getvalue()[:-20])
    assert read_clearly(path) is None
