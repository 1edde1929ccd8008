"""Who was driving: findings get the driver whose assignment (排班/签到) covers their start.
Moving without any assignment is itself reported ("driver unknown")."""
from __future__ import annotations

import numpy as np
import polars as pl

from rules.trajectory.clean import Track
from rules.trajectory.episodes import breach_after, runs

ASSIGNMENT_SCHEMA = {"vehicle": pl.Utf8, "driver": pl.Utf8, "start": pl.Datetime("us", "UTC"), "end": pl.Datetime("us", "UTC")}


def normalise(assignments: pl.DataFrame | None) -> pl.DataFrame | None:
    if assignments is None:
        return None
    frame = assignments
    for col in ("start", "end"):
        if frame.schema[col] == pl.Utf8:
            frame = frame.with_columns(pl.col(col).str.to_datetime(time_unit="us", time_zone="UTC", strict=False))
        elif getattr(frame.schema[col], "time_zone", None) is None:
            frame = frame.with_columns(pl.col(col).dt.replace_time_zone("Asia/Shanghai").dt.convert_time_zone("UTC"))
    return frame.select([pl.col(k).cast(v) for k, v in ASSIGNMENT_SCHEMA.items()])


class Drivers:
    def __init__(self, assignments: pl.DataFrame | None):
        self.table: dict[str, list[tuple[float, float, str]]] = {}
        if assignments is None:
            return
        for row in normalise(assignments).iter_rows(named=True):
            end = row["end"].timestamp() if row["end"] else float("inf")
            self.table.setdefault(row["vehicle"], []).append((row["start"].timestamp(), end, row["driver"]))

    @property
    def known(self) -> bool:
        return bool(self.table)

    def at(self, vehicle: str, t: float) -> str | None:
        covering = [d for s, e, d in self.table.get(vehicle, ()) if s <= t < e]
        return covering[-1] if covering else None  # the latest sign-in wins

    def covered(self, track: Track) -> np.ndarray:
        out = np.zeros(len(track), bool)
        for code, name in enumerate(track.vehicles):
            rows = self.table.get(name, ())
            sel = track.vid == code
            t = track.t[sel]
            hit = np.zeros(len(t), bool)
            for s, e, _ in rows:
                hit |= (t >= s) & (t < e)
            out[sel] = hit
        return out


def unknown_driver(track: Track, drivers: Drivers, moving_kmh: float, min_s: float, max_gap_s: float) -> list[dict]:
    """Stretches of moving with no assignment covering them."""
    if not drivers.known or not len(track):
        return []
    mask = (track.speed > moving_kmh) & ~drivers.covered(track)
    starts, ends = runs(mask, track.first | (track.seg_s > max_gap_s))
    out = []
    for s, e in zip(starts, ends):
        d = track.t[e] - track.t[s]
        if d >= min_s:
            out.append({"rule": "driver_unknown", "regulation": "道路运输车辆动态监督管理办法(驾驶员身份识别)", "s": int(s), "e": int(e),
                        "breach_t": breach_after(track.t, s, e, min_s),
                        "duration_s": float(d), "distance_m": float(track.seg_m[s + 1:e + 1].sum())})
    return out
