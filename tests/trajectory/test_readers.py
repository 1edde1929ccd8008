"""Readers: JT/T 808 against published vectors, round trips and malformed frames; CSV and JSON."""
import datetime as dt
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from messages.errors import ValidationError
from rules.trajectory import read, read_platform_json
from rules.trajectory.jt808 import (
    FrameError,
    decode_frame,
    encode_position,
    read_jt808,
    split_frames,
)

DATA = Path(__file__).resolve().parents[1] / "data"
BEIJING = dt.timezone(dt.timedelta(hours=8))


@pytest.mark.parametrize("vector", json.loads((DATA / "jt808_vectors.json").read_text()), ids=lambda v: v["name"][:30])
def test_published_vectors_decode_exactly(vector):
    p = decode_frame(bytes.fromhex(vector["frame_hex"]))
    got = {"message_id": p.message_id, "body_length": p.body_length, "terminal_phone": p.terminal_phone,
           "message_number": p.message_number, "alarm": p.alarm, "status": p.status, "lat": p.lat, "lon": p.lon,
           "altitude_m": p.altitude_m, "speed_kmh": p.speed_kmh, "direction": p.direction,
           "time_local": p.time_local.isoformat(), **p.extras}
    assert {k: got.get(k) for k in vector["expect"]} == vector["expect"]


@settings(max_examples=300)
@given(lat=st.floats(-89.9, 89.9), lon=st.floats(-179.9, 179.9), speed=st.floats(0, 300), serial=st.integers(0, 65535),
       version=st.sampled_from([None, 1]), seconds=st.integers(0, 30 * 365 * 86400), alarm=st.integers(0, 2**32 - 1))
def test_encode_decode_round_trip_both_headers(lat, lon, speed, serial, version, seconds, alarm):
    when = dt.datetime(2001, 1, 1, tzinfo=BEIJING) + dt.timedelta(seconds=seconds)
    frame = encode_position("13800138000", serial, when, lat, lon, speed, alarm=alarm, version=version, mileage_km=12.3)
    p = decode_frame(frame)
    assert (p.message_number, p.alarm, p.time_local, p.version) == (serial, alarm, when, version)
    assert abs(p.lat - lat) <= 5e-7 and abs(p.lon - lon) <= 5e-7 and abs(p.speed_kmh - speed) <= 0.05 + 1e-9  # 0.1 km/h units, rounded
    assert p.terminal_phone.lstrip("0") == "13800138000" and p.extras["mileage_km"] == 12.3
    assert (p.status & 0x4 != 0) == (round(abs(lat) * 1e6) > 0 and lat < 0)


@settings(max_examples=500)
@given(st.binary(max_size=120))
def test_random_bytes_never_crash_the_decoder(data):
    result = read_jt808(data)  # only clear errors with their offsets
    assert all("byte_offset" in e and e["reason"] for e in result.errors)


def test_malformed_frames_are_reported_with_offsets_and_skipped_or_rejected():
    good = encode_position("1", 1, dt.datetime(2026, 11, 23, 10, tzinfo=BEIJING), 30.1, 120.2, 55.5)
    bad_check = bytearray(good)
    bad_check[-2] ^= 0xFF
    stream = good + bytes(bad_check) + good
    result = read_jt808(stream)
    assert result.points.height == 2
    assert result.errors == [{"byte_offset": len(good), "reason": result.errors[0]["reason"]}]
    assert "check code" in result.errors[0]["reason"]
    with pytest.raises(ValidationError):
        read_jt808(stream, on_error="reject")
    with pytest.raises(FrameError):
        decode_frame(b"\x7e\x02\x00\x7e")


def test_hex_text_and_back_to_back_frames():
    a = encode_position("1", 1, dt.datetime(2026, 11, 23, 10, tzinfo=BEIJING), 30.1, 120.2, 55.5)
    b = encode_position("1", 2, dt.datetime(2026, 11, 23, 10, 0, 30, tzinfo=BEIJING), 30.1, 120.2, 56.5)
    assert len(split_frames(a + b)) == 2
    points = read_jt808((a + b).hex().upper().encode()).points
    assert points["speed_kmh"].to_list() == [55.5, 56.5]
    assert points["time"][0] == dt.datetime(2026, 11, 23, 2, tzinfo=dt.timezone.utc)


def test_csv_with_bad_rows_reports_line_numbers(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("plate,gps_time,latitude,longitude,speed\n"
                    "浙A1,2026-11-23 10:00:00,30.1,120.1,50\n"
                    "浙A1,not a time,30.1,120.1,50\n"
                    "浙A1,2026-11-23 10:01:00,,120.1,50\n"
                    "浙A1,2026-11-23 10:01:30,30.1,120.1,52\n", encoding="utf-8")
    r = read(path)
    assert r.points.height == 2 and [e["line"] for e in r.errors] == [3, 4]
    assert r.points["time"][0] == dt.datetime(2026, 11, 23, 2, tzinfo=dt.timezone.utc)  # naive = Beijing time
    with pytest.raises(ValidationError):
        read(path, on_error="reject")
    (tmp_path / "q.csv").write_text("x,y\n1,2\n")
    with pytest.raises(ValidationError) as err:
        read(tmp_path / "q.csv")
    assert err.value.key == "err.positions_columns"


def test_platform_json_pages_and_parquet(tmp_path):
    page = {"vehicle": "浙A12345", "positions": [
        {"time": "2026-11-23T08:00:00+08:00", "lat": 30.27, "lon": 120.15, "speed_kmh": 42.5, "heading": 90, "status": 3, "alarm": 0},
        {"time": "2026-11-23T08:00:30+08:00", "lat": 30.271, "lon": 120.15, "speed_kmh": 43.0, "heading": 90, "status": 3, "alarm": 4}],
        "next_page_token": None}
    r = read_platform_json([page, {**page, "positions": page["positions"][:1]}])
    assert r.points.height == 3 and r.points["alarm"].to_list() == [0, 4, 0] and r.points["vehicle"][0] == "浙A12345"
    r.points.write_parquet(tmp_path / "p.parquet")
    assert read(tmp_path / "p.parquet").points.equals(r.points)


def _frames():
    a = encode_position("1", 1, dt.datetime(2026, 11, 23, 10, tzinfo=BEIJING), 30.1, 120.2, 55.5)
    b = encode_position("1", 2, dt.datetime(2026, 11, 23, 10, 0, 30, tzinfo=BEIJING), 30.1, 120.2, 56.5)
    return a, b


@pytest.mark.parametrize("style", ["bom_crlf", "spaces", "commas_0x", "lower_tabs"])
def test_hex_text_as_captures_are_shared_with_a_cut_off_last_frame(style):
    a, b = _frames()
    cut = a[:20]  # the capture stopped inside the third frame
    data = a + b + cut
    pairs = [f"{x:02X}" for x in data]
    text = {"bom_crlf": "\ufeff" + "\r\n".join("".join(pairs[i:i + 16]) for i in range(0, len(pairs), 16)) + "\r\n",
            "spaces": " ".join(pairs),
            "commas_0x": ", ".join(f"0x{p}" for p in pairs),
            "lower_tabs": "\t".join(p.lower() for p in pairs) + "\n"}[style]
    result = read_jt808(text.encode("utf-8"))
    assert result.points["speed_kmh"].to_list() == [55.5, 56.5]
    (damage,) = result.errors
    assert damage["byte_offset"] == len(a) + len(b) and "cut off" in damage["reason"]
    assert text.encode("utf-8")[damage["text_offset"]:damage["text_offset"] + 4].decode().lower().lstrip("0x").startswith("7e")


def test_hex_text_with_an_odd_last_digit_reports_it():
    a, b = _frames()
    result = read_jt808((a + b).hex().encode() + b"7")
    assert result.points.height == 2
    assert [e["reason"] for e in result.errors] == ["odd number of hex digits: the last one is ignored"]


@pytest.mark.parametrize("name,content,why", [
    ("empty.csv", b"", "empty"),
    ("header.csv", b"vehicle,time,lat,lon\n", "no records"),
    ("bad.csv", b"vehicle,time,lat,lon\nA,not a time,30,120\n", "line 2: unreadable time"),
    ("cut.hex", b"7e0200", "cut off"),
    ("noise.jt808", b"\x00\x01\x02 no frames here", "no records"),
    ("none.json", b"[]", "no records"),
])
def test_a_file_with_no_positions_is_an_error_that_says_why(tmp_path, name, content, why):
    from typer.testing import CliRunner

    import main

    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ValidationError):
        read(path)
    out = CliRunner().invoke(main.app, ["--lang", "en", "trajectory", "scan", str(path)])
    assert out.exit_code == 2 and why in out.output and "no usable positions" in out.output


def test_parquet_plates_are_text_unless_codes_are_asked_for(tmp_path):
    """`read` gives plates as text (a frame to stack or join with others), whether the file holds
    them as text or as categorical codes; `coded_plates=True` (what `trajectory scan` asks for)
    gives codes either way, the same plates."""
    import datetime as dt

    import polars as pl

    from rules.trajectory.readers import read

    t0 = dt.datetime(2026, 11, 23, 1, tzinfo=dt.UTC)
    frame = pl.DataFrame({"vehicle": [" 浙A1 ", "浙A2", "浙A1 "], "time": [t0, t0, t0 + dt.timedelta(seconds=30)],
                          "lat": [30.0, 30.1, 30.0001], "lon": [120.0, 120.1, 120.0], "speed_kmh": [10.0, 0.0, 12.0]})
    for stored in (pl.Utf8, pl.Categorical):
        path = tmp_path / f"{stored}.parquet"
        frame.with_columns(pl.col("vehicle").cast(stored)).write_parquet(path)
        text, coded = read(path).points, read(path, coded_plates=True).points
        assert text.schema["vehicle"] == pl.Utf8 and text["vehicle"].to_list() == ["浙A1", "浙A2", "浙A1"]
        assert isinstance(coded.schema["vehicle"], pl.Categorical) and coded["vehicle"].cast(pl.Utf8).to_list() == ["浙A1", "浙A2", "浙A1"]


@pytest.mark.parametrize("name,as_text", [("capture.txt", True), ("capture", True), ("capture.log", True),
                                          ("capture.dat", False), ("capture.txt", False)])
def test_a_capture_saved_under_a_name_that_does_not_say_jt808_is_read_by_its_content(tmp_path, name, as_text):
    """Terminal captures come as .txt (hex text) or .dat (raw bytes): the first bytes decide."""
    from typer.testing import CliRunner

    import main

    a, b = _frames()
    data = a + b + a[:20]
    content = ("\ufeff" + " ".join(f"0x{x:02X}" for x in data) + "\r\n").encode() if as_text else data
    path = tmp_path / name
    path.write_bytes(content)
    result = read(path)
    assert result.points["speed_kmh"].to_list() == [55.5, 56.5] and len(result.errors) == 1
    out = CliRunner().invoke(main.app, ["--lang", "en", "trajectory", "scan", str(path), "--vehicle-class", "bus", "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["cleaning"]["points_in"] == 2


def test_a_txt_file_of_positions_is_still_csv(tmp_path):
    lines = ["vehicle,time,lat,lon", "7E0001,2026-11-23 10:00:00,30.1,120.2", "7E0001,2026-11-23 10:00:30,30.1,120.2"]
    path = tmp_path / "day.txt"
    path.write_text("\n".join(lines) + "\n")
    assert read(path).points["vehicle"].to_list() == ["7E0001", "7E0001"]
    bare = tmp_path / "day"
    bare.write_text("\n".join(lines) + "\n")
    with pytest.raises(ValidationError):  # no suffix and not frames: the format must be given
        read(bare)
    assert read(bare, "csv").points.height == 2
