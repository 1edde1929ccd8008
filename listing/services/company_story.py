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

from listing.domain.policy import Actor, authorize
from listing.store.reader import BOOL, DATE, JSON, TIME, Reader, query
from listing.timeutil import LOCAL_TZ, UTC

DATA_GAP_RULES = ("no_data", "partial_data", "signal_gap")
_RECORDS = {
    "accident": query("""SELECT id, occurred_at, record_no, fatalities, injuries, responsibility FROM accident
                         WHERE id IN :ids ORDER BY occurred_at, id""", occurred_at=TIME),
    "violation": query("""SELECT id, occurred_at, record_no, code, points, source FROM violation
                          WHERE id IN :ids ORDER BY occurred_at, id""", occurred_at=TIME),
}
_RECORD_TABLE = {"fatal_accidents": "accident", "at_fault_per_vehicle": "accident", "violations_per_vehicle": "violation"}
_VOID = "voided_at, voided_by, void_reason"
_VEHICLES = query("SELECT active_from, active_to FROM vehicle WHERE company_id = :company", active_from=DATE,
                  active_to=DATE)
_LISTINGS = query("""
    SELECT id, company_id, state, rules_version, proposed_at, closed_at, escalated, consecutive_failures, cycle,
           cycle_due, explanation
    FROM listing WHERE company_id = :company ORDER BY proposed_at, id""",
                  proposed_at=TIME, closed_at=TIME, escalated=BOOL, cycle_due=DATE, explanation=JSON)
_CYCLES = query("""
    SELECT listing_id, number, start, due, outcome, decided_by, decided_at, reason, checklist
    FROM cycle WHERE listing_id IN :listings ORDER BY listing_id, number""",
                start=DATE, due=DATE, decided_at=TIME, checklist=JSON)
_EVENTS = query("""
    SELECT entity_id, at, action, actor, after FROM audit_event
    WHERE entity = 'listing' AND entity_id IN :listings AND (action IN :actions OR action = 'inspection.miss')
    ORDER BY seq""", at=TIME, after=JSON)
_INSPECTIONS = query(f"""
    SELECT id, day, department, inspector, notes, findings, listing_id, corrects_id, {_VOID}
    FROM inspection WHERE company_id = :company ORDER BY day, id""", day=DATE, findings=JSON, voided_at=TIME)
_PROBLEMS = query(f"""
    SELECT id, created_at, description, source, source_id, due, state, rectified_by, verified_by, {_VOID}
    FROM problem WHERE company_id = :company ORDER BY created_at, id""", created_at=TIME, due=DATE, voided_at=TIME)
_FINDINGS = query("""
    SELECT f.id, f.day, v.plate, f.rule, f.start, f."end", f.evidence, f.state, f.decided_by, f.reason, f.problem_id,
           f.voided_at, f.voided_by, f.void_reason
    FROM finding f JOIN vehicle v ON v.id = f.vehicle_id WHERE f.company_id = :company ORDER BY f.start, f.id""",
                  day=DATE, start=TIME, end=TIME, evidence=JSON, voided_at=TIME)
_SAMPLES = query("SELECT day, status FROM sample WHERE company_id = :company", day=DATE)
_LISTING_ACTIONS = ("listing.propose", "listing.confirm", "listing.reject", "listing.end_cycle", "listing.pass",
                    "listing.fail", "listing.review_overdue")


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=LOCAL_TZ).astimezone(UTC)


def story(db, actor: Actor, company, today: dt.date, live_checklist: bool = True) -> dict:
    """Everything about `company` the actor may see, as plain data (stable keys for --json).
    `db`: a Reader or an ORM session; `company`: a Company row or a Row with its columns."""
    from listing.services.month_marks import cycle_marks
    from listing.services.problem_counts import is_overdue, problem_counts

    authorize(actor, "data.read", company.jurisdiction)
    reader = Reader.of(db)
    mine = {"company": company.id}
    vehicles = reader.rows(_VEHICLES, **mine)
    active = [v for v in vehicles if v.active_from <= today and (v.active_to is None or v.active_to >= today)]
    listings = reader.rows(_LISTINGS, **mine)
    listing_ids = [l.id for l in listings]
    cycles = reader.rows(_CYCLES, listings=listing_ids) if listings else []
    marks = cycle_marks(reader, [(c.listing_id, company.id, c.number, c.start, c.due) for c in cycles], today)
    events = _listing_events(reader, listing_ids)
    out_listings = []
    for listing in listings:
        own = [c for c in cycles if c.listing_id == listing.id]
        out_listings.append({
            "id": listing.id, "state": listing.state, "rules_version": listing.rules_version,
            "proposed_at": _aware(listing.proposed_at), "closed_at": _aware(listing.closed_at),
            "escalated": listing.escalated, "consecutive_failures": listing.consecutive_failures,
            "cycle": listing.cycle, "cycle_due": listing.cycle_due,
            "criteria": _criteria(reader, listing.explanation or {}),
            "events": [e for e in events if e["listing_id"] == listing.id],
            "cycles": [_cycle(reader, listing, c, marks.get((listing.id, c.number), []), live_checklist, today)
                       for c in own],
        })
    samples = [(r.day, r.status) for r in reader.rows(_SAMPLES, **mine)]
    data = {
        "company": {"id": company.id, "uscc": company.uscc, "name": company.name, "business_type": company.business_type,
                    "jurisdiction": company.jurisdiction, "vehicles": len(vehicles), "active_vehicles": len(active)},
        "today": today,
        "listings": out_listings,
        "inspections": [{"id": i.id, "day": i.day, "department": i.department, "inspector": i.inspector,
                         "notes": i.notes, "findings": i.findings or [], "listing_id": i.listing_id,
                         "corrects": i.corrects_id, **_void(i)} for i in reader.rows(_INSPECTIONS, **mine)],
        "problems": [{"id": p.id, "created_at": _aware(p.created_at), "description": p.description, "source": p.source,
                      "source_id": p.source_id, "due": p.due, "state": p.state,
                      "overdue": is_overdue(p.state, p.due, today), "rectified_by": p.rectified_by,
                      "verified_by": p.verified_by, **_void(p)} for p in reader.rows(_PROBLEMS, **mine)],
        "problem_count": problem_counts(reader, [company.id], today)[company.id].to_dict(),
        "findings": [{"id": f.id, "day": f.day, "plate": f.plate, "rule": f.rule, "start": _aware(f.start),
                      "end": _aware(f.end), "max_speed_kmh": (f.evidence or {}).get("max_speed_kmh"),
                      "state": f.state, "decided_by": f.decided_by, "reason": f.reason, "problem_id": f.problem_id,
                      **_void(f)} for f in reader.rows(_FINDINGS, **mine)],
        "sampling": _sampling(samples),
        "notices": _notices(reader, listing_ids),
    }
    data["timeline"] = timeline(data)
    return data


def _void(row) -> dict:
    """A record voided by mistake stays in the story, marked (struck through on screen) with who,
    when and why; it counts nowhere."""
    return {"voided": row.voided_at is not None, "voided_at": _aware(row.voided_at), "voided_by": row.voided_by,
            "void_reason": row.void_reason}


def _criteria(reader: Reader, explanation: dict) -> list[dict]:
    """The criteria that listed the company, each with the records behind it (accidents or violations)."""
    out = []
    for c in explanation.get("criteria", []):
        table = _RECORD_TABLE.get(c.get("criterion"))
        ids = c.get("record_ids") or []
        records = []
        if table is not None and ids:
            for r in reader.rows(_RECORDS[table], ids=list(ids)):
                rec = {"id": r.id, "occurred_at": _aware(r.occurred_at), "record_no": r.record_no}
                rec |= ({"fatalities": r.fatalities, "injuries": r.injuries, "responsibility": r.responsibility}
                        if table == "accident" else {"code": r.code, "points": r.points, "source": r.source})
                records.append(rec)
        out.append({k: v for k, v in c.items() if k != "record_ids"} | {"records": records})
    return out


def _cycle(reader: Reader, listing, cycle, marks: list[dict], live: bool, today: dt.date) -> dict:
    checklist, provisional = cycle.checklist, False
    current = cycle.number == listing.cycle and listing.state in ("listed", "under_review")
    if checklist is None and current and live:
        from listing.services.review import checklist as assemble

        checklist, provisional = assemble(reader, listing, today), True
    from listing.services.decision import overrides

    against = overrides(checklist, cycle.outcome == "pass") if cycle.outcome and checklist else []
    return {"number": cycle.number, "start": cycle.start, "due": cycle.due, "outcome": cycle.outcome,
            "against_recommendation": against,
            "decided_by": cycle.decided_by, "decided_at": _aware(cycle.decided_at), "reason": cycle.reason,
            "current": current, "months": marks, "checklist": checklist, "checklist_provisional": provisional}


def _listing_events(reader: Reader, listing_ids: list[int]) -> list[dict]:
    if not listing_ids:
        return []
    rows = reader.rows(_EVENTS, listings=[str(i) for i in listing_ids], actions=list(_LISTING_ACTIONS))
    return [{"listing_id": int(e.entity_id), "at": _aware(e.at), "action": e.action, "actor": e.actor,
             "reason": (e.after or {}).get("reason"), "after": e.after} for e in rows]


def _sampling(samples) -> dict:
    days = sorted({d for d, _ in samples})
    by_status = Counter(status for _, status in samples)
    by_month = Counter(f"{d:%Y-%m}" for d in {d for d, _ in samples})
    return {"days": len(days), "first": days[0] if days else None, "last": days[-1] if days else None,
            "vehicle_days": len(samples), "by_status": dict(sorted(by_status.items())),
            "days_by_month": dict(sorted(by_month.items()))}


def _notices(reader: Reader, listing_ids: list[int]) -> list[dict]:
    """Notices about these listings (outbox keys kind:listing[:...]), one per channel: queued at
    `at`, `sent_at` None while a robot has not taken it yet."""
    if not listing_ids:
        return []
    wanted = {str(i) for i in listing_ids}
    likes = {f"like{n}": f"%:{i}:%" for n, i in enumerate(listing_ids)}
    notices = query(f"""
        SELECT key, channel, created_at, sent_at FROM outbox
        WHERE key IN :escalated OR {" OR ".join(f"key LIKE :{name}" for name in likes)}
        ORDER BY created_at, id""", created_at=TIME, sent_at=TIME)
    out = []
    for n in reader.rows(notices, escalated=[f"escalated:{i}" for i in listing_ids], **likes):
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
