"""Correcting an inspection recorded by mistake (更正/作废), one transition table:

    recorded --void-----> voided      (it did not happen)
    recorded --correct--> corrected   (wrong day, department or company: the record is voided
                                       and a new one, pointing at it, says what happened)

Nothing is deleted and nothing is rewritten: the mistaken record stays as it was recorded — what a
decided cycle's stored checklist saw — and counts nowhere (months owed, checklist, board, story
counts). A correction is a new record rather than an update in place for that reason. Both need
a reason; a corrected day is not after today; a correction changes something. Who may: the
recorder or a supervisor (listing.domain.policy.authorize_correction). Pure: no database, no clock.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from listing.dates import not_after_today
from listing.domain.months import DEPARTMENTS
from listing.domain.problems import require_reason
from messages.errors import Conflict, ValidationError

TRANSITIONS: dict[tuple[str, str], str] = {
    ("recorded", "void"): "voided",
    ("recorded", "correct"): "corrected",
}


@dataclass(frozen=True)
class InspectionRecord:
    id: int
    company: str  # USCC
    department: str
    day: dt.date
    voided: bool = False

    @property
    def state(self) -> str:
        return "voided" if self.voided else "recorded"


@dataclass(frozen=True)
class Correction:
    """What the record becomes: the new values (unchanged ones repeated) and what changed."""

    company: str
    department: str
    day: dt.date
    changed: dict  # field -> [before, after]
    reason: str


def _step(record: InspectionRecord, action: str) -> str:
    target = TRANSITIONS.get((record.state, action))
    if target is None:
        raise Conflict("err.inspection_state", id=record.id, state=record.state, action=action)
    return target


def void(record: InspectionRecord, reason: str | None) -> str:
    """The reason, once the record may be voided."""
    _step(record, "void")
    return require_reason(reason)


def correct(record: InspectionRecord, today: dt.date, reason: str | None, *, company: str | None = None,
            department: str | None = None, day: dt.date | None = None) -> Correction:
    _step(record, "correct")
    why = require_reason(reason)
    if department is not None and department not in DEPARTMENTS:
        raise ValidationError("err.department")
    if day is not None:
        not_after_today(day, today)
    wanted = {"company": company, "department": department, "day": day}
    changed = {k: [getattr(record, k), v] for k, v in wanted.items() if v is not None and v != getattr(record, k)}
    if not changed:
        raise ValidationError("err.nothing_to_change")
    new = {k: changed[k][1] if k in changed else getattr(record, k) for k in wanted}
    return Correction(**new, changed=changed, reason=why)
