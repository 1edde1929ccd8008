"""`scan`: one call from positions to findings with drivers and evidence — what the sampling
job and `guapai trajectory scan` use. Pure: no database, no network, no clock."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Mapping

import numpy as np
import polars as pl

from rules.trajectory import detectors
from rules.trajectory.allocator import keep_freed_memory
from rules.trajectory.attribution import Drivers, unknown_driver
from rules.trajectory.clean import CleaningReport, Points, Track, clean, clean_sorted, points_of
from rules.trajectory.columns import conform
from rules.trajectory.compiled import kernels
from rules.trajectory.config import TrajectoryRules
from rules.trajectory.findings import Finding, utc
from rules.trajectory.zones import Zones

BATCH_POINTS = 250_000  # points per part of whole vehicles: small enough for the arrays to stay in cache
GATHER_POINTS = 1_000_000  # points gathered at once from input in time order across vehicles
PER_DRIVER = ("fatigue_continuous", "fatigue_daily", "fatigue_weekly")  # counted per driver where the roster is known


@dataclass
class Coverage:
    """How much of the window the positions cover, per vehicle: to tell 'no data' and
    'partial data' from 'clean' (no data is never clean)."""

    vehicle: str
    points: int
    first: dt.datetime | None
    last: dt.datetime | None
    longest_gap_s: float
    covered_fraction: float

    def as_dict(self) -> dict:
        return {"vehicle": self.vehicle, "points": self.points, "first": self.first and self.first.isoformat(),
                "last": self.last and self.last.isoformat(), "longest_gap_s": round(self.longest_gap_s, 1),
                "covered_fraction": round(self.covered_fraction, 4)}


@dataclass
class ScanResult:
    findings: list[Finding]
    report: CleaningReport
    coverage: dict[str, Coverage] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"findings": [f.to_dict() for f in self.findings], "cleaning": self.report.as_dict(),
                "coverage": {k: v.as_dict() for k, v in self.coverage.items()}}


def _coverage(track: Track, window: tuple[float, float] | None, max_gap: float, vehicles: list[str]) -> dict[str, Coverage]:
    """One compiled pass over points: per vehicle code, the points in the window, their longest gap
    (window edges included) and the share of the window covered by gaps no longer than max_gap."""
    lo_, hi_ = window if window is not None else (-np.inf, np.inf)
    counts, first_t, last_t, longest, covered = kernels.coverage(track.vid, track.t, len(track.vehicles), lo_, hi_, max_gap)
    out = {}
    codes = {name: i for i, name in enumerate(track.vehicles)}
    for name in vehicles:
        code = codes.get(name, -1)
        if code < 0 or counts[code] == 0:
            out[name] = _no_coverage(name, window)
            continue
        lo, hi = (window if window else (first_t[code], last_t[code]))
        edge_first, edge_last = first_t[code] - lo, hi - last_t[code]
        span = max(hi - lo, 1.0)
        cov = covered[code] + (edge_first if edge_first <= max_gap else 0) + (edge_last if edge_last <= max_gap else 0)
        out[name] = Coverage(name, int(counts[code]), utc(first_t[code]), utc(last_t[code]),
                             float(max(longest[code], edge_first, edge_last)), float(min(cov / span, 1.0)))
    return out


def rest_periods(points: pl.DataFrame, rules: TrajectoryRules) -> list[tuple[str, dt.datetime, dt.datetime]]:
    """The qualifying rests the fatigue rules see: (vehicle, from, to)."""
    track = clean(conform(points), rules)
    detectors.driving_and_rests(track, rules, detectors.moving(track, rules))
    return [(track.vehicles[track.vid[a]], utc(track.t[a]), utc(track.t[b])) for a, b in track.rests]


def warm() -> None:
    """Load every compiled kernel (from numba's on-disk cache) by scanning a tiny SIMULATED day
    of two vehicles, rows interleaved, one a coach: a caller may run this on a thread while it
    reads its file, so that the real scan does not wait for them."""
    from rules.trajectory.config import load

    t0 = dt.datetime(2026, 1, 1, 1, tzinfo=dt.UTC)
    times = [t0 + dt.timedelta(seconds=30 * (i // 2)) for i in range(40)]
    frame = pl.DataFrame({"vehicle": ["B", "A"] * 20, "time": times, "lat": [30.0 + 0.001 * i for i in range(40)],
                          "lon": [120.0] * 40, "speed_kmh": [60.0] * 40}).with_columns(pl.col("time").dt.cast_time_unit("us"))
    scan(frame, vehicle_class={"A": "coach", "B": "truck"}, rules=load())


def scan(points: pl.DataFrame, *, vehicle_class: str | Mapping[str, str], rules: TrajectoryRules,
         assignments: pl.DataFrame | None = None, report_window: tuple[dt.datetime, dt.datetime] | None = None,
         zones: Zones | None = None, expected_vehicles: list[str] | None = None,
         window: tuple[dt.datetime, dt.datetime] | None = None, workers: int = 1) -> ScanResult:
    """Find every rule's episodes in `points` (any order, any number of vehicles).

    `report_window=(start, end)` (aware datetimes, e.g. one local day): the points outside it are
    context only. A finding is reported when its **breach moment** — the moment its limit was
    crossed (`Finding.breach`: overspeed lasting min_duration_s, the 4 h of driving exceeded, the
    8 h in 24 h exceeded, ...) — lies in [start, end); its start, end and evidence cover the whole
    episode, even the part before `start` (a 21:00-03:00 drive breaks the 4 h rule at 01:00: the
    finding belongs to the second day and runs from 21:00). Give the scan enough context before
    `start` for the rules to see the episode: 24 h covers "> 8 h in 24 h" and an evening drive.
    Sampling consecutive days with their context then reports each finding exactly once.
    Coverage is measured over the report window. `window` is the former name of `report_window`.

    The points are scanned in parts of whole vehicles of about BATCH_POINTS points, one after
    another (or a group of parts per thread, `workers` groups at a time), so the engine's working
    memory stays bounded whatever the day's size; findings are per vehicle, so the result is
    the same.
    """
    keep_freed_memory()  # parts reuse freed memory instead of faulting it in again (allocator.py)
    report_window = report_window or window
    found = points_of(conform(points), workers)
    options = {"vehicle_class": vehicle_class, "rules": rules, "assignments": Drivers(assignments),
               "report_window": report_window, "zones": zones}
    results = [r for rs in _map(lambda group: [_scan_part(part, **options) for part in group()], _groups(found), workers) for r in rs]
    findings = sorted((f for r in results for f in r.findings), key=lambda f: (f.vehicle, f.start, f.rule))
    report = CleaningReport(points_in=found.points_in, points_out=sum(r.report.points_out for r in results))
    for r in results:
        for key, n in r.report.dropped.items():
            report.dropped[key] = report.dropped.get(key, 0) + n
    report.dropped["invalid_fix"] = found.points_in - len(found)
    reported = sum(round(r.report.reported_share * r.report.points_out) for r in results)  # each part's count, exactly
    report.reported_share = reported / report.points_out if report.points_out else 0.0
    source = rules.section("cleaning")["speed_source"]
    report.speed_source = ("derived" if source == "derived" or report.reported_share == 0
                           else source if report.reported_share == 1 else f"{source}+derived")
    coverage = {name: c for r in results for name, c in r.coverage.items()}
    for name in expected_vehicles or []:
        coverage.setdefault(name, _no_coverage(name, (report_window[0].timestamp(), report_window[1].timestamp())
                                               if report_window else None))
    return ScanResult(findings, report, dict(sorted(coverage.items())))


def _map(fn, items, workers: int) -> list:
    """[fn(item) for item in items], on `workers` threads with at most `workers` items in
    flight at a time (the compiled passes release the GIL). Parts are whole
    vehicles, so the result is the same on any number of threads."""
    if workers <= 1:
        return [fn(item) for item in items]
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor

    out, pending = [], deque()
    with ThreadPoolExecutor(workers) as pool:
        for item in items:
            pending.append(pool.submit(fn, item))
            if len(pending) >= workers:
                out.append(pending.popleft().result())
        out.extend(f.result() for f in pending)
    return out


def _cuts(firsts: np.ndarray, lo: int, hi: int, size: int) -> np.ndarray:
    """Vehicle codes cutting vehicles lo..hi-1 into runs of about `size` points (`firsts`: where
    each vehicle starts in (vehicle, time) order, and the end)."""
    at = np.searchsorted(firsts, np.arange(firsts[lo], firsts[hi], size), side="right") - 1
    return np.unique(np.r_[lo, np.clip(at, lo, hi), hi])


def _groups(found: Points) -> list:
    """The day in groups of whole vehicles of about GATHER_POINTS points, each a callable that
    makes the group's parts (`_group`): a worker thread gathers its own group."""
    n, nv = len(found), len(found.names)
    if n == 0:
        return [lambda: iter([found])]
    if found.firsts is not None:  # known sorted (clean._coded_points)
        already, order, firsts = True, None, found.firsts
    else:
        already, in_time = kernels.by_vehicle(found.vid, found.t_us, nv)
        order = None if already or in_time else np.lexsort((found.t_us, found.vid))
        firsts = np.r_[0, np.cumsum(np.bincount(found.vid, minlength=nv))]
    groups = _cuts(firsts, 0, nv, GATHER_POINTS)
    return [lambda g0=g0, g1=g1: _group(found, already, order, firsts, g0, g1) for g0, g1 in pairwise(groups)]


def _group(found: Points, already: bool, order: np.ndarray | None, firsts: np.ndarray, g0: int, g1: int):
    """Vehicles g0..g1-1 in parts of whole vehicles of about BATCH_POINTS points, in (vehicle,
    time) order, made one at a time. Sorted input is sliced; input in time order across vehicles
    (as platforms export it) is gathered in one sequential pass (no random reads); anything else
    through a full sort (`order`)."""
    lo, hi = firsts[g0], firsts[g1]
    if already:
        cols = tuple(c[lo:hi] for c in (found.vid, found.t_us, found.lat, found.lon, found.reported))
    elif order is None:
        cols = kernels.gather_vehicles(found.vid, found.t_us, found.lat, found.lon, found.reported, g0, g1, firsts[g0:g1 + 1] - lo)
    else:
        rows = order[lo:hi]
        cols = found.vid[rows], found.t_us[rows], found.lat[rows], found.lon[rows], found.reported[rows]
    for v0, v1 in pairwise(_cuts(firsts, g0, g1, BATCH_POINTS)):
        a, b = firsts[v0] - lo, firsts[v1] - lo
        vid, t_us, lat, lon, reported = (c[a:b] for c in cols)
        yield Points(found.names[v0:v1], vid - np.int32(v0), t_us, lat, lon, reported, int(b - a))


def _parts(found: Points):
    """Every part of the day, group after group."""
    for group in _groups(found):
        yield from group()


def _no_coverage(name: str, window: tuple[float, float] | None) -> Coverage:
    return Coverage(name, 0, None, None, (window[1] - window[0]) if window else 0.0, 0.0)


def _scan_part(part: Points, *, vehicle_class, rules: TrajectoryRules, assignments: Drivers, report_window, zones) -> ScanResult:
    track = clean_sorted(part, rules)
    classes = np.array([vehicle_class if isinstance(vehicle_class, str) else vehicle_class.get(v, "other")
                        for v in track.vehicles])
    zone_limit = zones.limit_at(track.lat, track.lon) if zones is not None and len(track) else None
    drivers = assignments
    on_duty = drivers.codes(track)
    moving = detectors.moving(track, rules)
    driving, rest_end = detectors.driving_and_rests(track, rules, moving)
    raw = (detectors.overspeed(track, classes, rules, zone_limit)
           + detectors.continuous_driving(track, classes, rules, driving, rest_end, on_duty)
           + detectors.cumulative_driving(track, rules, driving, on_duty)
           + detectors.early_morning(track, classes, track.vehicles, rules, moving)
           + detectors.signal_gaps(track, rules))
    if drivers.known:
        raw += unknown_driver(track, on_duty, moving, float(rules.section("attribution")["min_unassigned_s"]),
                              float(rules.section("signal_gap")["max_gap_s"]))
    lo = report_window[0].timestamp() if report_window else -np.inf
    hi = report_window[1].timestamp() if report_window else np.inf
    findings = []
    for ep in raw:
        s, e = max(ep["s"], 0), ep["e"]
        start_t = track.t[s]
        breach_t = ep.get("breach_t", start_t)
        if not lo <= breach_t < hi:
            continue
        name = track.vehicles[track.vid[s]]
        details = dict(ep.get("details", {}))
        per_driver = ep["rule"] in PER_DRIVER
        # fatigue is counted per driver: the driver of the stretch; other rules: who drove at the start
        code = on_duty[e if per_driver else s] if ep["rule"] != "driver_unknown" else -1
        driver = drivers.names[code] if code >= 0 else None
        if drivers.known and driver is None and ep["rule"] != "driver_unknown":
            details["driver_unknown"] = True
        if per_driver:
            details["counted_per"] = "driver" if driver is not None else "vehicle"
        if "limit_s" in ep:
            details["limit_s"] = ep["limit_s"]
        seg = slice(s, e + 1)
        findings.append(Finding(
            rule=ep["rule"], regulation=ep["regulation"], vehicle=name, start=utc(start_t), end=utc(track.t[e]), breach=utc(breach_t),
            start_lat=float(track.lat[s]), start_lon=float(track.lon[s]), end_lat=float(track.lat[e]), end_lon=float(track.lon[e]),
            duration_s=ep["duration_s"], distance_m=ep.get("distance_m", 0.0),
            max_speed_kmh=ep.get("max_speed_kmh", float(track.speed[seg].max())),
            mean_speed_kmh=ep.get("mean_speed_kmh", float(track.speed[seg].mean())),
            limit_kmh=ep.get("limit_kmh"), band=ep.get("band"), point_count=int(e - s + 1), driver=driver, details=details))
    findings.sort(key=lambda f: (f.vehicle, f.start, f.rule))
    win = (lo, hi) if report_window else None
    coverage = _coverage(track, win, float(rules.section("signal_gap")["max_gap_s"]), track.vehicles)
    return ScanResult(findings, track.report, dict(sorted(coverage.items())))
