"""Cycles: contiguous however late the review, due dates counted from the confirmation."""
import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from listing.domain import cycles
from listing.domain.cycles import CycleEvent, CycleState, Period
from messages.errors import Conflict


def test_first_cycle_is_three_calendar_months_clamped_to_month_end():
    assert cycles.first(dt.date(2026, 11, 30), 3) == Period(1, dt.date(2026, 11, 30), dt.date(2027, 2, 28))


def test_following_cycle_starts_at_the_previous_due_and_does_not_drift():
    confirmed = dt.date(2026, 11, 30)
    one = cycles.first(confirmed, 3)
    two = cycles.following(one, 3, confirmed)
    three = cycles.following(two, 3, confirmed)
    assert (two.start, two.due) == (dt.date(2027, 2, 28), dt.date(2027, 5, 30))  # not 28 May: no drift
    assert (three.start, three.due) == (dt.date(2027, 5, 30), dt.date(2027, 8, 30))
    assert cycles.gaps_and_overlaps([one, two, three]) == []


def test_a_gap_or_overlap_is_reported():
    a = Period(1, dt.date(2026, 1, 1), dt.date(2026, 4, 1))
    b = Period(2, dt.date(2026, 4, 5), dt.date(2026, 7, 5))
    assert cycles.gaps_and_overlaps([a, b]) == [(dt.date(2026, 4, 1), dt.date(2026, 4, 5))]


@pytest.mark.parametrize("state", list(CycleState))
@pytest.mark.parametrize("event", list(CycleEvent))
def test_only_the_table_moves_a_cycle(state, event):
    period = Period(1, dt.date(2026, 1, 1), dt.date(2026, 4, 1), state)
    if (state, event) in cycles.TRANSITIONS:
        assert cycles.advance(period, event).state is cycles.TRANSITIONS[(state, event)]
    else:
        with pytest.raises(Conflict):
            cycles.advance(period, event)


@settings(max_examples=200, deadline=None)
@given(confirmed=st.dates(dt.date(2020, 1, 1), dt.date(2035, 12, 31)), fails=st.integers(0, 12),
       months=st.integers(1, 6))
def test_every_day_from_confirmation_belongs_to_exactly_one_cycle(confirmed, fails, months):
    periods = [cycles.first(confirmed, months)]
    for _ in range(fails):
        periods.append(cycles.following(periods[-1], months, confirmed))
    day = confirmed
    while day < periods[-1].due:
        assert sum(p.contains(day) for p in periods) == 1
        day += dt.timedelta(days=17)
    assert cycles.gaps_and_overlaps(periods) == []
    assert all(p.days >= 28 * months for p in periods)
