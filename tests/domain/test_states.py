import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from listing.domain.states import (
    OPEN_STATES,
    TRANSITIONS,
    Case,
    CyclePolicy,
    Event,
    State,
    add_months,
    advance,
)
from messages.errors import Conflict

DAY = dt.date(2026, 1, 31)


def test_confirm_opens_cycle_one_due_three_calendar_months_later():
    case = advance(Case(id=1, state=State.PROPOSED), Event.CONFIRM, DAY)
    assert (case.state, case.cycle, case.cycle_start, case.cycle_due) == (State.LISTED, 1, DAY, dt.date(2026, 4, 30))


@pytest.mark.parametrize("day,months,expected", [
    (dt.date(2026, 1, 31), 1, dt.date(2026, 2, 28)),
    (dt.date(2028, 1, 31), 1, dt.date(2028, 2, 29)),
    (dt.date(2026, 11, 15), 3, dt.date(2027, 2, 15)),
    (dt.date(2026, 12, 31), 3, dt.date(2027, 3, 31)),
])
def test_add_months_clamps_to_month_end(day, months, expected):
    assert add_months(day, months) == expected


@pytest.mark.parametrize("state", list(State))
@pytest.mark.parametrize("event", list(Event))
def test_every_pair_outside_the_table_is_refused(state, event):
    case = Case(id=7, state=state, cycle=1, cycle_start=DAY, cycle_due=add_months(DAY, 3), confirmed_on=DAY)
    if (state, event) in TRANSITIONS:
        assert advance(case, event, DAY).state == TRANSITIONS[(state, event)]
    else:
        with pytest.raises(Conflict) as err:
            advance(case, event, DAY)
        assert err.value.params["state"] == state.value and err.value.params["event"] == event.value


def test_failed_reviews_open_next_cycles_and_escalate_after_k():
    policy = CyclePolicy(months=3, escalate_after_failures=2)
    case = advance(Case(id=1, state=State.PROPOSED), Event.CONFIRM, DAY, policy)
    case = advance(case, Event.END_CYCLE, dt.date(2026, 4, 30), policy)
    case = advance(case, Event.FAIL, dt.date(2026, 5, 26), policy)  # decided almost four weeks late
    # the next cycle starts at the previous due date; due dates count from the confirmation
    assert (case.state, case.cycle, case.cycle_start, case.cycle_due, case.escalated) == (
        State.LISTED, 2, dt.date(2026, 4, 30), dt.date(2026, 7, 31), False)
    case = advance(advance(case, Event.END_CYCLE, dt.date(2026, 7, 31), policy), Event.FAIL, dt.date(2026, 8, 10), policy)
    assert (case.cycle, case.cycle_start, case.cycle_due, case.consecutive_failures, case.escalated) == (
        3, dt.date(2026, 7, 31), dt.date(2026, 10, 31), 2, True)


@given(st.lists(st.sampled_from(list(Event)), max_size=30))
def test_random_event_sequences_only_walk_the_table(events):
    case = Case(id=1, state=State.PROPOSED)
    fails = 0
    previous_due = None
    for event in events:
        try:
            new = advance(case, event, DAY)
        except Conflict:
            assert (case.state, event) not in TRANSITIONS
            continue
        assert TRANSITIONS[(case.state, event)] == new.state
        fails += event is Event.FAIL
        if event is Event.FAIL:
            assert new.cycle_start == previous_due  # contiguous
        previous_due = new.cycle_due
        case = new
    assert case.consecutive_failures == fails
    if case.state in OPEN_STATES - {State.PROPOSED}:
        assert case.cycle == 1 + fails
