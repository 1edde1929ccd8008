"""A company's whole story in one place (企业挂牌整治全过程): the rule that listed it with the
records behind it, confirmation, each cycle with its checklist and evidence, inspections per month
per department, problems, findings, sampled days, decisions with their reasons, notices sent —
and the same events as one timeline in time order.

Loads only; the month marks and the problem count come from the functions every other screen uses
(`month_marks`, `problem_counts`).
"""
from __future__ import annotations

import datetime as dt
from collections import Counter

from sqlmodel import Session, or_, select

from listing.domain.policy import Actor, authorize
from listing.store.tables import (
    Accident,
    AuditEvent,
    Company,
    Cycle,
    Finding,
    Inspection,
    Listing,
    OutboxMessage,
    Problem,
    Sample,
    Vehicle,
    Violation,
)
from listing.timeutil import LOCAL_TZ, UTC

DATA_GAP_RULES = ("no_data", "partial_data", "signal_gap")
_RECORD_TABLE = {"fatal_accidents": Accident, "at_fault_per_vehicle": Accident, "violations_per_vehicle": Violation}
_LISTING_ACTIONS = ("listing.propose", "listing.confirm", "listing.reject", "listing.end_cycle", "listing.pass",
                    "listing.fail", "listing.review_overdue")


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=LOCAL_TZ).astimezone(UTC)


def story(session: Session, actor: Actor, company: Company, today: dt.date, live_checklist: bool = True) -> dict:
    """Everything about `company` the actor may see, as plain data (stable keys for --json)."""
    from listing.services.month_marks import cycle_marks
    from listing.services.problem_counts import is_overdue, problem_counts

    authorize(actor, "data.read", company.jurisdiction)
    vehicles = session.exec(select(Vehicle).where(Vehicle.company_id == company.id)).all()
    active = [v for v in vehicles if v.active_from <= today and (v.active_to is None or v.active_to >= today)]
    listings = session.exec(select(Listing).where(Listing.company_id == company.id).order_by(Listing.proposed_at)).all()
    cycles = session.exec(select(Cycle).where(Cycle.listing_id.in_([l.id for l in listings]))
                          .order_by(Cycle.listing_id, Cycle.number)).all() if listings else []
    marks = cycle_marks(session, [(c.listing_id, company.id, c.number, c.start, c.due) for c in cycles], today)
    events = _listing_events(session, [l.id for l in listings])
    out_listings = []
    for listing in listings:
        own = [c for c in cycles if c.listing_id == listing.id]
        out_listings.append({
            "id": listing.id, "state": listing.state, "rules_version": listing.rules_version,
            "proposed_at": _aware(listing.proposed_at), "closed_at": _aware(listing.closed_at),
            "escalated": listing.escalated, "consecutive_failures": listing.consecutive_failures,
            "cycle": listing.cycle, "cycle_due": listing.cycle_due,
            "criteria": _criteria(session, listing.explanation or {}),
            "events": [e for e in events if e["listing_id"] == listing.id],
            "cycles": [_cycle(session, listing, c, marks.get((listing.id, c.number), []), live_checklist, today)
                       for c in own],
        })
    inspections = session.exec(select(Inspection).where(Inspection.company_id == company.id)
                               .order_by(Inspection.day, Inspection.id)).all()
    problems = session.exec(select(Problem).where(Problem.company_id == company.id).order_by(Problem.created_at)).all()
    findings = session.exec(select(Finding, Vehicle.plate).join(Vehicle, Vehicle.id == Finding.vehicle_id)
                            .where(Finding.company_id == company.id).order_by(Finding.start)).all()
    samples = session.exec(select(Sample.day, Sample.status).where(Sample.company_id == company.id)).all()
    data = {
        "company": {"id": company.id, "uscc": company.uscc, "name": company.name, "business_type": company.business_type,
                    "jurisdiction": company.jurisdiction, "vehicles": len(vehicles), "active_vehicles": len(active)},
        "today": today,
        "listings": out_listings,
        "inspections": [{"id": i.id, "day": i.day, "department": i.department, "inspector": i.inspector,
                         "notes": i.notes, "findings": i.findings or [], "listing_id": i.listing_id,
                         "corrects": i.corrects_id, **_void(i)} for i in inspections],
        "problems": [{"id": p.id, "created_at": _aware(p.created_at), "description": p.description, "source": p.source,
                      "source_id": p.source_id, "due": p.due, "state": p.state,
                      "overdue": is_overdue(p.state, p.due, today), "rectified_by": p.rectified_by,
                      "verified_by": p.verified_by, **_void(p)} for p in problems],
        "problem_count": problem_counts(session, [company.id], today)[company.id].to_dict(),
        "findings": [{"id": f.id, "day": f.day, "plate": plate, "rule": f.rule, "start": _aware(f.start),
                      "end": _aware(f.end), "max_speed_kmh": (f.evidence or {}).get("max_speed_kmh"),
                      "state": f.state, "decided_by": f.decided_by, "reason": f.reason, "problem_id": f.problem_id,
                      **_void(f)} for f, plate in findings],
        "sampling": _sampling(samples),
        "notices": _notices(session, [l.id for l in listings]),
    }
    data["timeline"] = timeline(data)
    return data


def _void(row) -> dict:
    """A record voided by mistake stays in the story, marked (struck through on screen) with who,
    when and why; it counts nowhere."""
    return {"voided": row.voided_at is not None, "voided_at": _aware(row.voided_at), "voided_by": row.voided_by,
            "void_reason": row.void_reason}


def _criteria(session: Session, explanation: dict) -> list[dict]:
    """The criteria that listed the company, each with the records behind it (accidents or violations)."""
    out = []
    for c in explanation.get("criteria", []):
        table = _RECORD_TABLE.get(c.get("criterion"))
        ids = c.get("record_ids") or []
        records = []
        if table is not None and ids:
            for r in session.exec(select(table).where(table.id.in_(ids)).order_by(table.occurred_at)).all():
                rec = {"id": r.id, "occurred_at": _aware(r.occurred_at), "record_no": r.record_no}
                rec |= ({"fatalities": r.fatalities, "injuries": r.injuries, "responsibility": r.responsibility}
                        if table is Accident else {"code": r.code, "points": r.points, "source": r.source})
                records.append(rec)
        out.append({k: v for k, v in c.items() if k != "record_ids"} | {"records": records})
    return out


def _cycle(session: Session, listing: Listing, cycle: Cycle, marks: list[dict], live: bool, today: dt.date) -> dict:
    checklist, provisional = cycle.checklist, False
    current = cycle.number == listing.cycle and listing.state in ("listed", "under_review")
    if checklist is None and current and live:
        from listing.services.review import checklist as assemble

        checklist, provisional = assemble(session, listing, today), True
    from listing.services.decision import overrides

    against = overrides(checklist, cycle.outcome == "pass") if cycle.outcome and checklist else []
    return {"number": cycle.number, "start": cycle.start, "due": cycle.due, "outcome": cycle.outcome,
            "against_recommendation": against,
            "decided_by": cycle.decided_by, "decided_at": _aware(cycle.decided_at), "reason": cycle.reason,
            "current": current, "months": marks, "checklist": checklist, "checklist_provisional": provisional}


def _listing_events(session: Session, listing_ids: list[int]) -> list[dict]:
    if not listing_ids:
        return []
    rows = session.exec(select(AuditEvent).where(AuditEvent.entity == "listing",
                                                 AuditEvent.entity_id.in_([str(i) for i in listing_ids]),
                                                 or_(AuditEvent.action.in_(_LISTING_ACTIONS),
                                                     AuditEvent.action == "inspection.miss"))
                        .order_by(AuditEvent.seq)).all()
    return [{"listing_id": int(e.entity_id), "at": _aware(e.at), "action": e.action, "actor": e.actor,
             "reason": (e.after or {}).get("reason"), "after": e.after} for e in rows]


def _sampling(samples) -> dict:
    days = sorted({d for d, _ in samples})
    by_status = Counter(status for _, status in samples)
    by_month = Counter(f"{d:%Y-%m}" for d in {d for d, _ in samples})
    return {"days": len(days), "first": days[0] if days else None, "last": days[-1] if days else None,
            "vehicle_days": len(samples), "by_status": dict(sorted(by_status.items())),
            "days_by_month": dict(sorted(by_month.items()))}


def _notices(session: Session, listing_ids: list[int]) -> list[dict]:
    """Notices about these listings (outbox keys kind:listing[:...]), one per channel: queued at
    `at`, `sent_at` None while a robot has not taken it yet."""
    if not listing_ids:
        return []
    wanted = {str(i) for i in listing_ids}
    conds = [OutboxMessage.key.like(f"%:{i}:%") for i in listing_ids] + \
        [OutboxMessage.key == f"escalated:{i}" for i in listing_ids]
    out = []
    for n in session.exec(select(OutboxMessage).where(or_(*conds)).order_by(OutboxMessage.created_at,
                                                                            OutboxMessage.id)).all():
        parts = n.key.split(":")
        if len(parts) >= 2 and parts[1] in wanted:
            out.append({"kind": parts[0], "listing_id": int(parts[1]), "about": ":".join(parts[2:]) or None,
                        "channel": n.channel, "at": _aware(n.created_at), "sent_at": _aware(n.sent_at)})
    return out


def timeline(data: dict) -> list[dict]:
    """Every dated event of the story in time order: {at, kind, ...} (kind names the event)."""
    items = []
    for listing in data["listings"]:
        for c in listing["criteria"]:
            for r in c["records"]:
                items.append({"at": r["occurred_at"], "kind": "record", "criterion": c["criterion"], "record": r})
        for e in listing["events"]:
            items.append({"at": e["at"], "kind": e["action"], "listing_id": listing["id"], "actor": e["actor"],
                          "reason": e["reason"], "after": e["after"]})
        for c in listing["cycles"]:
            items.append({"at": _day_start(c["start"]), "kind": "cycle.start", "listing_id": listing["id"],
                          "cycle": c["number"], "due": c["due"]})
    for i in data["inspections"]:
        items.append({"at": _day_start(i["day"]), "kind": "inspection", "id": i["id"], "department": i["department"],
                      "inspector": i["inspector"], "voided": i["voided"], "void_reason": i["void_reason"]})
    for p in data["problems"]:
        items.append({"at": p["created_at"], "kind": "problem", "id": p["id"], "description": p["description"],
                      "state": p["state"], "due": p["due"], "voided": p["voided"], "void_reason": p["void_reason"]})
    for f in data["findings"]:
        items.append({"at": f["start"], "kind": "finding", "id": f["id"], "rule": f["rule"], "plate": f["plate"],
                      "state": f["state"], "voided": f["voided"], "void_reason": f["void_reason"]})
    for n in data["notices"]:
        items.append({"at": n["at"], "kind": "notice", "notice": n["kind"], "about": n["about"], "channel": n["channel"],
                      "sent": n["sent_at"] is not None})
    return sorted(items, key=lambda e: e["at"] or dt.datetime.min.replace(tzinfo=UTC))
