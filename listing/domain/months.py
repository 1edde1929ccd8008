"""Months owed (每月检查义务): which calendar months a listed company must be inspected in by each
department, and the lifecycle of one month's obligation.

A month is owed when the period looked at (a listing from its confirmation, or one cycle) covers
at least `min_days` of its days: a company confirmed on the 25th does not owe that month's
visit, one confirmed on the 10th does. The acceptance checklist uses the same rule per cycle.

    owed --inspected--> met
      |----fall_due---> missed --inspected--> met   (an inspection dated in the month, recorded late)
      +----waive------> waived                      (the listing ended before the month was owed)
    met --lost--> owed   (the only inspection counting for it was voided or moved: the clock
                          then says owed or, once fallen due, missed)

An obligation falls due at local midnight at the start of the next month. Pure: no database, no
clock; `today` is passed in.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from dateutil.relativedelta import relativedelta

DEPARTMENTS = ("transport", "police")
MONTH_MIN_DAYS = 15


class Obligation(StrEnum):
    OWED = "owed"
    MET = "met"
    MISSED = "missed"
    WAIVED = "waived"


class ObligationEvent(StrEnum):
    INSPECTED = "inspected"
    FALL_DUE = "fall_due"
    WAIVE = "waive"
    LOST = "lost"  # the inspection(s) that met it were voided or corrected away


TRANSITIONS: dict[tuple[Obligation, ObligationEvent], Obligation] = {
    (Obligation.OWED, ObligationEvent.INSPECTED): Obligation.MET,
    (Obligation.OWED, ObligationEvent.FALL_DUE): Obligation.MISSED,
    (Obligation.OWED, ObligationEvent.WAIVE): Obligation.WAIVED,
    (Obligation.MISSED, ObligationEvent.INSPECTED): Obligation.MET,
    (Obligation.MET, ObligationEvent.LOST): Obligation.OWED,
}


def month_of(day: dt.date) -> str:
    return f"{day:%Y-%m}"


def first_day(month: str) -> dt.date:
    year, mon = map(int, month.split("-"))
    return dt.date(year, mon, 1)


def due_date(month: str) -> dt.date:
    """The local day the month's obligation falls due: the 1st of the next month."""
    return first_day(month) + relativedelta(months=1)


def months_between(start: dt.date, end: dt.date) -> list[str]:
    """Calendar months touched by the days start <= day < end."""
    out, day = [], start.replace(day=1)
    while day < end:
        out.append(month_of(day))
        day += relativedelta(months=1)
    return out


def covered_days(month: str, start: dt.date, end: dt.date) -> int:
    """How many days of `month` lie in start <= day < end."""
    lo, hi = max(start, first_day(month)), min(end, due_date(month))
    return max(0, (hi - lo).days)


def owed(start: dt.date, end: dt.date, min_days: int = MONTH_MIN_DAYS) -> list[str]:
    """Months owed by the period start <= day < end."""
    return [m for m in months_between(start, end) if covered_days(m, start, end) >= min_days]


def owed_while_listed(confirmed_on: dt.date, ended_on: dt.date | None, today: dt.date,
                      min_days: int = MONTH_MIN_DAYS) -> list[str]:
    """Months owed by a listing up to the month containing `today`. While the listing is open
    (`ended_on` None) it is taken to last to the end of the current month, so this month's
    obligation exists from its first day (and reminders can go out before month end)."""
    end = ended_on if ended_on is not None else due_date(month_of(today))
    return [m for m in owed(confirmed_on, end, min_days) if first_day(m) <= today]


def step(state: Obligation, event: ObligationEvent) -> Obligation:
    """The next state; an event the table does not list leaves the obligation as it is
    (a second inspection of a met month, a waiver after a miss was recorded)."""
    return TRANSITIONS.get((state, event), state)


def settle(state: Obligation, month: str, inspected: bool, today: dt.date, still_owed: bool = True) -> Obligation:
    """Where one obligation stands on `today`: met when an inspection counts for it, waived when
    the listing ended so early the month is no longer owed, missed once it has fallen due. Met
    stays met here (the daily job never takes a month back); see `resettle`."""
    if inspected:
        return step(state, ObligationEvent.INSPECTED)
    if not still_owed:
        return step(state, ObligationEvent.WAIVE)
    if today >= due_date(month):
        return step(state, ObligationEvent.FALL_DUE)
    return state


def resettle(state: Obligation, month: str, inspected: bool, today: dt.date, still_owed: bool = True) -> Obligation:
    """Where one obligation stands after an inspection was voided or corrected: a met month with
    no counting inspection left goes back to owed, and from there where the clock says (missed
    once fallen due); otherwise as `settle`."""
    if not inspected:
        state = step(state, ObligationEvent.LOST)
    return settle(state, month, inspected, today, still_owed)


def counts_for(day: dt.date, month: str, confirmed_on: dt.date, today: dt.date) -> bool:
    """An inspection counts for a month's obligation when it is dated in that month, not before
    the listing's confirmation and not after today."""
    return month_of(day) == month and confirmed_on <= day <= today


def reminder_due(state: Obligation, month: str, today: dt.date, remind_from_day: int) -> bool:
    """Remind only for a month that is owed, still open, and is the current month from
    `remind_from_day` on."""
    return state is Obligation.OWED and month_of(today) == month and today.day >= remind_from_day
