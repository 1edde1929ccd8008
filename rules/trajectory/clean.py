"""Cleaning positions into arrays the detectors trust: invalid and zero fixes, duplicates,
equal timestamps and GPS jumps are dropped (and counted); speed is derived where it was not
reported. Vectorised over all points of all vehicles at once."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from rules.trajectory.compiled import kernels
from rules.trajectory.config import TrajectoryRules


@dataclass
class CleaningReport:
    points_in: int = 0
    points_out: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    speed_source: str = "derived"  # what the rules used: reported / derived / max / mixed
    reported_share: float = 0.0

    def as_dict(self) -> dict:
        return {"points_in": self.points_in, "points_out": self.points_out, "dropped": dict(self.dropped),
                "speed_source": self.speed_source, "reported_share": round(self.reported_share, 4)}


@dataclass
class Track:
    """Clean points of one or more vehicles, sorted by (vehicle, time)."""

    vehicles: list[str]
    vid: np.ndarray  # vehicle code per point
    t: np.ndarray  # epoch seconds (float64)
    lat: np.ndarray
    lon: np.ndarray
    speed: np.ndarray  # km/h, as the rules use it
    seg_m: np.ndarray  # metres from the previous point of the same vehicle (0 at a vehicle's first point)
    seg_s: np.ndarray  # seconds from the previous point (0 at a vehicle's first point)
    first: np.ndarray  # True at each vehicle's first point
    report: CleaningReport
    local_s: np.ndarray = None  # seconds after local midnight (UTC+8), computed once
    t_us: np.ndarray = None  # epoch microseconds (int64), exact
    rests: list[tuple[int, int]] = field(default_factory=list)  # (from, to) point indices, set by the fatigue rules

    def __len__(self) -> int:
        return len(self.t)


def _sorted(items: list[str]) -> bool:
    return all(a < b for a, b in zip(items, items[1:]))


@dataclass
class Points:
    """The columns the engine reads, as numpy arrays over the valid fixes, in input order."""

    names: list[str]  # plates in order; `vid` indexes them, every plate has a point
    vid: np.ndarray  # int32
    t_us: np.ndarray  # epoch microseconds (int64)
    lat: np.ndarray
    lon: np.ndarray
    reported: np.ndarray  # km/h, NaN where the source did not report it
    points_in: int = 0
    firsts: np.ndarray | None = None  # known sorted by (vehicle, time): where each vehicle starts, and the end

    def __len__(self) -> int:
        return len(self.t_us)


def vehicle_codes(vehicle: pl.Series) -> tuple[np.ndarray, list[str]]:
    """A code per row (int32, null plates -1) in plate order, and the plates. Rows grouped by
    plate in plate order (as a sorted export) are coded by their runs, without hashing a string;
    other orders through polars' categorical codes."""
    n = len(vehicle)
    if n == 0:
        return np.zeros(0, np.int32), []
    if vehicle.dtype == pl.Utf8 and not vehicle.null_count() and int(vehicle.head(1000).rle_id().max()) < 100:
        runs = vehicle.rle_id().to_numpy()
        if int(runs[-1]) < n // 4:  # grouped: few runs
            starts = np.flatnonzero(np.r_[True, runs[1:] != runs[:-1]])
            plates = vehicle.gather(starts).to_list()
            if _sorted(plates):
                return runs.astype(np.int32), plates
    physical = (vehicle if isinstance(vehicle.dtype, (pl.Enum, pl.Categorical)) else vehicle.cast(pl.Categorical)).to_physical()
    null = np.iinfo(np.uint32).max
    codes, rows = kernels.first_seen(physical.fill_null(null).to_numpy().astype(np.uint32, copy=False), null)
    plates = vehicle.gather(rows).cast(pl.Utf8).to_list()
    order = sorted(range(len(plates)), key=plates.__getitem__)
    rank = np.empty(len(plates), np.int32)
    rank[order] = np.arange(len(plates), dtype=np.int32)
    return kernels.renumber(codes, rank), [plates[k] for k in order]


def points_of(points: pl.DataFrame, workers: int = 1) -> Points:
    """The valid fixes of a conformed frame as arrays: a plate, a time and a position within the
    world and not (0, 0), JT/T 808 status bit 1 (positioned) where a status is given. Plates as
    categorical codes (a Parquet read): straight into (vehicle, input) order (`_coded_points`)."""
    if isinstance(points.schema["vehicle"], pl.Categorical) and points.height:
        return _coded_points(points, workers)
    n = points.height
    time = points["time"]  # conformed: Datetime("us"), its integers are epoch microseconds (no copy)
    time = time.to_physical() if time.dtype == pl.Datetime("us", "UTC") else time.dt.epoch("us")
    lat = points["lat"].to_numpy().astype(np.float64, copy=False)  # nulls arrive as NaN
    lon = points["lon"].to_numpy().astype(np.float64, copy=False)
    status = points["status"] if "status" in points.columns else None
    has_status = status is not None and status.null_count() < n
    status_arr = status.fill_null(2).to_numpy().astype(np.uint32, copy=False) if has_status else np.zeros(0, np.uint32)
    vid, names = vehicle_codes(points["vehicle"])
    valid = kernels.valid_fixes(lat, lon, status_arr, vid)
    if time.null_count():
        valid &= time.is_not_null().to_numpy()
    t_us = time.fill_null(0).to_numpy()
    reported = points["speed_kmh"].to_numpy().astype(np.float64, copy=False)  # nulls arrive as NaN
    kept = int(np.count_nonzero(valid))
    if kept < n:
        vid, t_us, lat, lon, reported = vid[valid], t_us[valid], lat[valid], lon[valid], reported[valid]
    present = np.zeros(len(names), bool)
    present[vid] = True
    if not present.all():  # plates whose every fix is invalid: not in the track
        vid = (np.cumsum(present, dtype=np.int32) - 1)[vid]
        names = [name for name, p in zip(names, present) if p]
    return Points(names, vid, t_us, lat, lon, reported, n)


_NO_PLATE = np.iinfo(np.uint32).max


def _chunks(series: pl.Series, fill=None) -> list[np.ndarray]:
    """A column's chunks as numpy arrays, without a copy where a chunk has no nulls (`fill`:
    the value for nulls; None: floats, nulls as NaN)."""
    out = []
    for chunk in series.get_chunks():
        if fill is not None and chunk.null_count():
            chunk = chunk.fill_null(fill)
        out.append(chunk.to_numpy())
    return out


def _coded_points(points: pl.DataFrame, workers: int = 1) -> Points:
    """Points of a frame whose plates are categorical codes, in (vehicle, input) order, read
    from the frame's chunks where they lie (no contiguous copy of a column first): one pass
    counts each plate's valid fixes, a second writes each to its vehicle's next slot (on two
    threads with `workers` > 1, each taking half of the vehicles). For rows in time order
    across vehicles, as platforms export them, that is (vehicle, time) order in one
    sequential read of the input."""
    n = points.height
    has_status = points.get_column("status").null_count() < n
    used = ("vehicle", "time", "lat", "lon", "speed_kmh") + (("status",) if has_status else ())
    if len({tuple(len(c) for c in points.get_column(name).get_chunks()) for name in used}) > 1:
        points = points.rechunk()  # columns chunked differently: aligned first
    vehicle = points.get_column("vehicle").to_physical()
    codes = _chunks(vehicle, _NO_PLATE)
    time = points.get_column("time")
    t_us = _chunks(time.to_physical(), 0)
    timed = [c.is_not_null().to_numpy() if c.null_count() else np.zeros(0, bool) for c in time.get_chunks()]
    lat, lon, reported = (_chunks(points.get_column(c)) for c in ("lat", "lon", "speed_kmh"))
    statuses = (_chunks(points.get_column("status"), 2) if has_status else [np.zeros(0, np.uint32)] * len(codes))
    top = max((int(c[c != _NO_PLATE].max(initial=0)) for c in codes), default=0) + 1
    counts, first_row = np.zeros(top, np.int64), np.full(top, -1, np.int64)
    valid = [np.empty(len(c), np.bool_) for c in codes]
    offset = 0
    for k, c in enumerate(codes):
        kernels.count_fixes(c, _NO_PLATE, lat[k], lon[k], statuses[k], timed[k], valid[k], counts, first_row, offset)
        offset += len(c)
    present = np.flatnonzero(counts)
    names = points.get_column("vehicle").gather(first_row[present]).cast(pl.Utf8).to_list()
    order = sorted(range(len(names)), key=names.__getitem__)
    table = np.full(top, -1, np.int32)
    table[present[order]] = np.arange(len(order), dtype=np.int32)
    names = [names[k] for k in order]
    counts = counts[present[order]]
    m, nv = int(counts.sum()), len(names)
    out = (np.empty(m, np.int64), np.empty(m), np.empty(m), np.empty(m))
    pos = np.r_[0, np.cumsum(counts)[:-1]].astype(np.int64)
    last_t = np.full(nv, np.iinfo(np.int64).min, np.int64)

    def scatter(v0: int, v1: int) -> bool:
        in_time = [kernels.scatter_fixes(table, v0, v1, c, valid[k], t_us[k], lat[k], lon[k], reported[k], pos, last_t, *out)
                   for k, c in enumerate(codes)]
        return all(in_time)

    if workers > 1 and nv > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(2) as pool:  # the passes release the GIL; the halves write apart
            # every result taken before all(): a short-circuited map would cancel a half not yet started
            in_time = all(list(pool.map(lambda bounds: scatter(*bounds), ((0, nv // 2), (nv // 2, nv)))))
    else:
        in_time = scatter(0, nv)
    vid = np.repeat(np.arange(nv, dtype=np.int32), counts)
    return Points(names, vid, *out, n, firsts=np.r_[0, np.cumsum(counts)] if in_time else None)


def vehicle_order(points: Points) -> np.ndarray | None:
    """The permutation that sorts the points by (vehicle, time), stable; None when they already
    are (checked in one pass)."""
    already, _ = kernels.by_vehicle(points.vid, points.t_us, len(points.names))
    return None if already else np.lexsort((points.t_us, points.vid))


def clean(points: pl.DataFrame, rules: TrajectoryRules) -> Track:
    """Every vehicle of a conformed frame as one Track."""
    found = points_of(points)
    order = vehicle_order(found)
    if order is not None:
        found = Points(found.names, found.vid[order], found.t_us[order], found.lat[order], found.lon[order],
                       found.reported[order], found.points_in)
    return clean_sorted(found, rules)


def clean_sorted(points: Points, rules: TrajectoryRules) -> Track:
    """Points sorted by (vehicle, time): duplicates, equal timestamps and GPS jumps dropped,
    speeds derived. `points.points_in - len(points)` invalid fixes were dropped before."""
    cfg = rules.section("cleaning")
    report = CleaningReport(points_in=points.points_in)
    dropped = report.dropped
    dropped["invalid_fix"] = points.points_in - len(points)
    vid, t, lat, lon, reported = points.vid, points.t_us, points.lat, points.lon, points.reported
    bound = float(cfg["max_speed_kmh"]) / 3.6
    source = cfg["speed_source"]
    code = {"reported": 0, "derived": 1, "max": 2}[source]
    t_us = t
    t, first, seg_m, seg_s, speed, local_s, n_same, n_spikes, n_reported = kernels.prepare(vid, t_us, lat, lon, reported, bound, code)
    dropped["duplicate"] = dropped["same_time"] = dropped["jump"] = 0
    if n_same or n_spikes:
        vid, t, t_us, lat, lon, reported, first, seg_m, seg_s = _drop_equal_times_and_jumps(vid, t_us, lat, lon, reported, bound, dropped)
        speed, local_s = kernels.speeds(first, seg_m, seg_s, reported, t, code)
        n_reported = int(np.count_nonzero(~np.isnan(reported)))
    report.reported_share = n_reported / len(t) if len(t) else 0.0
    report.speed_source = ("derived" if source == "derived" or not n_reported
                           else source if n_reported == len(t) else f"{source}+derived")
    report.points_out = len(t)
    return Track(vehicles=points.names, vid=vid, t=t, lat=lat, lon=lon, speed=speed, seg_m=seg_m, seg_s=seg_s,
                 first=first, report=report, local_s=local_s, t_us=t_us)


def _drop_equal_times_and_jumps(vid, t, lat, lon, reported, bound: float, dropped: dict):
    """Equal timestamps (ordered by position whatever the input order, the first of each kept;
    exact duplicates counted apart) and GPS jumps — a point reached and left at an impossible
    speed is a spike, not a drive — dropped; (vid, t, t_us, lat, lon, reported, first, seg_m, seg_s)."""
    same, n_same, n_exact = kernels.same_times(vid, t, lat, lon)
    if n_same:
        o = np.lexsort((lon, lat, t, vid))
        vid, t, lat, lon, reported = vid[o], t[o], lat[o], lon[o], reported[o]
        same, n_same, n_exact = kernels.same_times(vid, t, lat, lon)
        keep = ~same
        vid, t, lat, lon, reported = vid[keep], t[keep], lat[keep], lon[keep], reported[keep]
    dropped["duplicate"] = n_exact
    dropped["same_time"] = n_same - n_exact
    t_us = t
    t = t_us / 1e6
    jumps = 0
    first, seg_m, seg_s = kernels.neighbours(vid, t, lat, lon)
    for _ in range(3):
        spike = kernels.spikes(first, seg_m, seg_s, bound)
        if not spike.any():
            break
        keep = ~spike
        jumps += int(spike.sum())
        vid, t, t_us, lat, lon, reported = vid[keep], t[keep], t_us[keep], lat[keep], lon[keep], reported[keep]
        first, seg_m, seg_s = kernels.neighbours(vid, t, lat, lon)
    dropped["jump"] = jumps
    return vid, t, t_us, lat, lon, reported, first, seg_m, seg_s
