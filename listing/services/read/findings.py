"""The findings the police review (`guapai findings list`), and one finding as a person reads it
(`guapai findings show`, 线索详情): the episode (start, end, duration, peak speed, limit, driver,
location) and its speed over time.

The speed profile comes from the finding's evidence when sampling stored one (`speed_profile`:
[[seconds from start, km/h], ...]); otherwise from positions the caller fetches (the platform),
given as `positions(plate, start, end) -> list[{"time", "speed_kmh"}]`.
"""
from __future__ import annotations

import datetime as dt
import math
from typing import Callable

from listing.domain.identifiers import mask_ric
from listing.domain.policy import Actor, authorize, can
from listing.services.read.sql import where
from listing.store.reader import DATE, JSON, TIME, Reader, query
from listing.timeutil import UTC
from messages.errors import NotFound

MARGIN = dt.timedelta(minutes=2)  # positions fetched either side of the episode, for context
BUCKETS = 48  # sparkline width
SPARK = "▁▂▃▄▅▆▇█"

Positions = Callable[[str, dt.datetime, dt.datetime], list[dict]]


def _findings(day: bool, state: bool, company: bool, everywhere: bool):
    return query(f"""
        SELECT f.id, f.day, c.name AS company, c.uscc, v.plate, f.rule, f.start, f."end", f.evidence, f.state,
               d.name AS driver, d.id_number, f.regulation
        FROM finding f JOIN vehicle v ON v.id = f.vehicle_id JOIN company c ON c.id = f.company_id
        LEFT OUTER JOIN driver d ON d.id = f.driver_id
        {where(day and "f.day = :day", state and "f.state = :state", company and "c.uscc = :company",
               not everywhere and "c.jurisdiction = :jurisdiction")}
        ORDER BY f.day DESC, f.id
        LIMIT :limit""", day=DATE, start=TIME, end=TIME, evidence=JSON)


_FINDING = query("""
    SELECT f.id, f.day, f.state, f.rule, f.regulation, f.start, f."end", f.evidence, f.decided_by, f.decided_at,
           f.reason, f.problem_id, f.violation_id, c.name AS company, c.uscc, c.jurisdiction,
           v.plate, v.vehicle_class, d.name AS driver, d.id_number
    FROM finding f JOIN company c ON c.id = f.company_id JOIN vehicle v ON v.id = f.vehicle_id
    LEFT OUTER JOIN driver d ON d.id = f.driver_id
    WHERE f.id = :id""", day=DATE, start=TIME, end=TIME, decided_at=TIME, evidence=JSON)


def list_findings(db, actor: Actor, *, day: dt.date | None = None, state: str | None = "suspected",
                  company: str | None = None, limit: int = 200) -> list[dict]:
    """The findings of the actor's jurisdiction, newest day first. `db`: a Reader or an ORM session."""
    authorize(actor, "data.read")
    q = _findings(bool(day), bool(state), bool(company), actor.city_level)
    rows = Reader.of(db).rows(q, day=day, state=state, company=company, jurisdiction=actor.jurisdiction, limit=limit)
    personal = can(actor, "driver.read_personal")
    out = []
    for r in rows:
        ev = r["evidence"] or {}
        out.append({"id": r["id"], "day": r["day"], "company": r["company"], "uscc": r["uscc"], "plate": r["plate"],
                    "rule": r["rule"], "start": r["start"], "end": r["end"], "duration_s": ev.get("duration_s"),
                    "max_speed_kmh": ev.get("max_speed_kmh"), "limit_kmh": ev.get("limit_kmh"), "band": ev.get("band"),
                    "state": r["state"], "driver": r["driver"],
                    "driver_id_number": r["id_number"] if personal else mask_ric(r["id_number"]),
                    "regulation": r["regulation"]})
    return out


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def speed_sparkline(seconds, speeds, buckets: int = BUCKETS, top: float | None = None) -> str:
    """The peak speed in each of `buckets` equal time slices, as bars scaled to `top` (default:
    the peak); a slice without positions is a gap (' ')."""
    # Plain Python: a finding has hundreds of positions, and `findings show` is a read command
    # that should not pay for importing numpy.
    points = [(float(t), float("nan") if v is None else float(v)) for t, v in zip(seconds, speeds)]
    if not points:
        return ""
    first = min(t for t, _ in points)
    span = max(max(t for t, _ in points) - first, 1.0)
    peak = [math.nan] * buckets
    for t, v in points:
        slot = min(int((t - first) / span * buckets), buckets - 1)
        if not math.isnan(v) and (math.isnan(peak[slot]) or v > peak[slot]):
            peak[slot] = v
    top = top or max((p for p in peak if not math.isnan(p)), default=math.nan) or 1.0
    if math.isnan(top):
        top = 1.0
    return "".join(" " if math.isnan(p) else SPARK[int(min(max(round(p / top * (len(SPARK) - 1)), 0), len(SPARK) - 1))]
                   for p in peak)


def detail(db, actor: Actor, finding_id: int, positions: Positions | None = None) -> dict:
    """One finding, its episode and its speed profile. `db`: a Reader or an ORM session."""
    row = Reader.of(db).first(_FINDING, id=finding_id)
    if row is None:
        raise NotFound("err.finding_not_found", id=finding_id)
    authorize(actor, "data.read", row["jurisdiction"])
    has_driver = row["id_number"] is not None
    ev = row["evidence"] or {}
    start, end = _aware(row["start"]), _aware(row["end"])
    out = {
        "id": row["id"], "day": row["day"], "state": row["state"], "rule": row["rule"], "regulation": row["regulation"],
        "company": row["company"], "uscc": row["uscc"], "plate": row["plate"], "vehicle_class": row["vehicle_class"],
        "driver": row["driver"] if has_driver else None,
        "driver_id_number": (row["id_number"] if can(actor, "driver.read_personal") else mask_ric(row["id_number"]))
        if has_driver else None,
        "start": start, "end": end, "duration_s": ev.get("duration_s", (end - start).total_seconds()),
        "max_speed_kmh": ev.get("max_speed_kmh"), "mean_speed_kmh": ev.get("mean_speed_kmh"),
        "limit_kmh": ev.get("limit_kmh"), "band": ev.get("band"), "distance_m": ev.get("distance_m"),
        "points": ev.get("point_count"),
        "start_location": _location(ev.get("start_lat"), ev.get("start_lon")),
        "end_location": _location(ev.get("end_lat"), ev.get("end_lon")),
        "details": ev.get("details") or {},
        "decided_by": row["decided_by"], "decided_at": _aware(row["decided_at"]), "reason": row["reason"],
        "problem_id": row["problem_id"], "violation_id": row["violation_id"],
    }
    out["speed_profile"], out["speed_source"] = _profile(ev, row["plate"], start, end, positions)
    top = max([v for _, v in out["speed_profile"]] + [out["limit_kmh"] or 0], default=0) or None
    out["sparkline"] = speed_sparkline([s for s, _ in out["speed_profile"]], [v for _, v in out["speed_profile"]],
                                       buckets=min(BUCKETS, max(len(out["speed_profile"]), 1)), top=top)
    return out


def _location(lat, lon) -> dict | None:
    return None if lat is None or lon is None else {"lat": lat, "lon": lon}


class NoPlatform(LookupError):
    """Raised by a `positions` fetcher when no platform is configured (the profile's source is then "none")."""


def _profile(ev: dict, plate: str, start: dt.datetime, end: dt.datetime, positions: Positions | None):
    """([[seconds from the window start, km/h], ...], where it came from)."""
    if ev.get("speed_profile"):
        return [[float(s), float(v)] for s, v in ev["speed_profile"]], "evidence"
    if positions is None:
        return [], "none"
    try:
        rows = positions(plate, start - MARGIN, end + MARGIN)
    except NoPlatform:
        return [], "none"
    except Exception:  # noqa: BLE001 - the platform being away must not hide the finding itself
        return [], "unavailable"
    lo = start - MARGIN
    out = []
    for p in rows:
        if p.get("speed_kmh") is None:
            continue
        when = dt.datetime.fromisoformat(p["time"]) if isinstance(p["time"], str) else p["time"]
        out.append([round((_aware(when) - lo).total_seconds(), 1), float(p["speed_kmh"])])
    return sorted(out), "platform" if out else "unavailable"
