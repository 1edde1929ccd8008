"""The acceptance checklist (验收清单) assembled at cycle end: each item pass/fail with its
evidence. It is the recommendation a reviewer sees and is stored with the decision."""
from __future__ import annotations

import datetime as dt

from sqlmodel import Session, select

from listing.domain import checklist as checklist_rules
from listing.domain import cycles
from listing.domain.findings import NOT_COUNTED
from listing.store.tables import Accident, Cycle, Finding, Inspection, Listing, Sample
from listing.timeutil import to_local


def facts(session: Session, listing: Listing, today: dt.date) -> checklist_rules.CycleFacts:
    """Everything the checklist of the listing's current cycle decides on, loaded as plain facts."""
    from listing.services import problem_counts, rules
    from listing.services.inspections import confirmed_on

    cycle = session.exec(select(Cycle).where(Cycle.listing_id == listing.id, Cycle.number == listing.cycle)).one()
    period = cycles.Period(cycle.number, cycle.start, cycle.due)
    cid = listing.company_id
    lo, hi = rules.Window(period.start, period.due).utc()
    ruleset = _rules_of(session, listing, period)
    return checklist_rules.CycleFacts(
        listing_id=listing.id, period=period, confirmed_on=confirmed_on(session, listing.id) or period.start,
        today=today, at_fault=tuple(ruleset.at_fault),
        inspections=[checklist_rules.InspectionFact(i, d, day) for i, d, day in session.exec(
            select(Inspection.id, Inspection.department, Inspection.day).where(
                Inspection.company_id == cid, Inspection.day >= period.start, Inspection.day < period.due,
                Inspection.voided_at.is_(None))).all()],  # a voided inspection counts nowhere
        # every unverified problem of the company, whenever and in whichever cycle it was created
        # (the one loader the board, the company story and the to-do list count with)
        unverified_problems=[checklist_rules.ProblemFact(i, st, to_local(at).date())
                             for i, _, st, _, at in problem_counts.unverified(session, [cid])],
        samples=[checklist_rules.SampleFact(*r) for r in session.exec(select(Sample.id, Sample.day, Sample.status).where(
            Sample.company_id == cid, Sample.day >= period.start, Sample.day < period.due)).all()],
        findings=[checklist_rules.FindingFact(*r) for r in session.exec(select(Finding.sample_id, Finding.day, Finding.rule).where(
            Finding.company_id == cid, Finding.day >= period.start, Finding.day < period.due,
            Finding.state.notin_(NOT_COUNTED))).all()],
        accidents=[checklist_rules.AccidentFact(i, to_local(at).date(), f, r) for i, at, f, r in session.exec(
            select(Accident.id, Accident.occurred_at, Accident.fatalities, Accident.responsibility).where(
                Accident.company_id == cid, Accident.fatalities > 0, Accident.occurred_at >= lo,
                Accident.occurred_at < hi)).all()],
        metrics=_cycle_metrics(session, ruleset, period, cid),
    )


def _rules_of(session: Session, listing: Listing, period: cycles.Period):
    """The rules version the listing was opened under (a company is judged by the criteria that
    listed it); the version in force at the cycle's end when that one is not stored."""
    from listing.services import rules
    from messages.errors import NotFound

    try:
        return rules.rules_version(session, listing.rules_version)
    except NotFound:
        return rules.active_rules(session, period.last_day)


def _cycle_metrics(session: Session, ruleset, period: cycles.Period, company_id: int) -> checklist_rules.MetricsFact:
    """The listing criteria over the cycle's own days, per-vehicle thresholds scaled from the rule
    window to the cycle (the accident that caused the listing is outside cycle 1)."""
    from dataclasses import replace

    from listing.services import rules
    from rules.criteria.evaluate import evaluate

    window = rules.Window(period.start, period.due)
    full = rules.Window.ending(period.last_day, ruleset.window_months)
    scaled = replace(ruleset, thresholds=checklist_rules.scale_thresholds(ruleset.thresholds, window.days, full.days))
    row = evaluate(rules.aggregates(session, scaled, window, [company_id]), scaled, window.days).row(0, named=True)
    names = ("fatal_accidents", "at_fault_per_vehicle", "violations_per_vehicle")
    return checklist_rules.MetricsFact(
        rules_version=ruleset.version, days=window.days, values={c: row[c] for c in names},
        thresholds={c: row[f"t_{c}"] for c in names}, flagged=bool(row["flagged"]))


def checklist(session: Session, listing: Listing, today: dt.date) -> dict:
    """The acceptance checklist of the listing's current cycle, as of local date `today`."""
    return checklist_rules.assemble(facts(session, listing, today))


def show(session: Session, actor, listing_id: int, *, today: dt.date) -> dict:
    """The checklist for a listing under review (assembled as of `today`), with its company."""
    from listing.domain.policy import authorize
    from listing.store.tables import Company
    from messages.errors import Conflict, NotFound

    listing = session.get(Listing, listing_id)
    if listing is None:
        raise NotFound("err.listing_not_found", listing=listing_id)
    company = session.get(Company, listing.company_id)
    authorize(actor, "data.read", company.jurisdiction)
    if listing.state != "under_review":
        raise Conflict("err.not_under_review", listing=listing_id, state=listing.state)
    return {"company": company.name, "uscc": company.uscc, **checklist(session, listing, today)}


def decide(session: Session, actor, listing_id: int, passed: bool, *, reason: str, now: dt.datetime, channel=None,
           policy=None, lang: str = "zh") -> Listing:
    """Delist (pass) or open the next cycle (fail); the checklist is stored with the decision.
    Repeated failures escalate (flag, notification)."""
    from listing.domain.states import CyclePolicy, Event
    from listing.services import listings
    from listing.services.notifications import queue_notice
    from listing.store.tables import Company
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
