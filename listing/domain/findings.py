"""The finding lifecycle (抽查线索), one transition table:

    suspected --confirm--> confirmed   (a violation of the driver and company, and a problem)
        +------dismiss---> dismissed   (needs a reason)

A data finding (no data, partial data) confirmed is a problem for the company, never a traffic
violation. Pure: no database, no clock.
"""
from __future__ import annotations

from dataclasses import dataclass

from listing.domain.checklist import DATA_RULES
from messages.errors import Conflict, ValidationError

TRANSITIONS: dict[tuple[str, str], str] = {
    ("suspected", "confirm"): "confirmed",
    ("suspected", "dismiss"): "dismissed",
}


@dataclass(frozen=True)
class Decision:
    state: str
    makes_violation: bool
    makes_problem: bool


def decide(finding_id: int, state: str, action: str, rule: str, reason: str | None = None) -> Decision:
    target = TRANSITIONS.get((state, action))
    if target is None:
        raise Conflict("err.finding_state", id=finding_id, state=state)
    if action == "dismiss" and not (reason and reason.strip()):
        raise ValidationError("err.reason_required")
    confirmed = target == "confirmed"
    return Decision(target, makes_violation=confirmed and rule not in DATA_RULES, makes_problem=confirmed)
