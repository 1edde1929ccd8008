"""The acceptance checklist (验收清单) assembled at cycle end: each item pass/fail with its
evidence. It is the recommendation a reviewer sees and is stored with the decision."""
from __future__ import annotations

import datetime as dt

from sqlmodel import Session, func, select

from listing.store.tables import Accident, Cycle, Finding, Inspection, Listing, Problem, Sample, Vehicle

MIN_COVERAGE = 0.9  # share of cycle days with a sampling run for the company
TARGET_RATE = 0.10  # sampled findings per vehicle-day the last month must be under
MONTH_MIN_DAYS = 15  # a calendar month needs inspections when the cycle covers this many of its days


def _months(start: dt.date, end: dt.date) -> list[str]:
    months, day = [], start.replace(day=1)
    while day <= end:
        months.append(f"{day:%Y-%m}")
        day = (day + dt.timedelta(days=32)).replace(day=1)
    return months


def required_months(start: dt.date, end: dt.date) -> list[str]:
    """Calendar months in which both departments must inspect: those the period covers for at
    least MONTH_MIN_DAYS days (a cycle starting on the 25th does not owe that month's visit)."""
    out = []
    for month in _months(start, end):
        first = dt.date.fromisoformat(month + "-01")
        last = (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
        if (min(end, last) - max(start, first)).days + 1 >= MONTH_MIN_DAYS:
            out.append(month)
    return out


def checklist(session: Session, listing: Listing) -> dict:
    cycle = session.exec(select(Cycle).where(Cycle.listing_id == listing.id, Cycle.number == listing.cycle)).one()
    start, end = cycle.start, cycle.due - dt.timedelta(days=1)
    items = []
    # 1. inspections every month by both departments
    done = session.exec(select(Inspection.department, Inspection.day).where(
        Inspection.company_id == listing.company_id, Inspection.day >= start, Inspection.day <= end)).all()
    by_month = {m: {"transport": 0, "police": 0} for m in _months(start, end)}
    for dept, day in done:
        by_month.setdefault(f"{day:%Y-%m}", {"transport": 0, "police": 0})[dept] += 1
    required = required_months(start, end)
    missing = [f"{m}/{d}" for m, c in by_month.items() if m in required for d, n in c.items() if n == 0]
    items.append({"item": "inspections", "pass": not missing,
                  "evidence": {"by_month": by_month, "required": required, "missing": missing}})
    # 2. every problem of the company rectified and verified, whenever it was found (the one
    #    count the board and the company story use)
    from listing.services.problem_counts import problem_counts

    open_problems = problem_counts(session, [listing.company_id], end)[listing.company_id].open
    items.append({"item": "problems_closed", "pass": open_problems == 0, "evidence": {"open": open_problems}})
    # 3. sampling coverage
    sampled_days = session.exec(select(func.count(func.distinct(Sample.day))).where(
        Sample.company_id == listing.company_id, Sample.day >= start, Sample.day <= end)).one()
    days = (end - start).days + 1
    coverage = sampled_days / days if days else 0.0
    items.append({"item": "sampling_coverage", "pass": coverage >= MIN_COVERAGE,
                  "evidence": {"days_sampled": sampled_days, "days": days, "coverage": round(coverage, 3), "target": MIN_COVERAGE}})
    # 4. sampled violation rate per vehicle-day, by month, falling
    rate = _sampled_rate_by_month(session, listing.company_id, start, end)
    values = [r["rate"] for r in rate if r["vehicle_days"]]
    falling = len(values) >= 2 and values[-1] <= values[0]
    items.append({"item": "sampled_violation_rate", "pass": bool(values) and falling and values[-1] <= TARGET_RATE,
                  "evidence": {"by_month": rate, "target": TARGET_RATE}})
    # 5. no fatal at-fault accident in the cycle
    lo = dt.datetime.combine(start, dt.time(), tzinfo=dt.timezone(dt.timedelta(hours=8)))
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=dt.timezone(dt.timedelta(hours=8)))
    fatal = session.exec(select(func.count()).select_from(Accident).where(
        Accident.company_id == listing.company_id, Accident.fatalities > 0,
        Accident.responsibility.in_(["full", "main", "equal"]), Accident.occurred_at >= lo, Accident.occurred_at < hi)).one()
    items.append({"item": "no_fatal_at_fault_accident", "pass": fatal == 0, "evidence": {"fatal_at_fault": fatal}})
    # 6. company metrics over the cycle under the listing thresholds (rules in force at cycle end;
    #    per-vehicle thresholds scaled to the cycle's length, so the bad year before listing does
    #    not count against the cycle that is being judged)
    from dataclasses import replace

    from listing.services import rules

    ruleset = rules.active_rules(session, end)
    months = max(1, round(((end - start).days + 1) / 30.4))
    scale = months / ruleset.window_months
    scaled = {g: {c: (v * scale if c != "fatal_accidents" else v) for c, v in vals.items()} for g, vals in ruleset.thresholds.items()}
    cycle_rules = replace(ruleset, window_months=months, thresholds=scaled)
    row = rules.metrics(session, cycle_rules, end, [listing.company_id]).row(0, named=True)
    items.append({"item": "metrics_under_thresholds", "pass": not row["flagged"], "evidence": {
        "rules_version": ruleset.version, "months": months, "fatal_accidents": row["fatal_accidents"],
        "at_fault_per_vehicle": row["at_fault_per_vehicle"], "violations_per_vehicle": row["violations_per_vehicle"],
        "thresholds": {c: row[f"t_{c}"] for c in ("fatal_accidents", "at_fault_per_vehicle", "violations_per_vehicle")}}})
    return {"listing_id": listing.id, "cycle": listing.cycle, "from": start.isoformat(), "to": end.isoformat(),
            "items": items, "recommendation": "pass" if all(i["pass"] for i in items) else "fail"}


def _sampled_rate_by_month(session: Session, company_id: int, start: dt.date, end: dt.date) -> list[dict]:
    samples = session.exec(select(Sample.day, Sample.status).where(
        Sample.company_id == company_id, Sample.day >= start, Sample.day <= end)).all()
    findings = session.exec(select(Finding.day).where(
        Finding.company_id == company_id, Finding.day >= start, Finding.day <= end, Finding.state != "dismissed",
        Finding.rule.notin_(["no_data", "partial_data", "signal_gap"]))).all()
    out = []
    for month in _months(start, end):
        vd = sum(1 for d, status in samples if f"{d:%Y-%m}" == month and status in ("scanned", "partial"))
        n = sum(1 for d in findings if f"{d:%Y-%m}" == month)
        out.append({"month": month, "vehicle_days": vd, "findings": n, "rate": round(n / vd, 4) if vd else None})
    return out


def show(session: Session, actor, listing_id: int) -> dict:
    """The checklist for a listing under review (assembled now), with its company."""
    from listing.domain.policy import authorize
    from listing.errors import Conflict, NotFound
    from listing.store.tables import Company

    listing = session.get(Listing, listing_id)
    if listing is None:
        raise NotFound("err.listing_not_found", listing=listing_id)
    company = session.get(Company, listing.company_id)
    authorize(actor, "data.read", company.jurisdiction)
    if listing.state != "under_review":
        raise Conflict("err.not_under_review", listing=listing_id, state=listing.state)
    return {"company": company.name, "uscc": company.uscc, **checklist(session, listing)}


def decide(session: Session, actor, listing_id: int, passed: bool, *, reason: str, now: dt.datetime, channel=None,
           policy=None) -> Listing:
    """Delist (pass) or open the next cycle (fail); the checklist is stored with the decision.
    Repeated failures escalate (flag, notification)."""
    from listing.domain.states import CyclePolicy, Event
    from listing.i18n import t
    from listing.services import listings
    from listing.services.notifications import notify_once
    from listing.store.tables import Company

    listing = session.get(Listing, listing_id)
    was_escalated = bool(listing and listing.escalated)
    items = show(session, actor, listing_id)
    row = listings.apply(session, actor, listing_id, Event.PASS if passed else Event.FAIL, now=now, reason=reason,
                         checklist=items, policy=policy or CyclePolicy())
    if row.escalated and not was_escalated and channel is not None:
        company = session.get(Company, row.company_id)
        notify_once(session, channel, f"escalated:{row.id}", t("notify.escalated.title", "zh"),
                    t("notify.escalated.text", "zh", company=company.name, n=row.consecutive_failures), now=now)
    return row


from listing.i18n import register  # noqa: E402

register(
    {
        "err.not_under_review": ("挂牌案件 {listing} 处于「{state}」,不在验收阶段", "listing {listing} is {state}, not under review"),
        "notify.escalated.title": ("挂牌整治升级", "Listing escalated"),
        "notify.escalated.text": ("{company} 连续 {n} 个周期验收未通过,已升级处理", "{company} failed {n} consecutive acceptance reviews and is escalated"),
        "check.inspections": ("每月两部门均有检查", "inspections every month by both departments"),
        "check.problems_closed": ("问题全部整改验证", "all problems rectified and verified"),
        "check.sampling_coverage": ("抽查覆盖率达标", "sampling coverage adequate"),
        "check.sampled_violation_rate": ("抽查违法率下降", "sampled violation rate falling"),
        "check.no_fatal_at_fault_accident": ("周期内无有责亡人事故", "no fatal at-fault accident in the cycle"),
        "check.metrics_under_thresholds": ("企业指标低于挂牌标准", "company metrics under the listing thresholds"),
        "col.item": ("验收项", "item"),
        "col.result": ("结果", "result"),
        "col.evidence": ("依据", "evidence"),
        "pass": ("通过", "pass"),
        "fail": ("未通过", "fail"),
        "msg.recommendation": ("建议:{result}", "recommendation: {result}"),
    }
)
