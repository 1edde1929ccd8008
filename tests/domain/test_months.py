"""Months owed and the obligation lifecycle."""
import datetime as dt

import pytest

from listing.domain import months
from listing.domain.months import Obligation, ObligationEvent


@pytest.mark.parametrize("start,end,owed", [
    (dt.date(2026, 1, 10), dt.date(2026, 4, 10), ["2026-01", "2026-02", "2026-03"]),  # Jan 22 days, Apr 9
    (dt.date(2026, 1, 18), dt.date(2026, 4, 18), ["2026-02", "2026-03", "2026-04"]),  # Jan 14 days: not owed
    (dt.date(2026, 1, 17), dt.date(2026, 4, 17), ["2026-01", "2026-02", "2026-03", "2026-04"]),  # Jan 15, Apr 16
    (dt.date(2026, 2, 14), dt.date(2026, 3, 1), ["2026-02"]),  # the 15 last days of February
    (dt.date(2026, 2, 15), dt.date(2026, 3, 1), []),
])
def test_a_month_is_owed_from_fifteen_days(start, end, owed):
    assert months.owed(start, end) == owed


def test_owed_while_listed_includes_the_current_month_from_its_first_day_only_if_owed():
    confirmed = dt.date(2026, 3, 20)  # March: 12 days, not owed
    assert months.owed_while_listed(confirmed, None, dt.date(2026, 3, 25)) == []
    assert months.owed_while_listed(confirmed, None, dt.date(2026, 4, 1)) == ["2026-04"]
    assert months.owed_while_listed(confirmed, None, dt.date(2026, 6, 2)) == ["2026-04", "2026-05", "2026-06"]
    # delisted as of 10 June: June is no longer owed
    assert months.owed_while_listed(confirmed, dt.date(2026, 6, 10), dt.date(2026, 6, 12)) == ["2026-04", "2026-05"]


def test_settle_walks_the_table():
    m = "2026-03"
    assert months.settle(Obligation.OWED, m, False, dt.date(2026, 3, 31)) is Obligation.OWED
    assert months.settle(Obligation.OWED, m, False, dt.date(2026, 4, 1)) is Obligation.MISSED
    assert months.settle(Obligation.OWED, m, False, dt.date(2026, 5, 20)) is Obligation.MISSED  # weeks late: still a miss
    assert months.settle(Obligation.OWED, m, True, dt.date(2026, 3, 2)) is Obligation.MET
    assert months.settle(Obligation.MISSED, m, True, dt.date(2026, 4, 3)) is Obligation.MET
    assert months.settle(Obligation.OWED, m, False, dt.date(2026, 3, 5), still_owed=False) is Obligation.WAIVED
    assert months.settle(Obligation.MET, m, False, dt.date(2026, 4, 5)) is Obligation.MET
    for (state, event), target in months.TRANSITIONS.items():
        assert months.step(state, event) is target
    assert months.step(Obligation.WAIVED, ObligationEvent.FALL_DUE) is Obligation.WAIVED


def test_counts_for_and_reminders():
    confirmed = dt.date(2026, 3, 10)
    assert not months.counts_for(dt.date(2026, 3, 9), "2026-03", confirmed, dt.date(2026, 3, 20))  # before confirmation
    assert not months.counts_for(dt.date(2026, 3, 21), "2026-03", confirmed, dt.date(2026, 3, 20))  # after today
    assert months.counts_for(dt.date(2026, 3, 10), "2026-03", confirmed, dt.date(2026, 3, 20))
    assert months.reminder_due(Obligation.OWED, "2026-03", dt.date(2026, 3, 20), 20)
    assert not months.reminder_due(Obligation.OWED, "2026-03", dt.date(2026, 3, 19), 20)
    assert not months.reminder_due(Obligation.MET, "2026-03", dt.date(2026, 3, 25), 20)
    assert not months.reminder_due(Obligation.OWED, "2026-03", dt.date(2026, 4, 25), 20)  # not this month's
