"""What the person running guapai must do (待办), from their role and jurisdiction: inspections
owed this month and missed, findings to confirm, problems to verify (never their own
rectification: four eyes), reviews due, listings to confirm — sorted by deadline, each with the
command that does it.
"""
from __future__ import annotations

import datetime as dt
import shlex

from listing.domain.policy import Actor, Role, can
from listing.domain.states import State
from listing.store.reader import DATE, TIME, Reader, query
from listing.timeutil import to_local

FINDING_REVIEW_DAYS = 3  # days police have to confirm or dismiss a finding after the day it covers
CONFIRM_DAYS = 7  # days reviewers have to confirm or reject a proposed listing
_DEPARTMENT_OF = {Role.TRANSPORT: "transport", Role.POLICE: "police"}


def _command(actor: Actor, *args: str) -> str:
    return shlex.join(["guapai", "--as", actor.name, *args])


_SCOPE = "(:everywhere OR c.jurisdiction = :own)"  # the actor's jurisdiction, or the city
_FINDINGS = query(f"""
    SELECT f.id, f.day, f.rule, v.plate, c.name, c.uscc FROM finding f
    JOIN company c ON c.id = f.company_id JOIN vehicle v ON v.id = f.vehicle_id
    WHERE f.state = 'suspected' AND {_SCOPE} ORDER BY f.id""", day=DATE)
_RECTIFIED = query(f"""
    SELECT p.id, p.due, p.rectified_by, p.description, c.name, c.uscc FROM problem p
    JOIN company c ON c.id = p.company_id
    WHERE p.state = 'rectified' AND {_SCOPE} ORDER BY p.id""", due=DATE)
_REVIEW_DUE = query("SELECT listing_id, due_at FROM deadline WHERE kind = 'review_due' ORDER BY id", due_at=TIME)
_LISTINGS = query(f"""
    SELECT l.id, l.company_id, l.cycle, l.cycle_start, l.cycle_due, l.proposed_at, c.name, c.uscc FROM listing l
    JOIN company c ON c.id = l.company_id
    WHERE l.state IN :states AND {_SCOPE} ORDER BY l.id""", cycle_start=DATE, cycle_due=DATE, proposed_at=TIME)


def todo(db, actor: Actor, today: dt.date, lang: str = "en") -> list[dict]:
    """Tasks {kind, due, overdue, company, uscc, what, command, ref}, soonest deadline first.
    `db`: a Reader or an ORM session."""
    from messages import t

    reader = Reader.of(db)
    scope = {"everywhere": actor.city_level, "own": actor.jurisdiction}
    tasks: list[dict] = []

    def add(kind, due, row, what, command, ref):  # `row` names the company (name, uscc)
        tasks.append({"kind": kind, "due": due, "overdue": due is not None and due < today, "company": row.name,
                      "uscc": row.uscc, "what": what, "command": command, "ref": ref})

    department = _DEPARTMENT_OF.get(actor.role)
    if department:
        tasks += _inspections(reader, actor, department, today, scope, lang)
    if can(actor, "finding.confirm"):
        for f in reader.rows(_FINDINGS, **scope):
            add("finding", f.day + dt.timedelta(days=FINDING_REVIEW_DAYS), f,
                t("todo.finding", lang, id=f.id, rule=t(f"rule.{f.rule}", lang), plate=f.plate, day=f.day),
                _command(actor, "findings", "show", str(f.id)), f.id)
    if can(actor, "problem.verify"):
        for p in reader.rows(_RECTIFIED, **scope):
            if p.rectified_by == actor.name:  # four eyes: never verify one's own rectification
                continue
            add("verify", p.due, p, t("todo.verify", lang, id=p.id, by=p.rectified_by, description=p.description),
                _command(actor, "problems", "verify", str(p.id)), p.id)
    if can(actor, "listing.pass"):
        review_due = {r.listing_id: r.due_at for r in reader.rows(_REVIEW_DUE)}
        for listing in reader.rows(_LISTINGS, states=[State.UNDER_REVIEW.value], **scope):
            due = to_local(review_due[listing.id]).date() if listing.id in review_due else listing.cycle_due
            add("review", due, listing, t("todo.review", lang, cycle=listing.cycle),
                _command(actor, "review", "show", str(listing.id)), listing.id)
    if can(actor, "listing.confirm"):
        for listing in reader.rows(_LISTINGS, states=[State.PROPOSED.value], **scope):
            add("confirm", to_local(listing.proposed_at).date() + dt.timedelta(days=CONFIRM_DAYS), listing,
                t("todo.confirm", lang, id=listing.id), _command(actor, "listing", "confirm", str(listing.id)), listing.id)
    far = dt.date.max
    return sorted(tasks, key=lambda x: (x["due"] or far, x["kind"], x["company"], str(x["ref"])))


def _inspections(reader: Reader, actor: Actor, department: str, today: dt.date, scope: dict, lang: str) -> list[dict]:
    """This month's owed inspection of the actor's department for each listed company not yet
    inspected, and the months of the current cycle already missed."""
    from listing.services.month_marks import cycle_marks, month_last_day
    from messages import t

    pairs = reader.rows(_LISTINGS, states=[State.LISTED.value, State.UNDER_REVIEW.value], **scope)
    marks = cycle_marks(reader, [(l.id, l.company_id, l.cycle, l.cycle_start, l.cycle_due) for l in pairs
                                 if l.cycle_start and l.cycle_due], today)
    label = t(f"dept.{department}", lang)
    out = []
    for listing in pairs:
        for m in marks.get((listing.id, listing.cycle), []):
            mark = m[department]
            if mark not in ("owed", "missed"):
                continue
            key = "todo.inspect" if mark == "owed" else "todo.inspect_missed"
            due = month_last_day(m["month"])
            out.append({"kind": "inspect", "due": due, "overdue": due < today, "company": listing.name,
                        "uscc": listing.uscc, "what": t(key, lang, month=m["month"], department=label),
                        "command": _command(actor, "inspect", "record", "--company", listing.uscc,
                                            "--department", department),
                        "ref": f"{listing.id}:{m['month']}"})
    return out
