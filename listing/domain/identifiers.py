"""Identifier checks: unified social credit code (统一社会信用代码, GB 32100-2015), resident ID
number (公民身份号码, GB 11643-1999), vehicle plates (号牌, GA 36-2018 incl. new-energy plates).

Each check has a single-value form that raises `ValidationError` saying what is wrong, and a
vectorised form over a polars Series (for imports of millions of rows) that returns a reason
per value (null = valid). Tests keep both forms, and python-stdnum, in agreement.
"""
from __future__ import annotations

import datetime as dt
import re

from messages.errors import ValidationError

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
RIC_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))
RIC_CHECK = "10X98765432"

_USCC_SHAPE = re.compile(rf"^[{USCC_ALPHABET}]{{2}}[0-9]{{6}}[{USCC_ALPHABET}]{{10}}$")
_RIC_SHAPE = re.compile(r"^[0-9]{17}[0-9X]$")

PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_L = "A-HJ-NP-Z"  # letters on plates: no I, no O
PLATE_PATTERN = (
    rf"^[{PROVINCES}][{_L}]("
    rf"[{_L}0-9]{{4}}[{_L}0-9挂学警港澳]"  # ordinary: 浙A12345, 粤B1234学
    rf"|[A-HJK][{_L}0-9][0-9]{{4}}"  # small new-energy: 浙AD12345 (D/A-E electric, F/G-K hybrid)
    rf"|[0-9]{{5}}[A-HJK]"  # large new-energy: 浙A12345D
    rf")$"
)
_PLATE = re.compile(PLATE_PATTERN)
PHONE_PATTERN = r"^(1[3-9][0-9]{9}|0[0-9]{2,3}-?[0-9]{7,8})$"


def normalise(value: str) -> str:
    """Trim, drop inner spaces, upper-case (officers type codes in many ways)."""
    return re.sub(r"\s+", "", value).upper()


def uscc_check_char(first17: str) -> str:
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def validate_uscc(value: str) -> str:
    code = normalise(value)
    if len(code) != 18:
        raise ValidationError("id.uscc.length", n=len(code))
    if not _USCC_SHAPE.match(code):
        raise ValidationError("id.uscc.format")
    expected = uscc_check_char(code[:17])
    if code[17] != expected:
        raise ValidationError("id.uscc.checksum", expected=expected)
    return code


def ric_check_char(first17: str) -> str:
    return RIC_CHECK[sum(int(c) * w for c, w in zip(first17, RIC_WEIGHTS)) % 11]


def validate_ric(value: str) -> str:
    """Length, digits, birth date and check digit. The birth-place code is not checked against a
    table: region codes are abolished over time while the ID numbers issued under them stay valid."""
    number = normalise(value)
    if len(number) != 18:
        raise ValidationError("id.ric.length", n=len(number))
    if not _RIC_SHAPE.match(number):
        raise ValidationError("id.ric.format")
    try:
        born = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationError("id.ric.birthdate") from None
    if born.year < 1900:
        raise ValidationError("id.ric.birthdate")
    expected = ric_check_char(number[:17])
    if number[17] != expected:
        raise ValidationError("id.ric.checksum", expected=expected)
    return number


def validate_plate(value: str) -> str:
    plate = normalise(value)
    if not _PLATE.match(plate):
        raise ValidationError("id.plate.format", value=value)
    return plate


def mask_ric(number: str | None) -> str | None:
    """Driver personal data is masked unless needed: keep region and check digit."""
    if not number:
        return number
    return number[:6] + "*" * (len(number) - 8) + number[-2:] if len(number) > 8 else "*" * len(number)


def mask_phone(phone: str | None) -> str | None:
    if not phone:
        return phone
    return phone[:3] + "*" * max(len(phone) - 7, 0) + phone[-4:] if len(phone) > 7 else "*" * len(phone)


# ---- vectorised forms (polars), used by imports -------------------------------------------


def _weighted_sum(chars, alphabet: str, weights: tuple[int, ...]):
    """Sum of alphabet-index * weight over the first 17 characters of fixed-width strings."""
    import numpy as np

    table = np.full(128, 0, dtype=np.int64)
    for i, c in enumerate(alphabet):
        table[ord(c)] = i
    raw = np.frombuffer("".join(chars).encode("ascii"), dtype=np.uint8).reshape(len(chars), 18)
    return (table[raw[:, :17]] * np.asarray(weights, dtype=np.int64)).sum(axis=1), raw[:, 17]


def uscc_reasons(values):
    """polars Series of normalised codes -> Series of reason keys (null where valid)."""
    import numpy as np
    import polars as pl

    s = values.cast(pl.Utf8)
    shape_ok = s.str.contains(_USCC_SHAPE.pattern).fill_null(False)
    reasons = np.full(len(s), None, dtype=object)
    lengths = s.str.len_chars().fill_null(0).to_numpy()
    reasons[lengths != 18] = "id.uscc.length"
    bad_shape = (~shape_ok).to_numpy() & (lengths == 18)
    reasons[bad_shape] = "id.uscc.format"
    ok_idx = np.flatnonzero(shape_ok.to_numpy())
    if len(ok_idx):
        codes = s.gather(ok_idx).to_list()
        total, last = _weighted_sum(codes, USCC_ALPHABET, USCC_WEIGHTS)
        alphabet = np.frombuffer(USCC_ALPHABET.encode(), dtype=np.uint8)
        expected = alphabet[(31 - total % 31) % 31]
        reasons[ok_idx[expected != last]] = "id.uscc.checksum"
    return pl.Series(values.name, reasons.tolist(), dtype=pl.Utf8)


def ric_reasons(values):
    """polars Series of normalised ID numbers -> Series of reason keys (null where valid)."""
    import numpy as np
    import polars as pl

    s = values.cast(pl.Utf8)
    n = len(s)
    reasons = np.full(n, None, dtype=object)
    lengths = s.str.len_chars().fill_null(0).to_numpy()
    reasons[lengths != 18] = "id.ric.length"
    shape_ok = s.str.contains(_RIC_SHAPE.pattern).fill_null(False).to_numpy()
    reasons[(~shape_ok) & (lengths == 18)] = "id.ric.format"
    ok_idx = np.flatnonzero(shape_ok)
    if len(ok_idx):
        sub = s.gather(ok_idx)
        born = sub.str.slice(6, 8).str.to_date("%Y%m%d", strict=False)
        bad_date = (born.is_null() | (born.dt.year() < 1900)).to_numpy()
        reasons[ok_idx[bad_date]] = "id.ric.birthdate"
        total, last = _weighted_sum(sub.to_list(), "0123456789", RIC_WEIGHTS)
        check = np.frombuffer(RIC_CHECK.encode(), dtype=np.uint8)[total % 11]
        reasons[ok_idx[(check != last) & ~bad_date]] = "id.ric.checksum"
    return pl.Series(values.name, reasons.tolist(), dtype=pl.Utf8)
