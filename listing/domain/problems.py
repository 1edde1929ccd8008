"""The problem lifecycle (问题清单化督办、整改清单化反馈), one transition table:

    open --rectify--> rectified --verify--> verified
      ^                  |                     |
      +-- reopened <-----+------ reopen -------+     (reopened --rectify--> rectified)

    any of them --void--> voided   (opened by mistake: with a reason; counted nowhere, final)

A rectification is verified by a different officer than the one who marked it rectified (four
eyes). Neither may be dated after today or before the problem was created. Pure: no database,
no clock.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from listing.dates import not_after_today
from messages.errors import Conflict, PermissionDenied, ValidationError

TRANSITIONS: dict[tuple[str, str], str] = {
    ("open", "rectify"): "rectified",
    ("reopened", "rectify"): "rectified",
    ("rectified", "verify"): "verified",
    ("rectified", "reopen"): "reopened",
    ("verified", "reopen"): "reopened",
    ("open", "void"): "voided",
    ("reopened", "void"): "voided",
    ("rectified", "void"): "voided",
    ("verified", "void"): "voided",
}
ACTIONS = ("rectify", "verify", "reopen")
CLOSED = "verified"
VOIDED = "voided"
OPEN_STATES = ("open", "reopened", "rectified")  # still to be rectified or verified: they count


@dataclass(frozen=True)
class ProblemCase:
    id: int | None
    state: str
    created_on: dt.date
    rectified_by: str | None = None
    rectified_on: dt.date | None = None
    verified_by: str | None = None
    verified_on: dt.date | None = None


def change(problem: ProblemCase, action: str, officer: str, on: dt.date, today: dt.date) -> ProblemCase:
    """The problem after `action` by `officer` dated `on`; refused when illegal."""
    target = TRANSITIONS.get((problem.state, action)) if action in ACTIONS else None
    if target is None:
        raise Conflict("err.problem_state", id=problem.id, state=problem.state, action=action)
    not_after_today(on, today)
    if on < problem.created_on:
        raise ValidationError("err.before_created", day=on.isoformat(), created=problem.created_on.isoformat())
    if action == "verify" and problem.rectified_by == officer:
        raise PermissionDenied("err.four_eyes", user=officer)
    if action == "rectify":
        return replace(problem, state=target, rectified_by=officer, rectified_on=on)
    if action == "verify":
        return replace(problem, state=target, verified_by=officer, verified_on=on)
    return replace(problem, state=target, verified_by=None, verified_on=None)


def void(problem: ProblemCase, reason: str | None) -> ProblemCase:
    """The problem voided (opened by mistake); a reason is required."""
    target = TRANSITIONS.get((problem.state, "void"))
    if target is None:
        raise Conflict("err.problem_state", id=problem.id, state=problem.state, action="void")
    require_reason(reason)
    return replace(problem, state=target)


def require_reason(reason: str | None) -> str:
    if not (reason and reason.strip()):
        raise ValidationError("err.reason_required")
    return reason.strip()
