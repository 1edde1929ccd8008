"""Cycles (整治周期) of a listing: contiguous periods of `months` calendar months.

    open --end--> ended --pass--> passed
                    |
                    +---fail---> failed   (the next cycle opens at this one's due date)

A cycle covers the local days [start, due): its due date is the first day of the next cycle.
After a fail the next cycle starts at the previous due date, never on the day the reviewer
decided, so every day from confirmation to delisting belongs to exactly one cycle however late
a review is decided. A pass delists as of the due date (the review judges the cycle that ended).

Pure: no database, no clock.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from enum import StrEnum

from dateutil.relativedelta import relativedelta

from messages.errors import Conflict


class CycleState(StrEnum):
    OPEN = "open"
    ENDED = "ended"  # due date reached, acceptance review pending (待验收)
    PASSED = "passed"
    FAILED = "failed"


class CycleEvent(StrEnum):
    END = "end"
    PASS = "pass"
    FAIL = "fail"


TRANSITIONS: dict[tuple[CycleState, CycleEvent], CycleState] = {
    (CycleState.OPEN, CycleEvent.END): CycleState.ENDED,
    (CycleState.ENDED, CycleEvent.PASS): CycleState.PASSED,
    (CycleState.ENDED, CycleEvent.FAIL): CycleState.FAILED,
}


@dataclass(frozen=True)
class Period:
    """One cycle: local days start <= day < due."""

    number: int
    start: dt.date
    due: dt.date
    state: CycleState = CycleState.OPEN

    @property
    def last_day(self) -> dt.date:
        return self.due - dt.timedelta(days=1)

    @property
    def days(self) -> int:
        return (self.due - self.start).days

    def contains(self, day: dt.date) -> bool:
        return self.start <= day < self.due


def add_months(day: dt.date, months: int) -> dt.date:
    """Same day n calendar months later, clamped to the month's end (31 Jan + 1 = 28/29 Feb)."""
    return day + relativedelta(months=months)


def first(confirmed_on: dt.date, months: int) -> Period:
    return Period(1, confirmed_on, add_months(confirmed_on, months))


def following(previous: Period, months: int, confirmed_on: dt.date) -> Period:
    """The cycle after a failed one: it starts at the previous due date, whatever day the
    review was decided. Due dates count from confirmation (cycle n is due n*months after it), so
    a clamped month end (30 Nov + 3 months = 28 Feb) does not drift into the later cycles."""
    number = previous.number + 1
    return Period(number, previous.due, add_months(confirmed_on, number * months))


def advance(period: Period, event: CycleEvent) -> Period:
    target = TRANSITIONS.get((period.state, event))
    if target is None:
        raise Conflict("err.cycle_transition", cycle=period.number, state=period.state.value, event=event.value)
    return replace(period, state=target)


def gaps_and_overlaps(periods: list[Period]) -> list[tuple[dt.date, dt.date]]:
    """(previous due, next start) for every pair of consecutive cycles that is not contiguous;
    empty when every day belongs to exactly one cycle."""
    ordered = sorted(periods, key=lambda p: p.number)
    return [(a.due, b.start) for a, b in zip(ordered, ordered[1:]) if a.due != b.start]
