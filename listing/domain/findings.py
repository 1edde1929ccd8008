"""The finding lifecycle (抽查线索), one transition table:

    suspected --confirm--> confirmed   (a violation of the driver and company, and a problem)
        +------dismiss---> dismissed   (needs a reason)

    confirmed / dismissed --reopen--> suspected   (decided by mistake: to be decided again)
    any of them ----------void------> voided      (not a finding at all, e.g. a GPS glitch; final)

Reopening and voiding need a reason; leaving `confirmed` undoes what the confirmation made (its
violation and its problem are voided, not deleted). A data finding (no data, partial data)
confirmed is a problem for the company, never a traffic violation. Pure: no database, no clock.
"""
from __future__ import annotations

from dataclasses import dataclass

from listing.domain.checklist import DATA_RULES
from messages.errors import Conflict, ValidationError

TRANSITIONS: dict[tuple[str, str], str] = {
    ("suspected", "confirm"): "confirmed",
    ("suspected", "dismiss"): "dismissed",
    ("confirmed", "reopen"): "suspected",
    ("dismissed", "reopen"): "suspected",
    ("suspected", "void"): "voided",
    ("confirmed", "void"): "voided",
    ("dismissed", "void"): "voided",
}
NEEDS_REASON = ("dismiss", "reopen", "void")
# what a finding counts as: the states the checklist, the board and reports leave out
NOT_COUNTED = ("dismissed", "voided")


@dataclass(frozen=True)
class Decision:
    state: str
    makes_violation: bool
    makes_problem: bool
    undoes_confirmation: bool = False  # void the violation and the problem the confirmation made


def decide(finding_id: int, state: str, action: str, rule: str, reason: str | None = None) -> Decision:
    target = TRANSITIONS.get((state, action))
    if target is None:
        raise Conflict("err.finding_state", id=finding_id, state=state)
    if action in NEEDS_REASON and not (reason and reason.strip()):
        raise ValidationError("err.reason_required")
    confirmed = target == "confirmed"
    return Decision(target, makes_violation=confirmed and rule not in DATA_RULES, makes_problem=confirmed,
                    undoes_confirmation=state == "confirmed")
