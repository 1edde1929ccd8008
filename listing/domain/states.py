"""The listing case (挂牌整治案件) and its one explicit transition table.

    proposed --confirm--> listed(cycle n) --end_cycle--> under_review --pass--> delisted
        |                        ^                              |
        +--reject--> rejected    +----------- fail -------------+  (cycle n+1; escalate after k fails)

Pure: no database, no clock. `advance` returns the new case; the service writes it and its
audit event in one transaction.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from enum import StrEnum

from listing.domain import cycles
from listing.domain.cycles import add_months  # noqa: F401 - the one month arithmetic, re-exported
from messages.errors import Conflict


class State(StrEnum):
    PROPOSED = "proposed"  # 拟挂牌
    LISTED = "listed"  # 挂牌整治中
    UNDER_REVIEW = "under_review"  # 待验收
    DELISTED = "delisted"  # 摘牌
    REJECTED = "rejected"  # 驳回


class Event(StrEnum):
    CONFIRM = "confirm"
    REJECT = "reject"
    END_CYCLE = "end_cycle"
    PASS = "pass"
    FAIL = "fail"


TRANSITIONS: dict[tuple[State, Event], State] = {
    (State.PROPOSED, Event.CONFIRM): State.LISTED,
    (State.PROPOSED, Event.REJECT): State.REJECTED,
    (State.LISTED, Event.END_CYCLE): State.UNDER_REVIEW,
    (State.UNDER_REVIEW, Event.PASS): State.DELISTED,
    (State.UNDER_REVIEW, Event.FAIL): State.LISTED,
}

OPEN_STATES = frozenset({State.PROPOSED, State.LISTED, State.UNDER_REVIEW})


@dataclass(frozen=True)
class Case:
    """What the state machine needs to know about one listing."""

    id: int | None
    state: State
    cycle: int = 0
    cycle_start: dt.date | None = None
    cycle_due: dt.date | None = None
    consecutive_failures: int = 0
    escalated: bool = False
    confirmed_on: dt.date | None = None  # start of cycle 1: every due date counts from it


@dataclass(frozen=True)
class CyclePolicy:
    months: int = 3  # 三个月一周期
    escalate_after_failures: int = 2  # e.g. two failed cycles start an escalation


def advance(case: Case, event: Event, on: dt.date, policy: CyclePolicy = CyclePolicy()) -> Case:
    """Apply `event` on local date `on`; an illegal transition raises Conflict. A failed review
    opens the next cycle at the previous due date, not on `on` (cycles are contiguous)."""
    target = TRANSITIONS.get((case.state, event))
    if target is None:
        raise Conflict("err.illegal_transition", listing=case.id, state=case.state.value, event=event.value)
    if event is Event.CONFIRM:
        period = cycles.first(on, policy.months)
        return replace(case, state=target, cycle=1, cycle_start=period.start, cycle_due=period.due, confirmed_on=on)
    if event is Event.FAIL:
        failures = case.consecutive_failures + 1
        ended = cycles.Period(case.cycle, case.cycle_start, case.cycle_due)
        period = cycles.following(ended, policy.months, case.confirmed_on or case.cycle_start)
        return replace(
            case,
            state=target,
            cycle=period.number,
            cycle_start=period.start,
            cycle_due=period.due,
            consecutive_failures=failures,
            escalated=case.escalated or failures >= policy.escalate_after_failures,
        )
    return replace(case, state=target)
