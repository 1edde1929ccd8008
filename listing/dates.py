"""The one parser for dates and months typed by people (every CLI date option goes through it).

Accepted: a year of four digits first, then month and day, separated by '-', '/' or '.', or
written 2026年11月20日: 2026-11-20, 2026/11/20, 2026.11.20, 2026-1-5. Refused with one clear line
(exit 2): digits without separators (20261120: one digit too many or too few is another valid
date), day-first forms (20/11/2026), and dates that do not exist (2026-13-01, 2026-02-30).
"""
from __future__ import annotations

import datetime as dt
import re

from listing.errors import ValidationError
from listing.i18n import register

register(
    {
        "err.date_format": ("{option} 的日期「{value}」无法识别:请写作 年-月-日,如 2026-11-20", "{option}: '{value}' is not a date; write year-month-day, e.g. 2026-11-20"),
        "err.no_such_date": ("{option} 的日期「{value}」不存在", "{option}: '{value}' is not a real date"),
        "err.bad_month": ("{option} 的月份「{value}」无法识别:请写作 年-月,如 2026-11", "{option}: '{value}' is not a month; write year-month, e.g. 2026-11"),
        "err.date_in_future": ("{option} 的日期 {value} 晚于今天({today}):不能记录未来的事", "{option}: {value} is after today ({today}); nothing can be recorded in the future"),
    }
)

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
