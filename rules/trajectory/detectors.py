"""The trajectory rules, vectorised over every point of every vehicle in a Track.

Each detector returns a list of raw episodes (dicts of array indices and figures); the engine
turns them into Findings with drivers and evidence. Time of day is local (UTC+8).
"""
from __future__ import annotations

import numpy as np

from rules.trajectory.compiled import kernels
from rules.trajectory.clean import Track
from rules.trajectory.config import TrajectoryRules
from rules.trajectory.episodes import breach_after, runs

DAY = 86400.0


def in_window(seconds: np.ndarray, start: int, end: int) -> np.ndarray:
    return (seconds >= start) & (seconds < end) if start < end else (seconds >= start) | (seconds < end)


def per_vehicle_span(track: Track) -> np.ndarray:
    """Seconds from each vehicle's first to last fix, indexed by vehicle code (points are sorted)."""
    firsts = np.flatnonzero(track.first)
    lasts = np.r_[firsts[1:] - 1, len(track) - 1]
    span = np.zeros(len(track.vehicles))
    span[track.vid[firsts]] = track.t[lasts] - track.t[firsts]
    return span


def overspeed(track: Track, classes: np.ndarray, rules: TrajectoryRules, zone_limit: np.ndarray | None) -> list[dict]:
    """Speed above the limit that applies at each point for at least min_duration_s. The limit at
    a point is the class limit, a lower zone limit, and for passenger vehicles at night 80% of the
    day limit. A change of limit (22:00, 06:00, a zone edge) never splits an episode: above the
    day limit before 22:00 and the night limit after is one episode, its duration tested on the
    whole. It is `night_overspeed` when some of it was over the night limit only (the night rule
    is needed to call it a violation), otherwise `overspeed`."""
    cfg, night = rules.section("overspeed"), rules.section("night")
    class_limit = np.array([rules.limit_kmh(c) for c in classes], dtype=np.float64).reshape(-1)
    passenger = np.array([rules.is_passenger(c) for c in classes], dtype=bool).reshape(-1)
    limit, day_limit, start_marks, end_marks = kernels.over_limit(
        track.vid, track.local_s, track.speed, track.t, track.first, track.seg_s, class_limit, passenger,
        np.zeros(0) if zone_limit is None else zone_limit, *rules.window("night"), float(night["speed_factor"]),
        float(cfg["max_gap_s"]), float(cfg["min_duration_s"]))
    starts, ends = np.flatnonzero(start_marks), np.flatnonzero(end_marks)
    if not len(starts):
        return []
    duration = track.t[ends] - track.t[starts]
    dist = [float(track.seg_m[s + 1:e + 1].sum()) for s, e in zip(starts, ends)]
    out = []
    lo, hi = (float(b) for b in cfg["bands"])
    min_s = float(cfg["min_duration_s"])
    for s, e, d, km in zip(starts, ends, duration, dist):  # few episodes: a loop over them, not over points
        v, lims = track.speed[s:e + 1], limit[s:e + 1]
        excess = float(((v - lims) / lims).max())  # against the limit in force at each point
        band = f"<{lo:.0%}" if excess < lo else (f"{lo:.0%}-{hi:.0%}" if excess < hi else f">={hi:.0%}")
        night_only = (lims < day_limit[s:e + 1]) & (v <= day_limit[s:e + 1])  # over the night limit only
        night_ep = bool(night_only.any())
        out.append({"rule": "night_overspeed" if night_ep else "overspeed",
                    "regulation": night["regulation"] if night_ep else cfg["regulation"],
                    "s": int(s), "e": int(e), "breach_t": breach_after(track.t, s, e, min_s),
                    "duration_s": float(d), "distance_m": float(km), "max_speed_kmh": float(v.max()),
                    "mean_speed_kmh": float(v.mean()), "limit_kmh": float(lims.min()), "band": band,
                    "details": {"excess": round(excess, 3), "zone": bool(zone_limit is not None and zone_limit[s] < class_limit[track.vid[s]]),
                                "limits_kmh": sorted({float(x) for x in np.unique(lims)})}})
    return out


def moving(track: Track, rules: TrajectoryRules) -> np.ndarray:
    """Per point: the vehicle is moving. Speed above moving_kmh is not enough (GPS wander around
    a parked vehicle gives derived speeds): it must also be more than rest_radius_m away from
    where it was, or from where it will be, `horizon` seconds apart — the time it takes to leave
    the rest radius at moving_kmh (100 m at 5 km/h: 72 s; at least the neighbouring fix)."""
    f = rules.section("fatigue")
    radius = float(f["rest_radius_m"])
    fast = track.speed > float(f["moving_kmh"])
    if not fast.any():
        return fast
    horizon_us = int(radius / (float(f["moving_kmh"]) / 3.6) * 1e6)
    return kernels.displaced(track.vid, track.t_us, track.lat, track.lon, fast, horizon_us, radius)


def driving_and_rests(track: Track, rules: TrajectoryRules, moving: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per interval (point i-1 -> i): seconds of driving, and whether a qualifying rest ends at i.

    Driving: both ends moving (see `moving`) and the interval not a signal gap. A stop lasts from
    the last moving point before it to the first moving point after it; it is a rest when it lasts
    at least rest_min_s with the vehicle standing still (not moving, within rest_radius_m).
    A single long interval without displacement (terminal off while parked) is a rest too.
    Gaps with displacement are neither: a data gap never becomes driving time."""
    f, gap = rules.section("fatigue"), float(rules.section("signal_gap")["max_gap_s"])
    n = len(track)
    if n == 0:
        return np.zeros(0), np.zeros(0, bool)
    driving, ends, since = kernels.stops(track.first, track.seg_s, track.seg_m, track.t, track.lat, track.lon,
                                         moving, gap, float(f["rest_radius_m"]), float(f["rest_min_s"]))
    rest_end = ends > 0
    at = np.flatnonzero(rest_end)
    kind = ends[at]
    track.rests = sorted([(int(since[i]), int(i)) for i in at[(kind & 1) > 0]] + [(int(i) - 1, int(i)) for i in at[(kind & 2) > 0]])
    return driving, rest_end


def continuous_driving(track: Track, classes: np.ndarray, rules: TrajectoryRules, driving: np.ndarray,
                       rest_end: np.ndarray, on_duty: np.ndarray) -> list[dict]:
    """> 4 h of driving between qualifying rests; passenger vehicles at night: > 2 h. Counted per
    driver where the roster says who drove (`on_duty`, -1 where unknown): a change of driver
    starts the new driver's stretch, so the first is not charged for the second's hours."""
    f = rules.section("fatigue")
    n = len(track)
    if n == 0:
        return []
    day_max, night_max = float(f["continuous_max_s"]), float(f["night_continuous_max_s"])
    passenger = np.array([rules.is_passenger(c) for c in classes], dtype=bool).reshape(-1)
    marks, ends, totals, nights = kernels.stretches(
        track.first, rest_end, on_duty, driving, track.vid, track.local_s, passenger, *rules.window("night"), day_max, night_max)
    out = []
    at = np.flatnonzero(marks)
    for lo_, hi_, tot, night_tot in zip(at.tolist(), ends[at].tolist(), totals[at].tolist(), nights[at].tolist()):
        counted = driving[lo_:hi_].copy()
        counted[0] = 0.0  # the interval into a rest's end or a handover is nobody's stretch
        night_counted = np.where(passenger[track.vid[lo_:hi_]] & in_window(track.local_s[lo_:hi_], *rules.window("night")), counted, 0.0)
        drives = np.flatnonzero(counted > 0)
        s, e = lo_ + int(drives[0]) - 1, lo_ + int(drives[-1])
        is_night = night_tot > night_max
        # the breach: the first point where either limit's running total is exceeded
        crossings = [lo_ + int(np.searchsorted(np.cumsum(values), limit, side="right"))
                     for values, limit, hit in ((counted, day_max, tot > day_max), (night_counted, night_max, is_night)) if hit]
        out.append({"rule": "fatigue_continuous", "regulation": f["regulation"], "s": s, "e": e,
                    "breach_t": float(track.t[min(min(crossings), e)]),
                    "duration_s": float(night_tot if is_night else tot),
                    "distance_m": float(track.seg_m[s + 1:e + 1].sum()), "limit_s": night_max if is_night else day_max,
                    "details": {"driving_s": float(tot), "night_driving_s": float(night_tot), "night": bool(is_night)}})
    return out


def cumulative_driving(track: Track, rules: TrajectoryRules, driving: np.ndarray, on_duty: np.ndarray) -> list[dict]:
    """> 8 h of driving in any 24 h, and > 44 h in any 7 days where the data spans 7 days; per
    (vehicle, driver) where the roster says who drove, per vehicle where it does not."""
    f = rules.section("fatigue")
    out = []
    # a (vehicle, driver) pair: vehicles are sorted, so the pair's code keeps vehicle order
    rostered = bool((on_duty >= 0).any())
    if rostered:
        _, pair = np.unique(track.vid.astype(np.int64) * (int(on_duty.max()) + 2) + (on_duty + 1), return_inverse=True)
    else:
        pair = track.vid  # no roster: per vehicle, already in order
    # only pairs whose whole record holds more driving than a limit can break it
    total = kernels.totals(pair, driving, int(pair.max()) + 1 if len(pair) else 0)
    candidates = total > min(float(f["daily_max_s"]), float(f["weekly_max_s"]))
    idx = np.flatnonzero((driving > 0) & candidates[pair])
    if not idx.size:
        return out
    if rostered:
        idx = idx[np.argsort(pair[idx], kind="stable")]  # per pair, in time order
    grp, t, d = pair[idx], track.t[idx], driving[idx]
    span = per_vehicle_span(track)
    key = (grp.astype(np.int64) << 41) + (track.t_us[idx] - track.t_us.min()) // 1000  # exact integer ms
    csum = np.concatenate([[0.0], np.cumsum(d)])
    for rule, window, limit in (("fatigue_daily", DAY, float(f["daily_max_s"])), ("fatigue_weekly", 7 * DAY, float(f["weekly_max_s"]))):
        # interval j covers (t_j - d_j, t_j]; the window ending at t_j starts after t_j - window
        lo = np.searchsorted(key, key - int(window * 1000) + (d * 1000).astype(np.int64), side="left")
        rolling = csum[np.arange(len(idx)) + 1] - csum[lo]
        over = rolling > limit
        if rule == "fatigue_weekly":
            over &= span[track.vid[idx]] >= 7 * DAY - 3600  # only where the data spans the 7 days
        brk = np.ones(len(idx), bool)
        brk[1:] = grp[1:] != grp[:-1]
        starts, ends = runs(over, brk)
        for s, e in zip(starts, ends):
            first_in = int(lo[s])
            out.append({"rule": rule, "regulation": f["regulation"], "s": int(idx[first_in]) - 1, "e": int(idx[e]),
                        "breach_t": float(t[s]),
                        "duration_s": float(rolling[s:e + 1].max()), "limit_s": limit,
                        "distance_m": float(track.seg_m[idx[first_in]:idx[e] + 1].sum()),
                        "details": {"window_h": window / 3600}})
    return out


def early_morning(track: Track, classes: np.ndarray, plates: list[str], rules: TrajectoryRules, moving: np.ndarray) -> list[dict]:
    """Long-distance coaches moving 02:00-05:00 local."""
    cfg = rules.section("early_morning")
    applies = np.array([c in cfg["classes"] and p not in cfg["exempt_vehicles"] for c, p in zip(classes, plates)])
    if not len(track) or not applies.any():
        return []
    start_marks, end_marks = kernels.moving_in_window(
        moving, applies, track.vid, track.local_s, *rules.window("early_morning"), track.first, track.seg_s,
        float(rules.section("signal_gap")["max_gap_s"]), track.t, float(cfg["min_duration_s"]))
    starts, ends = np.flatnonzero(start_marks), np.flatnonzero(end_marks)
    out = []
    for s, e in zip(starts, ends):
        d = track.t[e] - track.t[s]
        if d >= float(cfg["min_duration_s"]):
            out.append({"rule": "early_morning", "regulation": cfg["regulation"], "s": int(s), "e": int(e),
                        "breach_t": breach_after(track.t, s, e, float(cfg["min_duration_s"])),
                        "duration_s": float(d), "distance_m": float(track.seg_m[s + 1:e + 1].sum()),
                        "max_speed_kmh": float(track.speed[s:e + 1].max()), "mean_speed_kmh": float(track.speed[s:e + 1].mean())})
    return out


def signal_gaps(track: Track, rules: TrajectoryRules) -> list[dict]:
    """No position for longer than max_gap_s while the vehicle moved across the gap."""
    cfg = rules.section("signal_gap")
    gap = ~track.first & (track.seg_s > float(cfg["max_gap_s"])) & (track.seg_m >= float(cfg["min_distance_m"]))
    return [{"rule": "signal_gap", "regulation": cfg["regulation"], "s": int(i) - 1, "e": int(i),
             "breach_t": float(track.t[i - 1] + float(cfg["max_gap_s"])),
             "duration_s": float(track.seg_s[i]), "distance_m": float(track.seg_m[i])} for i in np.flatnonzero(gap)]
