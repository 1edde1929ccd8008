"""SIMULATED vehicle-days for tests, benchmarks, the demo and the platform simulator:
30 s reports, trips with rests, GPS noise, optional planted violations. Deterministic from
(seed, vehicle, day); vectorised with numpy.

Plants: overspeed, night_overspeed (passenger classes), fatigue_continuous, early_morning
(coaches), signal_gap. A normal day drives 7 h in three blocks with 40-60 min rests, at about
70% of the class limit: it breaks no rule.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import polars as pl

from rules.trajectory.config import TrajectoryRules, load
from rules.trajectory.geo import offset

LOCAL = dt.timezone(dt.timedelta(hours=8))
PLANTS = ("overspeed", "night_overspeed", "fatigue_continuous", "early_morning", "signal_gap")


@dataclass(frozen=True)
class Planted:
    rule: str
    start: dt.datetime  # UTC
    end: dt.datetime


def _rng(seed: int, vehicle: str, day: dt.date) -> np.random.Generator:
    digest = hashlib.sha256(f"{seed}|{vehicle}|{day}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "big"))


def _schedule(day: dt.date, plant: Sequence[str], shift_min: int) -> list[tuple[str, float, float, float]]:
    """(kind, start local seconds, end local seconds, speed factor of the limit)."""
    h = 3600.0
    s = shift_min * 60.0
    blocks = [("drive", 7 * h + s, 10 * h + s, 0.7), ("stop", 10 * h + s, 10.67 * h + s, 0.0),
              ("drive", 10.67 * h + s, 12.67 * h + s, 0.7), ("stop", 12.67 * h + s, 13.67 * h + s, 0.0),
              ("drive", 13.67 * h + s, 15.67 * h + s, 0.7)]
    if "fatigue_continuous" in plant:  # no rest between the first two blocks: 4 h 40 min at the wheel
        blocks = [("drive", 7 * h + s, 11.67 * h + s, 0.7), ("stop", 11.67 * h + s, 12.67 * h + s, 0.0),
                  ("drive", 12.67 * h + s, 14.67 * h + s, 0.7)]
    if "overspeed" in plant:  # 3 minutes at 130% of the limit inside the first drive
        start, end = blocks[0][1], blocks[0][2]
        mid = (start + end) / 2
        blocks = [("drive", start, mid, 0.7), ("drive", mid, mid + 180, 1.3), ("drive", mid + 180, end, 0.7)] + blocks[1:]
    if "signal_gap" in plant:  # 20 minutes without positions while driving in the last block
        kind, start, end, f = blocks[-1]
        blocks = blocks[:-1] + [("drive", start, start + 1800, f), ("gap", start + 1800, start + 3000, f),
                                ("drive", start + 3000, end, f)]
    if "night_overspeed" in plant:  # 22:10-22:40 at 90% of the day limit (night limit is 80%)
        blocks.append(("drive", 22.17 * h, 22.67 * h, 0.9))
    if "early_morning" in plant:
        blocks.insert(0, ("drive", 2.5 * h, 3.17 * h, 0.7))
    return blocks


def simulated_vehicle_day(seed: int, vehicle: str, day: dt.date, vehicle_class: str,
                          plant: Sequence[str] = (), rules: TrajectoryRules | None = None,
                          interval_s: float = 30.0) -> tuple[pl.DataFrame, list[Planted]]:
    """Positions of one SIMULATED vehicle-day (columnar form) and the violations planted in it."""
    frame, planted, _ = simulated_vehicle_days(seed, [(vehicle, day, vehicle_class, plant)], rules=rules, interval_s=interval_s)
    return frame, planted[0]


def simulated_vehicle_days(seed: int, items: Sequence[tuple[str, dt.date, str, Sequence[str]]],
                           rules: TrajectoryRules | None = None,
                           interval_s: float = 30.0) -> tuple[pl.DataFrame, list[list[Planted]], np.ndarray]:
    """Many SIMULATED vehicle-days at once: items are (vehicle, day, vehicle class, plants).
    Returns one frame with every item's positions in item order, each item's violations, and
    the row bounds (item i is rows bounds[i]:bounds[i + 1]). Each item's rows are exactly what it
    would be alone: the random draws come from the item's own generator, in the same order, and
    running sums restart at every item; the rest is elementwise on all items at once."""
    for item in items:
        unknown = set(item[3]) - set(PLANTS)
        if unknown:
            raise ValueError(f"unknown plants: {sorted(unknown)}")
    rules = rules or load()
    # per item: its draws, in the order the generator gives them
    times, limits, factors, noise, stops, visible = [], [], [], [], [], []
    heading_noise, heading0, lat0, lon0, north_noise, east_noise, midnights, planted, lengths = [], [], [], [], [], [], [], [], []
    for vehicle, day, vehicle_class, plant in items:
        limit = rules.limit_kmh(vehicle_class)
        rng = _rng(seed, vehicle, day)
        midnight = dt.datetime.combine(day, dt.time(), tzinfo=LOCAL).timestamp()
        blocks = _schedule(day, plant, int(rng.integers(-30, 31)))
        ts, vs, fs, ks, ss = [], [], [], [], []
        for kind, start, end, factor in blocks:
            t = np.arange(start, end, interval_s)
            ts.append(t)
            fs.append(np.full(len(t), factor))
            ks.append(np.full(len(t), kind == "stop"))
            vs.append(np.zeros(len(t)) if kind == "stop" else rng.normal(0, 1.5, len(t)))
            ss.append(np.full(len(t), kind != "gap"))
        t = np.concatenate(ts)
        order = np.argsort(t, kind="stable")
        n = len(t)
        times.append(t[order])
        factors.append(np.concatenate(fs)[order])
        stops.append(np.concatenate(ks)[order])
        noise.append(np.concatenate(vs)[order])
        visible.append(np.concatenate(ss)[order])
        limits.append(np.full(n, limit))
        heading_noise.append(rng.normal(0, 4, n))
        heading0.append(rng.uniform(0, 360))
        lat0.append(30.25 + rng.uniform(-0.2, 0.2))
        lon0.append(120.15 + rng.uniform(-0.2, 0.2))
        north_noise.append(rng.normal(0, 3, n))
        east_noise.append(rng.normal(0, 3, n))
        midnights.append(midnight)
        planted.append([Planted(name, *_planted_span(name, blocks, midnight)) for name in plant])
        lengths.append(n)
    bounds = np.r_[0, np.cumsum(lengths)].astype(np.int64)
    if not items:
        times = factors = stops = noise = visible = limits = heading_noise = north_noise = east_noise = [np.zeros(0)]
    t = np.concatenate(times)
    first = np.zeros(len(t), dtype=bool)
    first[bounds[:-1][np.asarray(lengths, dtype=np.int64) > 0]] = True

    def each(values: np.ndarray) -> np.ndarray:  # a running sum restarting at every item
        out = np.empty_like(values)
        for a, b in zip(bounds[:-1], bounds[1:]):
            np.cumsum(values[a:b], out=out[a:b])
        return out

    def per_row(values: list) -> np.ndarray:
        return np.repeat(np.asarray(values, dtype=np.float64), lengths)

    stop = np.concatenate(stops).astype(bool)
    v = np.where(stop, 0.0, np.clip(np.concatenate(limits) * np.concatenate(factors) + np.concatenate(noise), 5, None))
    dt_s = np.diff(t, prepend=t[:1])
    dt_s[first] = 0.0
    dt_s[dt_s > 3 * interval_s] = 0  # no travel across breaks between blocks
    heading = each(np.concatenate(heading_noise)) + per_row(heading0)
    step = v / 3.6 * dt_s
    north = each(step * np.cos(np.radians(heading)))
    east = each(step * np.sin(np.radians(heading)))
    lat, lon = offset(per_row(lat0), per_row(lon0), north + np.concatenate(north_noise), east + np.concatenate(east_noise))
    show = np.concatenate(visible).astype(bool)
    utc = (per_row(midnights) + t)[show]
    shown = np.add.reduceat(show.astype(np.int64), bounds[:-1]) if len(t) else np.zeros(len(items), dtype=np.int64)
    shown[np.asarray(lengths, dtype=np.int64) == 0] = 0
    vehicles = np.repeat(np.asarray([item[0] for item in items], dtype=object), shown) if items else np.zeros(0, dtype=object)
    frame = pl.DataFrame({
        "vehicle": pl.Series(vehicles, dtype=pl.String),
        "time": pl.Series((utc * 1e6).astype(np.int64)).cast(pl.Datetime("us")).dt.replace_time_zone("UTC"),
        "lat": lat[show], "lon": lon[show], "speed_kmh": np.round(v[show], 1), "heading": np.mod(heading[show], 360),
        "status": np.full(int(show.sum()), 3, dtype=np.uint32), "alarm": np.zeros(int(show.sum()), dtype=np.uint32),
    })
    return frame, planted, np.r_[0, np.cumsum(shown)].astype(np.int64)


def _planted_span(name: str, blocks, midnight: float) -> tuple[dt.datetime, dt.datetime]:
    def utc(x: float) -> dt.datetime:
        return dt.datetime.fromtimestamp(midnight + x, tz=dt.timezone.utc)

    if name == "overspeed":
        b = next(b for b in blocks if b[3] == 1.3)
    elif name == "night_overspeed":
        b = next(b for b in blocks if b[3] == 0.9)
    elif name == "signal_gap":
        b = next(b for b in blocks if b[0] == "gap")
    elif name == "early_morning":
        b = blocks[0]
    else:
        b = blocks[0]
    return utc(b[1]), utc(b[2])
