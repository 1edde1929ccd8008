"""The daily 10% sample (每日抽查10%车辆): verifiable, unpredictable, fair; and what a sampled
vehicle-day's data is worth. Pure: no database, no network, no clock.

The draw: n = ceil(fraction x active vehicles), at least one. Vehicles never sampled, or sampled
longest ago, come first (so every vehicle is drawn within ceil(N / n) days); ties are broken by a
keyed hash HMAC-SHA256(secret, "day|company|vehicle"): an auditor with the secret recomputes the
choice, a company without it cannot predict it. The inputs (active vehicles, the day each was last
sampled as known when the draw was made) are stored with the draw, so it is verifiable whatever
order days were run in.

`judge` turns the platform's answers for a batch of sampled vehicle-days into statuses and
findings (the trajectory engine runs once over the batch). A sampled vehicle-day's status
(`Sample.status`), the contract the acceptance checklist reads:

| status            | meaning                                                        | clean? |
|-------------------|----------------------------------------------------------------|--------|
| `selected`        | drawn; no real answer from the platform yet (it failed: retry)  | no: not yet a vehicle-day |
| `scanned`         | complete data, the trajectory rules ran                        | yes, when it has no finding |
| `partial`         | data cover too little of the moving time, or stop while moving  | never (a `partial_data` finding) |
| `no_data`         | the platform answered: a known vehicle sent no position        | never (a `no_data` finding) |
| `not_on_platform` | the platform answered: it does not know the vehicle (404)      | never (a `not_on_platform` finding) |
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import math
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterable, Mapping, Sequence

if TYPE_CHECKING:  # the draw and its verification are read commands: numpy and polars only where judged
    import numpy as np
    import polars as pl

WAITING = "selected"
SCANNED = "scanned"
PARTIAL = "partial"
NO_DATA = "no_data"
NOT_ON_PLATFORM = "not_on_platform"
ANSWERED = (SCANNED, PARTIAL, NO_DATA, NOT_ON_PLATFORM)  # the platform gave a real answer
CLEAN_CANDIDATE = (SCANNED,)  # the only status that may count as a clean vehicle-day
DATA_RULES = ("no_data", "partial_data", "not_on_platform")  # findings about the data, not the driving
REGULATION_ONLINE = "道路运输车辆动态监督管理办法(车载终端应保持在线)"
REGULATION_CONNECTED = "道路运输车辆动态监督管理办法(车辆应接入监控平台)"


def sample_size(active: int, fraction: float = 0.10) -> int:
    return 0 if active <= 0 else max(1, math.ceil(active * fraction - 1e-9))


def draw_key(secret: bytes, day: dt.date, company: str, vehicle: str) -> str:
    return hmac.new(secret, f"{day.isoformat()}|{company}|{vehicle}".encode(), hashlib.sha256).hexdigest()


def select_sample(vehicles: Sequence[str], last_sampled: Mapping[str, dt.date | None], day: dt.date, company: str,
                  secret: bytes, fraction: float = 0.10) -> list[str]:
    """The vehicles to sample on `day`, in selection order."""
    unique = sorted(set(vehicles))
    never = dt.date.min

    def order(vehicle: str):
        return (last_sampled.get(vehicle) or never, draw_key(secret, day, company, vehicle))

    return sorted(unique, key=order)[: sample_size(len(unique), fraction)]


def last_sampled_before(history: Iterable[tuple[str, dt.date]], day: dt.date) -> dict[str, dt.date]:
    """From (vehicle, sampled day) pairs known to a draw: each vehicle's last sampled day before `day`."""
    out: dict[str, dt.date] = {}
    for vehicle, when in history:
        if when < day and (vehicle not in out or when > out[vehicle]):
            out[vehicle] = when
    return out


def retry_delay(failed_attempts: int, first: dt.timedelta, longest: dt.timedelta) -> dt.timedelta:
    """Exponential backoff between runs the platform left unfinished: first, 2x, 4x, ... longest."""
    return min(longest, first * (2 ** max(0, failed_attempts - 1)))


@dataclass(frozen=True)
class DataQuality:
    """How well one vehicle-day's positions cover the time the vehicle moved."""

    vehicle: str
    points: int  # positions inside the day
    moving_s: float  # time the vehicle moved inside the day (covered or not)
    uncovered_moving_s: float  # of which without positions for longer than max_gap_s
    stops_while_moving: bool  # the day's positions end while the vehicle moves, and nothing follows
    min_share: float

    @property
    def moving_share(self) -> float:
        return 1.0 if self.moving_s <= 0 else 1.0 - self.uncovered_moving_s / self.moving_s

    @property
    def partial(self) -> bool:
        return self.points > 0 and (self.stops_while_moving or self.moving_share < self.min_share)

    def as_dict(self) -> dict:
        return {"points": self.points, "moving_s": round(self.moving_s, 1), "uncovered_moving_s": round(self.uncovered_moving_s, 1),
                "moving_share": round(self.moving_share, 4), "min_share": self.min_share,
                "stops_while_moving": self.stops_while_moving, "partial": self.partial}


def data_quality(vehicle: np.ndarray, t: np.ndarray, speed: np.ndarray, window: tuple[float, float], *,
                 moving_kmh: float, max_gap_s: float, min_share: float, vehicles: Sequence[str]) -> dict[str, DataQuality]:
    """Per vehicle, over the day `window` (epoch seconds; positions outside are context), vectorised.

    Arrays are per position: vehicle code (int, index into `vehicles`), epoch seconds, km/h.
    Between consecutive positions the vehicle moved when it was moving at either end. An interval
    longer than max_gap_s is moving time without data for this day when the data stopped, or
    resumed, while moving inside the day (a terminal that goes quiet after the vehicle parked and
    wakes before it leaves is the normal ignition-off pattern, not missing data; a vehicle that
    moved while quiet is the engine's `signal_gap` rule; data that stopped while moving the day
    before is that day's gap). The uncovered moving time is the part of such intervals inside the
    window; the day's positions "stop while moving" when the last one inside the window is moving
    and no position follows within max_gap_s inside the window.
    """
    import numpy as np

    lo, hi = window
    ordered = len(t) < 2 or bool(np.all((vehicle[1:] > vehicle[:-1]) | ((vehicle[1:] == vehicle[:-1]) & (t[1:] >= t[:-1]))))
    if not ordered:  # platforms answer in time order per vehicle: sorting is rarely needed
        order = np.lexsort((t, vehicle))
        vehicle, t, speed = vehicle[order], t[order], speed[order]
    vid, v = vehicle, np.nan_to_num(speed, nan=0.0)
    n, nv = len(t), len(vehicles)
    same = np.zeros(n, bool)  # interval i: from position i-1 to position i of the same vehicle
    gap = np.zeros(n)
    if n > 1:
        same[1:] = vid[1:] == vid[:-1]
        gap[1:] = t[1:] - t[:-1]
    moving_at = v > moving_kmh
    moving_before = np.r_[False, moving_at[:-1]][:n]
    start = t - gap
    inside = lambda x: (x >= lo) & (x < hi)  # noqa: E731
    long = gap > max_gap_s
    # a long gap is this day's missing data when the data stopped or resumed while moving inside the day
    moved = same & np.where(long, (moving_before & inside(start)) | (moving_at & inside(t)), moving_at | moving_before)
    inside_s = np.clip(np.minimum(t, hi) - np.maximum(start, lo), 0.0, None)
    moving_s = np.bincount(vid, weights=np.where(moved, inside_s, 0.0), minlength=nv)
    uncovered = np.bincount(vid, weights=np.where(moved & long, inside_s, 0.0), minlength=nv)
    in_day = (t >= lo) & (t < hi)
    points = np.bincount(vid[in_day], minlength=nv)
    stops = np.zeros(nv, bool)
    idx = np.flatnonzero(in_day)
    if idx.size:  # the last position inside the window of each vehicle, and what follows it
        last = idx[np.r_[vid[idx][1:] != vid[idx][:-1], True]]
        has_next = (last + 1 < n) & (np.r_[vid[1:], -1][last] == vid[last])
        following = np.where(has_next, t[np.minimum(last + 1, n - 1)], np.inf)
        stops[vid[last]] = moving_at[last] & (np.minimum(following, hi) - t[last] > max_gap_s)
    return {name: DataQuality(name, int(points[i]), float(moving_s[i]), float(uncovered[i]), bool(stops[i]), min_share)
            for i, name in enumerate(vehicles)}


# --- judging one batch of answers (the engine runs once over the batch) ------------------------------------------------

@dataclass
class Judged:
    """What one sampled vehicle-day's answer amounts to."""

    sample_id: int
    status: str  # rules/sampling.py statuses; WAITING: no real answer yet
    points: int = 0
    quality: dict | None = None
    findings: list = field(default_factory=list)  # rules.trajectory.Finding
    error: str | None = None


def _data_finding(rule: str, regulation: str, plate: str, window, **details):
    from rules.trajectory import Finding as Found

    start, end = (w.astimezone(dt.timezone.utc) for w in window)
    return Found(rule=rule, regulation=regulation, vehicle=plate, start=start, end=end, breach=start, details=details)


def _api_times(raw: pl.DataFrame) -> pl.DataFrame:
    """The API's times (ISO-8601 with an offset) parsed in one pass; a batch with any other form
    is left as text for the reader, which knows every form (and reports what it cannot read).
    Platforms write one offset (+08:00): then the 19 leading characters are parsed as a plain
    time and the offset applied once, three times cheaper than parsing an offset per row."""
    text = raw["time"]
    offset = text.str.slice(19)
    one = offset.drop_nulls().unique()
    if text.null_count() == 0 and one.len() == 1 and (m := re.fullmatch(r"([+-])(\d\d):(\d\d)", one[0] or "")):
        shift = dt.timedelta(hours=int(m[2]), minutes=int(m[3])) * (1 if m[1] == "+" else -1)
        parsed = (text.str.slice(0, 19).str.to_datetime("%Y-%m-%dT%H:%M:%S", strict=False, time_unit="us") - shift
                  ).dt.replace_time_zone("UTC")
    else:
        parsed = text.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f%:z", strict=False, time_unit="us").dt.convert_time_zone("UTC")
    return raw.with_columns(time=parsed) if parsed.null_count() == text.null_count() else raw


def judge(batch: list[tuple[int, str, str]], fetched: dict, window: tuple[dt.datetime, dt.datetime], *, rules,
          roster: pl.DataFrame | None, min_moving_share: float) -> list[Judged]:
    """batch: (sample id, plate, vehicle class). Runs the rules once over the whole batch."""
    import polars as pl

    from rules.trajectory import scan
    from rules.trajectory.readers import from_frame

    frames = [r.positions.with_columns(vehicle=pl.lit(plate)) for _, plate, _ in batch
              if (r := fetched[plate]).status == "ok" and r.points]
    read = from_frame(_api_times(pl.concat(frames, how="vertical_relaxed")), position_name="record", first_position=0) if frames else None
    points = read.points if read is not None else None
    findings_of: dict[str, list] = {}
    quality: dict = {}
    if points is not None and points.height:
        result = scan(points, vehicle_class={plate: cls for _, plate, cls in batch}, rules=rules, assignments=roster,
                      report_window=window)
        for f in result.findings:
            findings_of.setdefault(f.vehicle, []).append(f)
        plates = [plate for _, plate, _ in batch]
        code = points["vehicle"].replace_strict({p: i for i, p in enumerate(plates)}, default=-1, return_dtype=pl.Int64).to_numpy()
        keep = code >= 0
        quality = data_quality(
            code[keep], points["time"].dt.epoch("us").to_numpy()[keep] / 1e6, points["speed_kmh"].fill_null(0.0).to_numpy()[keep],
            (window[0].timestamp(), window[1].timestamp()), moving_kmh=float(rules.section("fatigue")["moving_kmh"]),
            max_gap_s=float(rules.section("signal_gap")["max_gap_s"]), min_share=min_moving_share, vehicles=plates)
    out = []
    for sample_id, plate, _ in batch:
        r = fetched[plate]
        if not r.answered:
            out.append(Judged(sample_id, WAITING, error=r.error))
        elif r.status == "unknown_vehicle":
            out.append(Judged(sample_id, NOT_ON_PLATFORM, findings=[_data_finding(
                "not_on_platform", REGULATION_CONNECTED, plate, window, platform="unknown vehicle (404)")]))
        elif plate not in quality or quality[plate].points == 0:
            out.append(Judged(sample_id, NO_DATA, findings=[_data_finding(
                "no_data", REGULATION_ONLINE, plate, window, platform="answered: no position in the day",
                positions_in_context=r.points)]))
        else:
            q = quality[plate]
            found = list(findings_of.get(plate, []))
            status = SCANNED
            if q.partial:
                status = PARTIAL
                found.append(_data_finding("partial_data", REGULATION_ONLINE, plate, window, **q.as_dict()))
            out.append(Judged(sample_id, status, q.points, q.as_dict(), found))
    return out
