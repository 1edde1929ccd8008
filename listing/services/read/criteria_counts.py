"""What the listing rules measure, per company, in a look-back window: the vehicle-days (a vehicle
sold to another company counts for its owner on the day) and the counts the criteria need. SQL
through listing.store.reader and plain Python, so one company's figures (the acceptance
checklist, the company story) need neither the ORM nor polars; listing/services/rule_metrics.py
turns the same rows into a frame for the city-wide check."""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from listing.domain.states import add_months
from listing.store.reader import DATE, TIME, Reader, query
from listing.timeutil import LOCAL_TZ
from rules.criteria.config import RuleSet

COUNTS = ("violations", "fatal_accidents", "deaths", "at_fault_accidents")
COLUMNS = ("company_id", "uscc", "name", "business_type", "jurisdiction", "vehicle_days", "fatal_accidents", "deaths",
           "at_fault_accidents", "violations")


@dataclass(frozen=True)
class Window:
    """(as_of - window_months, as_of], in local calendar days; events compared in UTC."""

    start: dt.date  # first day inside
    end: dt.date  # first day after

    @classmethod
    def ending(cls, as_of: dt.date, months: int) -> "Window":
        return cls(add_months(as_of, -months) + dt.timedelta(days=1), as_of + dt.timedelta(days=1))

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def utc(self) -> tuple[dt.datetime, dt.datetime]:
        return tuple(dt.datetime.combine(d, dt.time(), tzinfo=LOCAL_TZ).astimezone(dt.timezone.utc) for d in (self.start, self.end))


def _exposure(dialect: str, start: str, stop: str) -> str:
    """Days registered inside the window (SQL), for the period start <= day < stop (NULL stop: open)."""
    if dialect == "sqlite":
        return f"julianday(MIN(COALESCE({stop}, :wend), :wend)) - julianday(MAX({start}, :wstart))"
    return f"LEAST(COALESCE({stop}, :wend), :wend) - GREATEST({start}, :wstart)"


_CLASSES = query("SELECT DISTINCT vehicle_class FROM vehicle")
_MOVED = query("SELECT vehicle_id FROM vehicle_ownership GROUP BY vehicle_id HAVING COUNT(*) > 1")
_HISTORY = query("""SELECT vehicle_id, company_id, "start", "end" FROM vehicle_ownership WHERE vehicle_id IN :moved""",
                 start=DATE, end=DATE)
_FATAL = "a.fatalities > 0 AND a.responsibility IN :fatal"
_MOVED_EVENTS = query(f"""
    SELECT x.vehicle_id, x.company_id, x.occurred_at, 1 AS violations, 0 AS fatal_accidents, 0 AS deaths,
           0 AS at_fault_accidents
    FROM violation x WHERE x.vehicle_id IN :moved AND x.occurred_at >= :start AND x.occurred_at < :end
      AND x.voided_at IS NULL
    UNION ALL
    SELECT a.vehicle_id, a.company_id, a.occurred_at, 0, CASE WHEN {_FATAL} THEN 1 ELSE 0 END,
           CASE WHEN {_FATAL} THEN a.fatalities ELSE 0 END, CASE WHEN a.responsibility IN :at_fault THEN 1 ELSE 0 END
    FROM accident a WHERE a.vehicle_id IN :moved AND a.occurred_at >= :start AND a.occurred_at < :end""",
                       occurred_at=TIME)


def _queries(dialect: str, class_filter: bool, some: bool) -> dict[str, str]:
    """The grouped queries; `class_filter`: only vehicles of the rules' classes; `some`: only :companies."""
    cls = " AND v.vehicle_class IN :classes" if class_filter else ""
    join = " JOIN vehicle v ON v.id = {t}.vehicle_id" if class_filter else ""

    def only(column: str) -> str:
        return f" AND {column} IN :companies" if some else ""

    return {
        "companies": "SELECT id AS company_id, uscc, name, business_type, jurisdiction FROM company"
                     + (" WHERE id IN :companies" if some else "") + " ORDER BY id",
        "exposure": f"""SELECT v.company_id, SUM({_exposure(dialect, 'v.active_from', 'v.active_to')}) AS days FROM vehicle v
            WHERE v.active_from < :wend AND (v.active_to IS NULL OR v.active_to > :wstart)
              AND NOT EXISTS (SELECT 1 FROM vehicle_ownership h WHERE h.vehicle_id = v.id){cls}{only('v.company_id')}
            GROUP BY v.company_id""",
        "owned": f"""SELECT o.company_id, SUM({_exposure(dialect, 'o."start"', 'o."end"')}) AS days
            FROM vehicle_ownership o JOIN vehicle v ON v.id = o.vehicle_id
            WHERE o."start" < :wend AND (o."end" IS NULL OR o."end" > :wstart){cls}{only('o.company_id')}
            GROUP BY o.company_id""",
        "accidents": f"""SELECT a.company_id, SUM(CASE WHEN {_FATAL} THEN 1 ELSE 0 END) AS fatal_accidents,
                   SUM(CASE WHEN {_FATAL} THEN a.fatalities ELSE 0 END) AS deaths,
                   SUM(CASE WHEN a.responsibility IN :at_fault THEN 1 ELSE 0 END) AS at_fault_accidents
            FROM accident a{join.format(t='a')}
            WHERE a.occurred_at >= :start AND a.occurred_at < :end{cls}{only('a.company_id')} GROUP BY a.company_id""",
        "violations": f"""SELECT x.company_id, COUNT(*) AS violations FROM violation x{join.format(t='x')}
            WHERE x.occurred_at >= :start AND x.occurred_at < :end AND x.voided_at IS NULL{cls}{only('x.company_id')}
            GROUP BY x.company_id""",
    }


def aggregate_rows(db, rules: RuleSet, w: Window, company_ids: list[int] | None = None) -> list[dict]:
    """One dict per company (COLUMNS): vehicle-days in the window and the counts the criteria need
    (None where the company has none). `db`: a Reader or an ORM session."""
    reader = Reader.of(db)
    start, end = w.utc()
    present = {r.vehicle_class for r in reader.rows(_CLASSES)}
    class_filter = not present <= set(rules.vehicle_classes)
    sql = _queries(reader.dialect, class_filter, company_ids is not None)
    params = {"wstart": w.start, "wend": w.end, "start": start, "end": end, "fatal": list(rules.fatal_responsibility),
              "at_fault": list(rules.at_fault), "classes": list(rules.vehicle_classes),
              "companies": list(company_ids or [])}

    def run(name: str) -> list:
        return reader.rows(query(sql[name]), **params)  # each query takes the parameters it names

    out = {r.company_id: {c: r.get(c) for c in COLUMNS} for r in run("companies")}
    for name in ("exposure", "owned"):
        for r in run(name):
            if r.company_id in out and r.days is not None:
                row = out[r.company_id]
                row["vehicle_days"] = (row["vehicle_days"] or 0.0) + float(r.days)
    for name in ("accidents", "violations"):
        for r in run(name):
            if r.company_id in out:
                out[r.company_id].update({k: int(v) for k, v in r.items() if k != "company_id" and v is not None})
    moved = [r.vehicle_id for r in reader.rows(_MOVED)]
    if moved:  # events of a vehicle that changed company count for its owner on the day
        fix = _owner_corrections(reader, rules, w, moved)
        for cid, row in out.items():
            for c in COUNTS:
                row[c] = (row[c] or 0) + fix.get(cid, {}).get(c, 0)
    return list(out.values())


def _owner_corrections(reader: Reader, rules: RuleSet, w: Window, moved: list[int]) -> dict[int, dict[str, int]]:
    """For vehicles that changed company: per company, the events to add (the owner on the day of
    the event) and remove (the company the record names). Few rows."""
    start, end = w.utc()
    history = defaultdict(list)
    for h in reader.rows(_HISTORY, moved=moved):
        history[h.vehicle_id].append(h)
    fix: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNTS, 0))
    for e in reader.rows(_MOVED_EVENTS, moved=moved, start=start, end=end, fatal=list(rules.fatal_responsibility),
                         at_fault=list(rules.at_fault)):
        day = e.occurred_at.astimezone(LOCAL_TZ).date()
        for h in history[e.vehicle_id]:
            if h.start <= day and (h.end is None or h.end > day) and h.company_id != e.company_id:
                for c in COUNTS:
                    fix[h.company_id][c] += e[c]
                    fix[e.company_id][c] -= e[c]
    return fix
