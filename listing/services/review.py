"""The acceptance checklist (验收清单) assembled at cycle end: each item pass/fail with its
evidence. It is the recommendation a reviewer sees and is stored with the decision."""
from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from listing.domain import checklist as checklist_rules
from listing.domain import cycles
from listing.domain.findings import NOT_COUNTED
from listing.store.reader import DATE, TIME, Reader, Row, query
from listing.timeutil import to_local

if TYPE_CHECKING:
    from sqlmodel import Session

    from listing.store.tables import Listing

_LISTING = query("""
    SELECT l.id, l.company_id, l.state, l.cycle, l.rules_version, c.name AS company, c.uscc, c.jurisdiction
    FROM listing l JOIN company c ON c.id = l.company_id WHERE l.id = :listing""")
_CYCLE = query("SELECT number, start, due FROM cycle WHERE listing_id = :listing AND number = :number",
               start=DATE, due=DATE)
_INSPECTIONS = query("""
    SELECT id, department, day FROM inspection
    WHERE company_id = :company AND day >= :start AND day < :due AND voided_at IS NULL ORDER BY id""", day=DATE)
_SAMPLES = query("""
    SELECT id, day, status FROM sample WHERE company_id = :company AND day >= :start AND day < :due ORDER BY id""",
                 day=DATE)
_FINDINGS = query("""
    SELECT sample_id, day, rule FROM finding
    WHERE company_id = :company AND day >= :start AND day < :due AND state NOT IN :not_counted ORDER BY id""",
                  day=DATE)
_ACCIDENTS = query("""
    SELECT id, occurred_at, fatalities, responsibility FROM accident
    WHERE company_id = :company AND fatalities > 0 AND occurred_at >= :lo AND occurred_at < :hi ORDER BY id""",
                   occurred_at=TIME)


def facts(db, listing, today: dt.date) -> checklist_rules.CycleFacts:
    """Everything the checklist of the listing's current cycle decides on, loaded as plain facts.
    `db`: a Reader or an ORM session; `listing`: a Listing row or a Row with its columns."""
    from listing.services import problem_counts
    from listing.services.read.criteria_counts import Window
    from listing.services.read.cycles import confirmed_on

    reader = Reader.of(db)
    cycle = reader.first(_CYCLE, listing=listing.id, number=listing.cycle)
    period = cycles.Period(cycle.number, cycle.start, cycle.due)
    cid = listing.company_id
    lo, hi = Window(period.start, period.due).utc()
    ruleset = _rules_of(reader, listing, period)
    within = {"company": cid, "start": period.start, "due": period.due}
    return checklist_rules.CycleFacts(
        listing_id=listing.id, period=period, confirmed_on=confirmed_on(reader, listing.id) or period.start,
        today=today, at_fault=tuple(ruleset.at_fault),
        inspections=[checklist_rules.InspectionFact(r.id, r.department, r.day)  # a voided inspection counts nowhere
                     for r in reader.rows(_INSPECTIONS, **within)],
        # every unverified problem of the company, whenever and in whichever cycle it was created
        # (the one loader the board, the company story and the to-do list count with)
        unverified_problems=[checklist_rules.ProblemFact(i, st, to_local(at).date())
                             for i, _, st, _, at in problem_counts.unverified(reader, [cid])],
        samples=[checklist_rules.SampleFact(r.id, r.day, r.status) for r in reader.rows(_SAMPLES, **within)],
        findings=[checklist_rules.FindingFact(r.sample_id, r.day, r.rule)
                  for r in reader.rows(_FINDINGS, not_counted=list(NOT_COUNTED), **within)],
        accidents=[checklist_rules.AccidentFact(r.id, to_local(r.occurred_at).date(), r.fatalities, r.responsibility)
                   for r in reader.rows(_ACCIDENTS, company=cid, lo=lo, hi=hi)],
        metrics=_cycle_metrics(reader, ruleset, period, cid),
    )


def _rules_of(reader: Reader, listing, period: cycles.Period):
    """The rules version the listing was opened under (a company is judged by the criteria that
    listed it); the version in force at the cycle's end when that one is not stored."""
    from listing.services.read.rulesets import active_rules, rules_version
    from messages.errors import NotFound

    try:
        return rules_version(reader, listing.rules_version)
    except NotFound:
        return active_rules(reader, period.last_day)


def _cycle_metrics(reader: Reader, ruleset, period: cycles.Period, company_id: int) -> checklist_rules.MetricsFact:
    """The listing criteria over the cycle's own days, per-vehicle thresholds scaled from the rule
    window to the cycle (the accident that caused the listing is outside cycle 1)."""
    from dataclasses import replace

    from listing.services.read.criteria_counts import Window, aggregate_rows
    from rules.criteria.one_company import evaluate_one

    window = Window(period.start, period.due)
    full = Window.ending(period.last_day, ruleset.window_months)
    scaled = replace(ruleset, thresholds=checklist_rules.scale_thresholds(ruleset.thresholds, window.days, full.days))
    row = evaluate_one(aggregate_rows(reader, scaled, window, [company_id])[0], scaled, window.days)
    names = ("fatal_accidents", "at_fault_per_vehicle", "violations_per_vehicle")
    return checklist_rules.MetricsFact(
        rules_version=ruleset.version, days=window.days, values={c: row[c] for c in names},
        thresholds={c: row[f"t_{c}"] for c in names}, flagged=bool(row["flagged"]))


def checklist(db, listing, today: dt.date) -> dict:
    """The acceptance checklist of the listing's current cycle, as of local date `today`."""
    return checklist_rules.assemble(facts(db, listing, today))


def listing_row(db, listing_id: int) -> Row | None:
    """The listing with its company's name, code and jurisdiction (None: no such listing)."""
    return Reader.of(db).first(_LISTING, listing=listing_id)


def show(db, actor, listing_id: int, *, today: dt.date) -> dict:
    """The checklist for a listing under review (assembled as of `today`), with its company.
    `db`: a Reader or an ORM session."""
    from listing.domain.policy import authorize
    from messages.errors import Conflict, NotFound

    listing = listing_row(db, listing_id)
    if listing is None:
        raise NotFound("err.listing_not_found", listing=listing_id)
    authorize(actor, "data.read", listing.jurisdiction)
    if listing.state != "under_review":
        raise Conflict("err.not_under_review", listing=listing_id, state=listing.state)
    return {"company": listing.company, "uscc": listing.uscc, **checklist(db, listing, today)}


def decide(session: Session, actor, listing_id: int, passed: bool, *, reason: str, now: dt.datetime, channel=None,
           policy=None, lang: str = "zh") -> Listing:
    """Delist (pass) or open the next cycle (fail); the checklist is stored with the decision.
    Repeated failures escalate (flag, notification)."""
    from listing.domain.states import CyclePolicy, Event
    from listing.services import listings
    from listing.services.notifications import queue_notice
    from listing.store.tables import Company, Listing
    from messages import t

    listing = session.get(Listing, listing_id)
    was_escalated = bool(listing and listing.escalated)
    items = show(session, actor, listing_id, today=to_local(now).date())
    row = listings.apply(session, actor, listing_id, Event.PASS if passed else Event.FAIL, now=now, reason=reason,
                         checklist=items, policy=policy or CyclePolicy())
    if row.escalated and not was_escalated and channel is not None:
        company = session.get(Company, row.company_id)
        queue_notice(session, channel, f"escalated:{row.id}", t("notify.escalated.title", lang),
                    t("notify.escalated.text", lang, company=company.name, n=row.consecutive_failures), now=now)
    return row
