"""Listing rules as a service: criteria (rules.criteria) applied in vectorised code to the
metrics aggregated in the database (listing/services/rule_metrics.py), explanations with the
records behind them, proposals, rule versions, backtests and scores."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
from sqlalchemy import case, func, literal
from sqlmodel import Session, select

from listing.domain import lookback
from listing.domain.policy import Actor, authorize
from listing.domain.states import OPEN_STATES, add_months
from listing.services import audit, listings
from listing.services.read.rulesets import active_rules, rules_version, stored_versions  # noqa: F401 - re-exported
from listing.services.rule_metrics import COUNTED_VIOLATION, Window, aggregates, metrics, records_behind
from listing.store.tables import Accident, Cycle, Listing, RuleVersion, Violation
from messages.errors import Conflict
from rules.criteria import config
from rules.criteria.config import RuleSet
from rules.criteria.evaluate import evaluate, explanation


# ---- rule versions ------------------------------------------------------------------------

def load_rules(session: Session, actor: Actor, path: Path | None, *, now: dt.datetime) -> tuple[RuleSet, bool]:
    """Store a rules file as a version; (rules, newly stored?). Same version + same text: no-op."""
    authorize(actor, "rules.change")
    rules = config.load(path)
    existing = session.exec(select(RuleVersion).where(RuleVersion.version == rules.version)).first()
    if existing is not None:
        if existing.sha256 != rules.sha256:
            raise Conflict("err.rules_version_conflict", version=rules.version)
        return rules, False
    session.add(RuleVersion(version=rules.version, effective_from=rules.effective_from, source=rules.source,
                            sha256=rules.sha256, loaded_by=actor.name, loaded_at=now))
    session.flush()
    audit.record(session, actor, "rules.load", "rule_version", rules.version, at=now,
                 after={"version": rules.version, "effective_from": rules.effective_from.isoformat(), "sha256": rules.sha256})
    return rules, True


# ---- check, explain, apply ----------------------------------------------------------------

def check(session: Session, actor: Actor, as_of: dt.date, rules: RuleSet | None = None) -> dict:
    """The companies meeting the criteria on `as_of`, each with its explanation; companies with
    an open listing are marked. Scoped to the actor's jurisdiction."""
    authorize(actor, "data.read")
    rules = rules or active_rules(session, as_of)
    w = Window.ending(as_of, rules.window_months)
    table = evaluate(aggregates(session, rules, w), rules, w.days)
    flagged = table.filter(pl.col("flagged"))
    if not actor.city_level:
        flagged = flagged.filter(pl.col("jurisdiction") == actor.jurisdiction)
    open_listing = dict(session.exec(select(Listing.company_id, Listing.id).where(
        Listing.state.in_([s.value for s in OPEN_STATES]))).all())
    rows = flagged.sort(["fatal_accidents", "violations_per_vehicle"], descending=True, nulls_last=True).to_dicts()
    reasons_of = {row["company_id"]: explanation(row, rules) for row in rows}
    wanted: dict[str, list[int]] = {}
    for cid, reasons in reasons_of.items():
        for r in reasons:
            wanted.setdefault(r["criterion"], []).append(cid)
    records = records_behind(session, rules, w, wanted)
    companies = []
    for row in rows:
        reasons = reasons_of[row["company_id"]]
        for r in reasons:
            r.update(records.get((row["company_id"], r["criterion"]), {"record_count": 0, "records": []}))
        companies.append({
            "company_id": row["company_id"], "uscc": row["uscc"], "name": row["name"],
            "business_type": row["business_type"], "jurisdiction": row["jurisdiction"],
            "avg_vehicles": round(row["avg_vehicles"], 3), "fatal_accidents": row["fatal_accidents"],
            "deaths": row["deaths"], "at_fault_accidents": row["at_fault_accidents"], "violations": row["violations"],
            "at_fault_per_vehicle": _round(row["at_fault_per_vehicle"]),
            "violations_per_vehicle": _round(row["violations_per_vehicle"]),
            "listed": row["company_id"] in open_listing, "listing_id": open_listing.get(row["company_id"]),
            "explanation": reasons,
        })
    return {"as_of": as_of, "rules_version": rules.version, "window": {"start": w.start, "end": w.end - dt.timedelta(days=1),
            "days": w.days}, "companies_evaluated": table.height, "flagged": companies}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def apply(session: Session, actor: Actor, as_of: dt.date, *, now: dt.datetime) -> dict:
    """Turn new flags into `proposed` listings (never a second open listing for a company)."""
    authorize(actor, "listing.propose")
    rules = active_rules(session, as_of)
    if not session.exec(select(RuleVersion).where(RuleVersion.version == rules.version)).first():
        # the shipped default becomes a stored version the moment a listing depends on it
        session.add(RuleVersion(version=rules.version, effective_from=rules.effective_from, source=rules.source,
                                sha256=rules.sha256, loaded_by=actor.name, loaded_at=now))
        session.flush()
    result = check(session, actor, as_of, rules)
    proposed, skipped, recently_delisted = [], [], []
    ended = _last_listing_ended(session)
    for company in result["flagged"]:
        if company["listed"]:
            skipped.append(company["uscc"])
            continue
        if not _still_flagged_after_last_listing(session, rules, as_of, company["company_id"], ended):
            recently_delisted.append(company["uscc"])
            continue
        explanation_ = {"as_of": as_of.isoformat(), "window": {k: str(v) for k, v in result["window"].items()},
                        "criteria": [{k: (str(v) if isinstance(v, dt.datetime) else v) for k, v in r.items() if k != "records"}
                                     | {"record_ids": [rec["id"] for rec in r["records"]]} for r in company["explanation"]],
                        "metrics": {k: company[k] for k in ("avg_vehicles", "fatal_accidents", "deaths", "at_fault_accidents",
                                                             "violations", "at_fault_per_vehicle", "violations_per_vehicle")}}
        row = listings.propose(session, actor, company["company_id"], rules_version=rules.version,
                               explanation=explanation_, now=now)
        proposed.append({"listing_id": row.id, "uscc": company["uscc"], "name": company["name"]})
    return {"as_of": as_of, "rules_version": rules.version, "proposed": proposed, "skipped": skipped,
            "recently_delisted": recently_delisted}


def _last_listing_ended(session: Session) -> dict[int, dt.date]:
    """company -> the day its last delisting took effect (the passed cycle's due date)."""
    rows = session.exec(select(Listing.company_id, Cycle.due).join(Cycle, Cycle.listing_id == Listing.id)
                        .where(Listing.state == "delisted", Cycle.outcome == "pass")).all()
    out: dict[int, dt.date] = {}
    for cid, due in rows:
        out[cid] = max(due, out.get(cid, due))
    return out


def _still_flagged_after_last_listing(session: Session, rules: RuleSet, as_of: dt.date, company_id: int,
                                      ended: dict[int, dt.date]) -> bool:
    """The look-back rule for a company listed before (rules `relist_lookback`): judged only on
    what happened since its last listing ended, thresholds scaled to that shorter window."""
    from dataclasses import replace

    from listing.domain.checklist import scale_thresholds

    w = Window.ending(as_of, rules.window_months)
    start = lookback.window_start(w.start, ended.get(company_id), rules.relist_lookback)
    if start == w.start:
        return True
    if lookback.too_short(start, w.end):
        return False
    short = Window(start, w.end)
    scaled = replace(rules, thresholds=scale_thresholds(rules.thresholds, short.days, w.days))
    return bool(evaluate(aggregates(session, scaled, short, [company_id]), scaled, short.days)["flagged"][0])


def backtest(session: Session, actor: Actor, start: dt.date, end: dt.date, extra: RuleSet | None = None) -> dict:
    """Replay month by month (as-of = each month's last day): how many companies each rule
    version would have flagged."""
    authorize(actor, "data.read")
    versions = [config.parse(v.source) for v in stored_versions(session)] or [config.load()]
    if extra is not None:
        versions = [v for v in versions if v.version != extra.version] + [extra]
    months, day = [], dt.date(start.year, start.month, 1)
    while day <= end:
        months.append(min(add_months(day, 1) - dt.timedelta(days=1), end))
        day = add_months(day, 1)
    rows = []
    for as_of in months:
        row = {"as_of": as_of}
        for rules in versions:
            row[rules.version] = int(metrics(session, rules, as_of)["flagged"].sum())
        rows.append(row)
    return {"versions": [v.version for v in versions], "months": rows}


# ---- peer scoring (optional mode) ---------------------------------------------------------

def scores(session: Session, actor: Actor, as_of: dt.date, rules: RuleSet | None = None) -> pl.DataFrame:
    """SMS-style measures and peer percentiles for every company over 24 months."""
    from rules.criteria.scoring import score

    authorize(actor, "data.read")
    rules = rules or active_rules(session, as_of)
    s = rules.scoring
    horizon = s.time_weights[-1][0]
    w = Window.ending(as_of, horizon)
    edges = [Window.ending(as_of, months).utc()[0] for months, _ in s.time_weights]
    start, end = w.utc()

    def bucket(column):
        return case(*[(column >= edge, literal(i)) for i, edge in enumerate(edges)], else_=literal(len(edges)))

    agg = aggregates(session, rules, w)
    exposure = agg.select("company_id", "uscc", "name", "business_type", "jurisdiction",
                          (pl.col("vehicle_days").fill_null(0) / w.days).alias("avg_vehicles"))
    vb = bucket(Violation.occurred_at)
    vq = (select(Violation.company_id, vb, Violation.code, Violation.points, func.count())
          .where(Violation.occurred_at >= start, Violation.occurred_at < end, COUNTED_VIOLATION)
          .group_by(Violation.company_id, vb, Violation.code, Violation.points))
    ab = bucket(Accident.occurred_at)
    hurt = (Accident.fatalities + Accident.injuries) > 0
    aq = (select(Accident.company_id, ab, hurt, Accident.dangerous_goods_release, func.count())
          .where(Accident.occurred_at >= start, Accident.occurred_at < end)
          .group_by(Accident.company_id, ab, hurt, Accident.dangerous_goods_release))
    violations = pl.DataFrame(session.exec(vq).all(), orient="row", schema={
        "company_id": pl.Int64, "bucket": pl.Int64, "code": pl.Utf8, "points": pl.Int64, "n": pl.Int64})
    accidents = pl.DataFrame(session.exec(aq).all(), orient="row", schema={
        "company_id": pl.Int64, "bucket": pl.Int64, "injury_or_fatal": pl.Boolean, "dg_release": pl.Boolean, "n": pl.Int64})
    out = score(exposure, violations, accidents, s)
    if not actor.city_level:
        out = out.filter(pl.col("jurisdiction") == actor.jurisdiction)
    return out
