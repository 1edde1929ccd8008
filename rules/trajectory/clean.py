"""Cleaning positions into arrays the detectors trust: invalid and zero fixes, duplicates,
equal timestamps and GPS jumps are dropped (and counted); speed is derived where it was not
reported. Vectorised over all points of all vehicles at once."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from rules.trajectory.config import TrajectoryRules
from rules.trajectory.geo import haversine_m


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
    rests: list[tuple[int, int]] = field(default_factory=list)  # (from, to) point indices, set by the fatigue rules

    def __len__(self) -> int:
        return len(self.t)


def _neighbours(vid, t, lat, lon):
    n = len(t)
    first = np.ones(n, dtype=bool)
    first[1:] = vid[1:] != vid[:-1]
    seg_m = np.zeros(n)
    seg_s = np.zeros(n)
    if n > 1:
        seg_m[1:] = haversine_m(lat[:-1], lon[:-1], lat[1:], lon[1:])
        seg_s[1:] = t[1:] - t[:-1]
    seg_m[first] = 0.0
    seg_s[first] = 0.0
    return first, seg_m, seg_s


def clean(points: pl.DataFrame, rules: TrajectoryRules) -> Track:
    cfg = rules.section("cleaning")
    report = CleaningReport(points_in=points.height)
    dropped = report.dropped
    status = pl.col("status")
    valid = (pl.col("time").is_not_null() & pl.col("lat").is_not_null() & pl.col("lon").is_not_null()
             & pl.col("lat").is_finite() & pl.col("lon").is_finite()
             & (pl.col("lat").abs() <= 90) & (pl.col("lon").abs() <= 180)
             & ~((pl.col("lat") == 0) & (pl.col("lon") == 0))
             & (status.is_null() | ((status & 2) != 0)))  # JT/T 808 status bit 1: positioned
    frame = points.filter(valid.fill_null(False))
    dropped["invalid_fix"] = points.height - frame.height
    frame = frame.sort("vehicle", "time", "lat", "lon", maintain_order=True)
    before = frame.height
    frame = frame.unique(["vehicle", "time", "lat", "lon"], keep="first", maintain_order=True)
    dropped["duplicate"] = before - frame.height
    before = frame.height
    frame = frame.unique(["vehicle", "time"], keep="first", maintain_order=True)
    dropped["same_time"] = before - frame.height

    names = frame["vehicle"].unique(maintain_order=True).to_list()
    vid = frame["vehicle"].cast(pl.Enum(names)).to_physical().to_numpy().astype(np.int32) if names else np.zeros(0, np.int32)
    t = frame["time"].dt.epoch("us").to_numpy().astype(np.float64) / 1e6
    lat = frame["lat"].to_numpy().astype(np.float64)
    lon = frame["lon"].to_numpy().astype(np.float64)
    reported = frame["speed_kmh"].fill_null(np.nan).to_numpy().astype(np.float64)

    # GPS jumps: a point reached and left at an impossible speed is a spike, not a drive.
    bound = float(cfg["max_speed_kmh"]) / 3.6
    jumps = 0
    for _ in range(3):
        first, seg_m, seg_s = _neighbours(vid, t, lat, lon)
        v_in = np.where(seg_s > 0, seg_m / np.maximum(seg_s, 1e-9), 0.0)
        v_out = np.empty_like(v_in)
        v_out[:-1] = v_in[1:]
        v_out[-1:] = 0.0
        last = np.empty_like(first)
        last[:-1] = first[1:]
        last[-1:] = True
        v_out[last] = 0.0
        spike = (v_in > bound) & (v_out > bound)
        if not spike.any():
            break
        keep = ~spike
        jumps += int(spike.sum())
        vid, t, lat, lon, reported = vid[keep], t[keep], lat[keep], lon[keep], reported[keep]
    dropped["jump"] = jumps
    first, seg_m, seg_s = _neighbours(vid, t, lat, lon)

    # derived speed at a point: the mean of the segment speeds into and out of it
    seg_v = np.where(seg_s > 0, seg_m / np.maximum(seg_s, 1e-9) * 3.6, 0.0)
    v_in = np.where(first, np.nan, seg_v)
    v_out = np.full_like(seg_v, np.nan)
    v_out[:-1] = np.where(first[1:], np.nan, seg_v[1:])
    count = (~np.isnan(v_in)).astype(np.float64) + (~np.isnan(v_out))
    derived = np.where(count > 0, (np.nan_to_num(v_in) + np.nan_to_num(v_out)) / np.maximum(count, 1), 0.0)
    has_reported = ~np.isnan(reported)
    source = cfg["speed_source"]
    if source == "derived":
        speed = derived
    elif source == "max":
        speed = np.where(has_reported, np.maximum(reported, derived), derived)
    else:
        speed = np.where(has_reported, reported, derived)
    report.reported_share = float(has_reported.mean()) if len(t) else 0.0
    report.speed_source = ("derived" if source == "derived" or not has_reported.any()
                           else source if has_reported.all() else f"{source}+derived")
    report.points_out = len(t)
    return Track(vehicles=names, vid=vid, t=t, lat=lat, lon=lon, speed=speed, seg_m=seg_m, seg_s=seg_s,
                 first=first, report=report)
