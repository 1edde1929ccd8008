"""The acceptance checklist (验收清单) of one cycle: facts in (plain dataclasses the service
loads), items out, each pass/fail with its evidence. It is the reviewer's recommendation and is
stored with the decision.

Every item looks at the cycle's own days (start <= day < due), except "all problems closed",
which counts every unverified problem of the company, whenever and in whichever cycle it was
created. Nothing dated after `today` and no inspection before the confirmation counts.

Pure: no database, no clock.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from listing.domain import months as months_owed
from listing.domain.cycles import Period

DATA_RULES = frozenset({"no_data", "partial_data"})  # findings about the data, not the driving
NOT_VIOLATIONS = DATA_RULES | {"signal_gap"}


@dataclass(frozen=True)
class Policy:
    min_coverage: float = 0.9  # share of the cycle's days with a sampling run for the company
    target_rate: float = 0.10  # violation findings per clean sampled vehicle-day, last month
    month_min_days: int = months_owed.MONTH_MIN_DAYS
    departments: tuple[str, ...] = months_owed.DEPARTMENTS


@dataclass(frozen=True)
class InspectionFact:
    id: int
    department: str
    day: dt.date


@dataclass(frozen=True)
class ProblemFact:
    id: int
    state: str  # open / rectified / reopened (verified ones are not loaded)
    created_on: dt.date


@dataclass(frozen=True)
class SampleFact:
    id: int
    day: dt.date
    status: str  # selected / scanned / no_data / partial / failed


@dataclass(frozen=True)
class FindingFact:
    sample_id: int
    day: dt.date
    rule: str  # dismissed findings are not loaded


@dataclass(frozen=True)
class AccidentFact:
    id: int
    day: dt.date
    fatalities: int
    responsibility: str


@dataclass(frozen=True)
class MetricsFact:
    """The listing criteria evaluated over the cycle's own days (see `scale_thresholds`)."""

    rules_version: str
    days: int
    values: dict
    thresholds: dict
    flagged: bool


@dataclass(frozen=True)
class CycleFacts:
    listing_id: int
    period: Period
    confirmed_on: dt.date
    today: dt.date
    at_fault: tuple[str, ...]  # responsibilities the versioned rules count as at fault (有责)
    inspections: list[InspectionFact] = field(default_factory=list)
    unverified_problems: list[ProblemFact] = field(default_factory=list)
    samples: list[SampleFact] = field(default_factory=list)
    findings: list[FindingFact] = field(default_factory=list)
    accidents: list[AccidentFact] = field(default_factory=list)
    metrics: MetricsFact | None = None


def scale_thresholds(thresholds: dict, cycle_days: int, window_days: int) -> dict:
    """Per-vehicle thresholds of the rule window scaled to a cycle's days (a 92-day cycle gets
    92/365 of a 12-month rate); a count of fatal accidents is not scaled."""
    scale = cycle_days / window_days
    return {group: {c: (v if c == "fatal_accidents" else v * scale) for c, v in values.items()}
            for group, values in thresholds.items()}


def _in_cycle(facts: CycleFacts, day: dt.date) -> bool:
    return facts.period.contains(day) and day <= facts.today


def inspections(facts: CycleFacts, policy: Policy) -> dict:
    start = max(facts.period.start, facts.confirmed_on)
    counted = [i for i in facts.inspections if _in_cycle(facts, i.day) and i.day >= facts.confirmed_on]
    by_month = {m: {d: 0 for d in policy.departments} for m in months_owed.months_between(start, facts.period.due)}
    for i in counted:
        by_month[months_owed.month_of(i.day)][i.department] = by_month[months_owed.month_of(i.day)].get(i.department, 0) + 1
    required = months_owed.owed(start, facts.period.due, policy.month_min_days)
    missing = [f"{m}/{d}" for m in required for d in policy.departments if by_month[m][d] == 0]
    return {"item": "inspections", "pass": not missing,
            "evidence": {"by_month": by_month, "required": required, "missing": missing}}


def problems_closed(facts: CycleFacts, policy: Policy) -> dict:
    ids = sorted(p.id for p in facts.unverified_problems)
    return {"item": "problems_closed", "pass": not ids, "evidence": {"open": len(ids), "problems": ids}}


def sampling_coverage(facts: CycleFacts, policy: Policy) -> dict:
    days_sampled = len({s.day for s in facts.samples if _in_cycle(facts, s.day)})
    days = facts.period.days
    coverage = days_sampled / days if days else 0.0
    return {"item": "sampling_coverage", "pass": coverage >= policy.min_coverage,
            "evidence": {"days_sampled": days_sampled, "days": days, "coverage": round(coverage, 3),
                         "target": policy.min_coverage}}


def sampled_violation_rate(facts: CycleFacts, policy: Policy) -> dict:
    """Violation findings per clean sampled vehicle-day, by month: falling and under target in
    the last month. A vehicle-day with a data finding (no data, partial data) is never clean."""
    data_gaps = {f.sample_id for f in facts.findings if f.rule in DATA_RULES}
    clean = [s for s in facts.samples if _in_cycle(facts, s.day) and s.status == "scanned" and s.id not in data_gaps]
    violations = [f for f in facts.findings if _in_cycle(facts, f.day) and f.rule not in NOT_VIOLATIONS]
    rows = []
    for month in months_owed.months_between(facts.period.start, facts.period.due):
        vd = sum(1 for s in clean if months_owed.month_of(s.day) == month)
        n = sum(1 for f in violations if months_owed.month_of(f.day) == month)
        rows.append({"month": month, "vehicle_days": vd, "findings": n, "rate": round(n / vd, 4) if vd else None})
    values = [r["rate"] for r in rows if r["vehicle_days"]]
    passed = len(values) >= 2 and values[-1] <= values[0] and values[-1] <= policy.target_rate
    return {"item": "sampled_violation_rate", "pass": passed, "evidence": {"by_month": rows, "target": policy.target_rate}}


def no_fatal_at_fault_accident(facts: CycleFacts, policy: Policy) -> dict:
    fatal = sorted(a.id for a in facts.accidents
                   if _in_cycle(facts, a.day) and a.fatalities > 0 and a.responsibility in facts.at_fault)
    return {"item": "no_fatal_at_fault_accident", "pass": not fatal,
            "evidence": {"fatal_at_fault": len(fatal), "accidents": fatal, "at_fault": list(facts.at_fault)}}


def metrics_under_thresholds(facts: CycleFacts, policy: Policy) -> dict:
    m = facts.metrics
    if m is None:
        return {"item": "metrics_under_thresholds", "pass": False, "evidence": {"missing": True}}
    return {"item": "metrics_under_thresholds", "pass": not m.flagged,
            "evidence": {"rules_version": m.rules_version, "days": m.days, **m.values, "thresholds": m.thresholds}}


ITEMS = (inspections, problems_closed, sampling_coverage, sampled_violation_rate, no_fatal_at_fault_accident,
         metrics_under_thresholds)


def assemble(facts: CycleFacts, policy: Policy = Policy()) -> dict:
    """The checklist: every item with its evidence, and the recommendation (pass when all pass)."""
    items = [item(facts, policy) for item in ITEMS]
    return {"listing_id": facts.listing_id, "cycle": facts.period.number, "from": facts.period.start.isoformat(),
            "to": facts.period.last_day.isoformat(), "items": items,
            "recommendation": "pass" if all(i["pass"] for i in items) else "fail"}
