"""The one parser for dates and months typed by people (every CLI date option goes through it).

Accepted: a year of four digits first, then month and day, separated by '-', '/' or '.', or
written 2026年11月20日: 2026-11-20, 2026/11/20, 2026.11.20, 2026-1-5. Refused with one clear line
(exit 2): digits without separators (20261120: one digit too many or too few is another valid
date), day-first forms (20/11/2026), and dates that do not exist (2026-13-01, 2026-02-30).
"""
from __future__ import annotations

import datetime as dt
import re

from messages.errors import ValidationError

_DATE = re.compile(r"^\s*(\d{4})\s*(?:[-/.]|年)\s*(\d{1,2})\s*(?:[-/.]|月)\s*(\d{1,2})\s*日?\s*$")
_MONTH = re.compile(r"^\s*(\d{4})\s*(?:[-/.]|年)\s*(\d{1,2})\s*月?\s*$")


def parse_date(value: str, option: str = "--date") -> dt.date:
    match = _DATE.match(value or "")
    if not match:
        raise ValidationError("err.date_format", option=option, value=value)
    try:
        return dt.date(*map(int, match.groups()))
    except ValueError:
        raise ValidationError("err.no_such_date", option=option, value=value) from None


def parse_month(value: str, option: str = "--month") -> str:
    """'YYYY-MM' for a month typed as 2026-11, 2026/11 or 2026年11月."""
    match = _MONTH.match(value or "")
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise ValidationError("err.bad_month", option=option, value=value)
    return f"{int(match.group(1)):04d}-{int(match.group(2)):02d}"


def not_after_today(day: dt.date, today: dt.date, option: str = "--date") -> dt.date:
    """`day`, refused when it is after `today` (nothing is recorded in the future)."""
    if day > today:
        raise ValidationError("err.date_in_future", option=option, value=day.isoformat(), today=today.isoformat())
    return day
