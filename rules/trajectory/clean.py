"""Cleaning positions into arrays the detectors trust: invalid and zero fixes, duplicates,
equal timestamps and GPS jumps are dropped (and counted); speed is derived where it was not
reported. Vectorised over all points of all vehicles at once."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from rules.trajectory import kernels
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


def vehicle_order(vehicle: pl.Series, t: np.ndarray) -> tuple[np.ndarray, list[str], np.ndarray | None]:
    """Vehicle codes in plate order (int32 per point), the plates, and the permutation that sorts
    the points by (vehicle, time) — None when they already are. Strings are hashed once; the
    sort is on one int64 key (vehicle << 42 | microseconds), far cheaper than sorting strings."""
    n = len(t)
    if n == 0:
        return np.zeros(0, np.int32), [], None
    enum = isinstance(vehicle.dtype, pl.Enum)  # plates already coded (a part of a larger scan)
    codes = (vehicle if enum else vehicle.cast(pl.Categorical)).to_physical().to_numpy()
    present = np.zeros(int(codes.max()) + 1, bool)
    present[codes] = True
    dense = (np.cumsum(present) - 1).astype(np.int32)[codes]
    if enum and _sorted(categories := vehicle.dtype.categories.to_list()):
        names = [categories[i] for i in np.flatnonzero(present)]
        vid = dense
    else:
        first_row = np.empty(int(dense.max()) + 1, np.int64)
        first_row[dense[::-1]] = np.arange(n - 1, -1, -1)  # a row of each vehicle (the first: last write wins)
        plates = vehicle.gather(first_row).cast(pl.Utf8).to_list()
        rank = np.empty(len(plates), np.int32)
        rank[np.argsort(np.array(plates, dtype=object), kind="stable")] = np.arange(len(plates), dtype=np.int32)
        vid = rank[dense]
        names = sorted(plates)
    span = int(t.max() - t.min())
    key = (vid.astype(np.int64) << 42) + (t - t.min()) if span < 1 << 42 else None  # 50 days of microseconds
    if key is not None and (key[1:] > key[:-1]).all():
        return vid, names, None
    order = np.argsort(key, kind="stable") if key is not None else np.lexsort((t, vid))
    return vid, names, order


def clean(points: pl.DataFrame, rules: TrajectoryRules) -> Track:
    cfg = rules.section("cleaning")
    report = CleaningReport(points_in=points.height)
    dropped = report.dropped
    status = pl.col("status")
    valid = (pl.col("vehicle").is_not_null() & pl.col("time").is_not_null() & pl.col("lat").is_not_null() & pl.col("lon").is_not_null()
             & pl.col("lat").is_finite() & pl.col("lon").is_finite()
             & (pl.col("lat").abs() <= 90) & (pl.col("lon").abs() <= 180)
             & ~((pl.col("lat") == 0) & (pl.col("lon") == 0))
             & (status.is_null() | ((status & 2) != 0)))  # JT/T 808 status bit 1: positioned
    frame = points.filter(valid.fill_null(False))
    dropped["invalid_fix"] = points.height - frame.height
    t = frame["time"].dt.epoch("us").to_numpy()
    vid, names, order = vehicle_order(frame["vehicle"], t)
    lat = frame["lat"].to_numpy().astype(np.float64, copy=False)
    lon = frame["lon"].to_numpy().astype(np.float64, copy=False)
    reported = frame["speed_kmh"].fill_null(np.nan).to_numpy().astype(np.float64, copy=False)
    if order is not None:  # one sort (on integers); duplicates and equal timestamps are then neighbours
        vid, t, lat, lon, reported = vid[order], t[order], lat[order], lon[order], reported[order]
        if ((t[1:] == t[:-1]) & (vid[1:] == vid[:-1])).any():  # equal times: by position, whatever the input order
            o = np.lexsort((lon, lat, t, vid))
            vid, t, lat, lon, reported = vid[o], t[o], lat[o], lon[o], reported[o]
    same_time = np.zeros(len(t), bool)
    same_time[1:] = (vid[1:] == vid[:-1]) & (t[1:] == t[:-1])
    exact = np.zeros(len(t), bool)
    exact[1:] = same_time[1:] & (lat[1:] == lat[:-1]) & (lon[1:] == lon[:-1])
    dropped["duplicate"] = int(exact.sum())
    dropped["same_time"] = int(same_time.sum() - exact.sum())
    if same_time.any():
        keep = ~same_time
        vid, t, lat, lon, reported = vid[keep], t[keep], lat[keep], lon[keep], reported[keep]
    t_us = t
    t = t_us / 1e6

    # GPS jumps: a point reached and left at an impossible speed is a spike, not a drive.
    bound = float(cfg["max_speed_kmh"]) / 3.6
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

    source = cfg["speed_source"]
    speed, local_s = kernels.speeds(first, seg_m, seg_s, reported, t, {"reported": 0, "derived": 1, "max": 2}[source])
    has_reported = ~np.isnan(reported)
    report.reported_share = float(has_reported.mean()) if len(t) else 0.0
    report.speed_source = ("derived" if source == "derived" or not has_reported.any()
                           else source if has_reported.all() else f"{source}+derived")
    report.points_out = len(t)
    return Track(vehicles=names, vid=vid, t=t, lat=lat, lon=lon, speed=speed, seg_m=seg_m, seg_s=seg_s,
                 first=first, report=report, local_s=local_s, t_us=t_us)
