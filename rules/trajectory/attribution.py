"""Who was driving: findings get the driver whose assignment (排班/签到) covers them (the fatigue
rules count per driver, see detectors). Moving without any assignment is itself reported
("driver unknown")."""
from __future__ import annotations

import numpy as np
import polars as pl

from rules.trajectory.clean import Track
from rules.trajectory.episodes import breach_after, runs

ASSIGNMENT_SCHEMA = {"vehicle": pl.Utf8, "driver": pl.Utf8, "start": pl.Datetime("us", "UTC"), "end": pl.Datetime("us", "UTC")}


def normalise(assignments: pl.DataFrame | None, naive_tz: str = "Asia/Shanghai") -> pl.DataFrame | None:
    """Assignments with aware UTC times. Text and times without an offset are Beijing time (the
    one convention of every reader); text with an offset or a Z keeps it."""
    if assignments is None:
        return None
    from rules.trajectory.readers import parse_times

    frame = assignments.with_columns([parse_times(assignments[col], naive_tz).alias(col) for col in ("start", "end")])
    return frame.select([pl.col(k).cast(v) for k, v in ASSIGNMENT_SCHEMA.items()])


class Drivers:
    """The roster: per vehicle, (start, end, driver) in the order given (a later sign-in wins)."""

    def __init__(self, assignments: pl.DataFrame | None):
        self.table: dict[str, list[tuple[float, float, int]]] = {}
        self.names: list[str] = []
        if assignments is None:
            return
        codes: dict[str, int] = {}
        for vehicle, driver, start, end in normalise(assignments).iter_rows():
            if start is None:
                continue
            code = codes.setdefault(driver, len(codes))
            self.table.setdefault(vehicle, []).append((start.timestamp(), end.timestamp() if end else float("inf"), code))
        self.names = list(codes)

    @property
    def known(self) -> bool:
        return bool(self.table)

    def codes(self, track: Track) -> np.ndarray:
        """The driver on duty at each point (index into `names`), -1 where no assignment covers it."""
        out = np.full(len(track), -1, np.int32)
        if not self.table or not len(track):
            return out
        firsts = np.flatnonzero(track.first)
        bounds = np.r_[firsts, len(track)]
        for k, name in enumerate(track.vehicles):  # per vehicle and roster row, not per point
            rows = self.table.get(name)
            if not rows:
                continue
            a, b = bounds[k], bounds[k + 1]
            t = track.t[a:b]
            for start, end, code in rows:
                lo, hi = np.searchsorted(t, [start, end], side="left")
                out[a + lo:a + hi] = code
        return out


def unknown_driver(track: Track, on_duty: np.ndarray, moving: np.ndarray, min_s: float, max_gap_s: float) -> list[dict]:
    """Stretches of moving with no assignment covering them (only judged where a roster exists)."""
    if not len(track):
        return []
    mask = moving & (on_duty < 0)
    starts, ends = runs(mask, track.first | (track.seg_s > max_gap_s))
    out = []
    for s, e in zip(starts, ends):
        d = track.t[e] - track.t[s]
        if d >= min_s:
            out.append({"rule": "driver_unknown", "regulation": "道路运输车辆动态监督管理办法(驾驶员身份识别)", "s": int(s), "e": int(e),
                        "breach_t": breach_after(track.t, s, e, min_s),
                        "duration_s": float(d), "distance_m": float(track.seg_m[s + 1:e + 1].sum())})
    return out
