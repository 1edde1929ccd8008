"""Time helpers. Store UTC, show Asia/Shanghai. Code that needs 'now' takes a clock."""
from __future__ import annotations

import datetime as dt
from typing import Callable
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
UTC = dt.timezone.utc

Clock = Callable[[], dt.datetime]


def system_clock() -> dt.datetime:
    """The real clock (UTC, aware). Inject another for tests and simulations."""
    return dt.datetime.now(UTC)


def to_utc(value: dt.datetime) -> dt.datetime:
    """Aware UTC; a naive time is taken as local Asia/Shanghai (how officers write times)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=LOCAL_TZ)
    return value.astimezone(UTC)


def to_local(value: dt.datetime) -> dt.datetime:
    """Asia/Shanghai; a naive time is taken as UTC (how the store returns them)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(LOCAL_TZ)


def local_text(value: dt.datetime, seconds: bool = False) -> str:
    """How a time is printed for people: Beijing time with its offset, `2026-11-20 10:00+08:00`
    (a naive time is taken as UTC, how the store returns them)."""
    local = to_local(value)
    offset = local.strftime("%z")
    return local.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M") + f"{offset[:3]}:{offset[3:]}"


def local_today(clock: Clock = system_clock) -> dt.date:
    return to_local(clock()).date()
