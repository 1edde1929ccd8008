"""A finding: one suspected violation (or data problem) with the evidence behind it."""
from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Finding:
    rule: str  # overspeed / night_overspeed / fatigue_continuous / fatigue_daily / fatigue_weekly / early_morning / signal_gap / driver_unknown / no_data / partial_data
    regulation: str
    vehicle: str
    start: dt.datetime  # aware UTC
    end: dt.datetime
    breach: dt.datetime | None = None  # aware UTC: the moment the limit was crossed (the day a finding belongs to)
    start_lat: float | None = None
    start_lon: float | None = None
    end_lat: float | None = None
    end_lon: float | None = None
    duration_s: float = 0.0
    distance_m: float = 0.0
    max_speed_kmh: float | None = None
    mean_speed_kmh: float | None = None
    limit_kmh: float | None = None
    band: str | None = None
    point_count: int = 0
    driver: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["start"], out["end"] = self.start.isoformat(), self.end.isoformat()
        out["breach"] = (self.breach or self.start).isoformat()
        for key in ("start_lat", "start_lon", "end_lat", "end_lon"):
            if out[key] is not None:
                out[key] = round(out[key], 6)
        for key in ("duration_s", "distance_m", "max_speed_kmh", "mean_speed_kmh"):
            if out[key] is not None:
                out[key] = round(float(out[key]), 1)
        return out


def utc(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(round(float(seconds), 6), tz=dt.timezone.utc)
