"""Hand-built trajectories for boundary tests: segments of (seconds, km/h) sampled every
`step` seconds along a straight line, with positions consistent with the speeds."""
from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from rules.trajectory.geo import offset

LOCAL = dt.timezone(dt.timedelta(hours=8))


def local(y, m, d, hh, mm=0, ss=0) -> dt.datetime:
    return dt.datetime(y, m, d, hh, mm, ss, tzinfo=LOCAL)


def track(start: dt.datetime, segments: list[tuple[float, float]], *, step: float = 30.0, vehicle: str = "浙A00001",
          lat0: float = 30.0, lon0: float = 120.0) -> pl.DataFrame:
    """Points at start, start+step, ...; segment (duration_s, speed_kmh) sets the speed of the
    points inside it; the last point of the whole track closes the final segment."""
    times, speeds = [], []
    t = 0.0
    for duration, speed in segments:
        k = int(round(duration / step))
        times.extend(t + step * np.arange(k))
        speeds.extend([speed] * k)
        t += duration
    times.append(t)
    speeds.append(segments[-1][1])
    times, speeds = np.array(times), np.array(speeds)
    # distance travelled in each interval at the mean of its end speeds
    step_m = np.concatenate([[0.0], (speeds[1:] + speeds[:-1]) / 2 / 3.6 * np.diff(times)])
    lat, lon = offset(lat0, lon0, np.cumsum(step_m), np.zeros(len(times)))
    stamps = [start + dt.timedelta(seconds=float(x)) for x in times]
    return pl.DataFrame({"vehicle": vehicle, "time": stamps, "lat": lat, "lon": lon, "speed_kmh": speeds}).with_columns(
        pl.col("time").dt.convert_time_zone("UTC").dt.cast_time_unit("us"))
