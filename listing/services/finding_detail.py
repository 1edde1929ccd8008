"""One finding as a person reads it (线索详情): the episode (start, end, duration, peak speed,
limit, driver, location) and its speed over time.

The speed profile comes from the finding's evidence when sampling stored one (`speed_profile`:
[[seconds from start, km/h], ...]); otherwise from positions the caller fetches (the platform),
given as `positions(plate, start, end) -> list[{"time", "speed_kmh"}]`.
"""
from __future__ import annotations

import datetime as dt
import math
from typing import Callable

from sqlmodel import Session

from listing.domain.identifiers import mask_ric
from listing.domain.policy import Actor, authorize, can
from listing.store.tables import Company, Driver, Finding, Vehicle
from listing.timeutil import UTC
from messages.errors import NotFound

MARGIN = dt.timedelta(minutes=2)  # positions fetched either side of the episode, for context
BUCKETS = 48  # sparkline width
SPARK = "▁▂▃▄▅▆▇█"

Positions = Callable[[str, dt.datetime, dt.datetime], list[dict]]


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


def detail(session: Session, actor: Actor, finding_id: int, positions: Positions | None = None) -> dict:
    row = session.get(Finding, finding_id)
    if row is None:
        raise NotFound("err.finding_not_found", id=finding_id)
    company = session.get(Company, row.company_id)
    authorize(actor, "data.read", company.jurisdiction)
    vehicle = session.get(Vehicle, row.vehicle_id)
    driver = session.get(Driver, row.driver_id) if row.driver_id else None
    ev = row.evidence or {}
    start, end = _aware(row.start), _aware(row.end)
    out = {
        "id": row.id, "day": row.day, "state": row.state, "rule": row.rule, "regulation": row.regulation,
        "company": company.name, "uscc": company.uscc, "plate": vehicle.plate, "vehicle_class": vehicle.vehicle_class,
        "driver": driver.name if driver else None,
        "driver_id_number": (driver.id_number if can(actor, "driver.read_personal") else mask_ric(driver.id_number))
        if driver else None,
        "start": start, "end": end, "duration_s": ev.get("duration_s", (end - start).total_seconds()),
        "max_speed_kmh": ev.get("max_speed_kmh"), "mean_speed_kmh": ev.get("mean_speed_kmh"),
        "limit_kmh": ev.get("limit_kmh"), "band": ev.get("band"), "distance_m": ev.get("distance_m"),
        "points": ev.get("point_count"),
        "start_location": _location(ev.get("start_lat"), ev.get("start_lon")),
        "end_location": _location(ev.get("end_lat"), ev.get("end_lon")),
        "details": ev.get("details") or {},
        "decided_by": row.decided_by, "decided_at": _aware(row.decided_at), "reason": row.reason,
        "problem_id": row.problem_id, "violation_id": row.violation_id,
    }
    out["speed_profile"], out["speed_source"] = _profile(ev, vehicle.plate, start, end, positions)
    top = max([v for _, v in out["speed_profile"]] + [out["limit_kmh"] or 0], default=0) or None
    out["sparkline"] = speed_sparkline([s for s, _ in out["speed_profile"]], [v for _, v in out["speed_profile"]],
                                       buckets=min(BUCKETS, max(len(out["speed_profile"]), 1)), top=top)
    return out


def _location(lat, lon) -> dict | None:
    return None if lat is None or lon is None else {"lat": lat, "lon": lon}


def _profile(ev: dict, plate: str, start: dt.datetime, end: dt.datetime, positions: Positions | None):
    """([[seconds from the window start, km/h], ...], where it came from)."""
    if ev.get("speed_profile"):
        return [[float(s), float(v)] for s, v in ev["speed_profile"]], "evidence"
    if positions is None:
        return [], "none"
    try:
        rows = positions(plate, start - MARGIN, end + MARGIN)
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
