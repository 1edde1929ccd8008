"""JT/T 808 position reports (message 0x0200): framing (0x7e), escaping (0x7d 0x02 / 0x7d 0x01),
XOR check code, 2013 and 2019 headers, body fields and common extras.

Lat/lon are 1e-6 degrees (status bit 2 = south, bit 3 = west), speed 0.1 km/h, time BCD
YYMMDDhhmmss in GMT+8. A malformed frame is reported with its byte offset, never misread.
"""
from __future__ import annotations

import datetime as dt
import re
import struct
from dataclasses import dataclass, field

import polars as pl

from messages.errors import ValidationError
from rules.trajectory.columns import ReadResult, conform, empty

BEIJING = dt.timezone(dt.timedelta(hours=8))


class FrameError(ValueError):
    pass


@dataclass
class Position:
    message_id: int
    body_length: int
    terminal_phone: str
    message_number: int
    version: int | None
    alarm: int
    status: int
    lat: float
    lon: float
    altitude_m: int
    speed_kmh: float
    direction: int
    time_local: dt.datetime
    extras: dict = field(default_factory=dict)


def unescape(raw: bytes) -> bytes:
    out = bytearray()
    i = 0
    while i < len(raw):
        b = raw[i]
        if b == 0x7D:
            if i + 1 >= len(raw) or raw[i + 1] not in (0x01, 0x02):
                raise FrameError("bad escape sequence")
            out.append(0x7D if raw[i + 1] == 0x01 else 0x7E)
            i += 2
        else:
            out.append(b)
            i += 1
    return bytes(out)


def _bcd(data: bytes) -> str:
    text = data.hex()
    if not text.isdigit():
        raise FrameError("BCD field holds a non-decimal digit")
    return text


def decode_frame(frame: bytes) -> Position:
    """One frame including its 0x7e flags."""
    if len(frame) < 2 or frame[0] != 0x7E or frame[-1] != 0x7E:
        raise FrameError("frame must start and end with 0x7e")
    data = unescape(frame[1:-1])
    if len(data) < 13:
        raise FrameError("frame too short")
    payload, check = data[:-1], data[-1]
    x = 0
    for b in payload:
        x ^= b
    if x != check:
        raise FrameError(f"check code {check:#04x} != computed {x:#04x}")
    msg_id, attrs = struct.unpack(">HH", payload[:4])
    length = attrs & 0x03FF
    subpackage = bool(attrs & 0x2000)
    if attrs & 0x4000:  # 2019: version byte + 10-byte BCD phone
        version, phone, pos = payload[4], _bcd(payload[5:15]), 15
    else:
        version, phone, pos = None, _bcd(payload[4:10]), 10
    serial = struct.unpack(">H", payload[pos:pos + 2])[0]
    pos += 2 + (4 if subpackage else 0)
    body = payload[pos:]
    if len(body) != length:
        raise FrameError(f"body length {len(body)} != header {length}")
    if msg_id != 0x0200:
        raise FrameError(f"message {msg_id:#06x} is not a position report (0x0200)")
    if length < 28:
        raise FrameError("position body shorter than 28 bytes")
    alarm, status, lat, lon, alt, speed, direction = struct.unpack(">IIIIHHH", body[:22])
    stamp = _bcd(body[22:28])
    try:
        local = dt.datetime(2000 + int(stamp[0:2]), int(stamp[2:4]), int(stamp[4:6]), int(stamp[6:8]),
                            int(stamp[8:10]), int(stamp[10:12]), tzinfo=BEIJING)
    except ValueError:
        raise FrameError(f"invalid time {stamp}") from None
    lat_deg = lat / 1e6 * (-1 if status & 0x4 else 1)
    lon_deg = lon / 1e6 * (-1 if status & 0x8 else 1)
    return Position(msg_id, length, phone, serial, version, alarm, status, lat_deg, lon_deg, alt, speed / 10.0,
                    direction, local, _extras(body[28:]))


def _extras(data: bytes) -> dict:
    out, i = {}, 0
    while i + 2 <= len(data):
        ident, n = data[i], data[i + 1]
        value = data[i + 2:i + 2 + n]
        if len(value) != n:
            raise FrameError("truncated extra field")
        if ident == 0x01 and n == 4:
            out["mileage_km"] = struct.unpack(">I", value)[0] / 10.0
        elif ident == 0x02 and n == 2:
            out["fuel_l"] = struct.unpack(">H", value)[0] / 10.0
        elif ident == 0x03 and n == 2:
            out["tachograph_speed_kmh"] = struct.unpack(">H", value)[0] / 10.0
        elif ident == 0x30 and n == 1:
            out["signal_strength"] = value[0]
        elif ident == 0x31 and n == 1:
            out["satellites"] = value[0]
        else:
            out[f"0x{ident:02x}"] = value.hex()
        i += 2 + n
    if i != len(data):
        raise FrameError("trailing bytes after extras")
    return out


_HEX_TEXT = re.compile(rb"(?:[0-9A-Fa-f]|0[xX]|[\s,;:|\-])+")
_HEX_DIGIT = re.compile(rb"[0-9A-Fa-f]")


def hex_text(data: bytes) -> tuple[bytes, list[int], list[dict]] | None:
    """Hex text as captures are shared (a BOM, CRLF, spaces, commas, `0x` prefixes): the bytes it
    spells, the text offset of each byte, and the damage (an odd last digit). None: not hex text."""
    body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    if not body.strip() or not _HEX_TEXT.fullmatch(body):
        return None
    cleaned = re.sub(rb"0[xX](?=[0-9A-Fa-f])", b"  ", body)  # keep offsets: a prefix becomes blanks
    where = [m.start() + (len(data) - len(body)) for m in _HEX_DIGIT.finditer(cleaned)]
    digits = b"".join(_HEX_DIGIT.findall(cleaned))
    if not digits.lower().startswith(b"7e"):
        return None
    damage = []
    if len(digits) % 2:
        damage.append({"byte_offset": len(digits) // 2, "text_offset": where[-1], "reason": "odd number of hex digits: the last one is ignored"})
        digits = digits[:-1]
    return bytes.fromhex(digits.decode()), where[::2], damage


def split_frames(data: bytes) -> list[tuple[int, bytes]]:
    """(byte offset, frame) for each 0x7e ... 0x7e in a byte stream."""
    frames, i = [], 0
    while True:
        start = data.find(b"\x7e", i)
        if start < 0:
            break
        end = data.find(b"\x7e", start + 1)
        if end < 0:
            frames.append((start, data[start:]))
            break
        if end == start + 1:  # back-to-back flags: the second opens the next frame
            i = end
            continue
        frames.append((start, data[start:end + 1]))
        i = end + 1
    return frames


def read_jt808(data: bytes, on_error: str = "skip"):
    """Positions from binary frames or hex text. Every damaged frame (bad check code, cut off, ...)
    is reported with its byte offset (and text offset for hex text); the valid ones are kept."""

    as_text = hex_text(data)
    where: list[int] | None = None
    errors: list[dict] = []
    if as_text is not None:
        data, where, errors = as_text
    rows = []
    for offset, frame in split_frames(data):
        try:
            if frame[-1:] != b"\x7e" or len(frame) < 2:
                raise FrameError("cut off: the frame has no closing 0x7e")
            p = decode_frame(frame)
        except (FrameError, struct.error) as exc:
            errors.append({"byte_offset": offset, **({"text_offset": where[offset]} if where else {}), "reason": str(exc)})
            continue
        rows.append({"vehicle": p.terminal_phone, "time": p.time_local.astimezone(dt.timezone.utc), "lat": p.lat, "lon": p.lon,
                     "speed_kmh": p.speed_kmh, "heading": float(p.direction), "status": p.status, "alarm": p.alarm})
    errors.sort(key=lambda e: e["byte_offset"])
    if errors and on_error == "reject":
        raise ValidationError("err.positions_malformed", n=len(errors), first=f"byte {errors[0]['byte_offset']}: {errors[0]['reason']}")
    frame = conform(pl.DataFrame(rows)) if rows else empty()
    return ReadResult(frame, errors)


def escape(data: bytes) -> bytes:
    return data.replace(b"\x7d", b"\x7d\x01").replace(b"\x7e", b"\x7d\x02")


def encode_position(phone: str, serial: int, when: dt.datetime, lat: float, lon: float, speed_kmh: float,
                    direction: int = 0, altitude_m: int = 0, alarm: int = 0, status: int = 0x3,
                    version: int | None = None, mileage_km: float | None = None) -> bytes:
    """A complete 0x0200 frame (2013 header, or 2019 with `version`): for tests and simulators."""
    ilat, ilon = round(abs(lat) * 1e6), round(abs(lon) * 1e6)
    status = (status & ~0xC) | (0x4 if lat < 0 and ilat else 0) | (0x8 if lon < 0 and ilon else 0)
    local = when.astimezone(BEIJING)
    body = struct.pack(">IIIIHHH", alarm, status, ilat, ilon, altitude_m,
                       round(speed_kmh * 10), direction) + bytes.fromhex(local.strftime("%y%m%d%H%M%S"))
    if mileage_km is not None:
        body += b"\x01\x04" + struct.pack(">I", round(mileage_km * 10))
    attrs = len(body) | (0x4000 if version is not None else 0)
    if version is None:
        header = struct.pack(">HH", 0x0200, attrs) + bytes.fromhex(phone.rjust(12, "0")) + struct.pack(">H", serial)
    else:
        header = struct.pack(">HHB", 0x0200, attrs, version) + bytes.fromhex(phone.rjust(20, "0")) + struct.pack(">H", serial)
    payload = header + body
    check = 0
    for b in payload:
        check ^= b
    return b"\x7e" + escape(payload + bytes([check])) + b"\x7e"
