"""Compiled per-point passes (numba) where numpy would make a dozen temporaries of every array:
neighbour distances, GPS spikes, derived speed, local time of day. One loop each, over points
sorted by (vehicle, time); the same formulas as geo.step_m (equirectangular, haversine beyond
100 km). Compiled once and cached on disk (`cache=True`)."""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from rules.trajectory.geo import EARTH_RADIUS_M

_K = math.pi / 180.0


@njit(cache=True, nogil=True)
def _step(lat1, lon1, lat2, lon2):
    x = (lon2 - lon1) * _K * math.cos((lat1 + lat2) * 0.5 * _K)
    y = (lat2 - lat1) * _K
    d = EARTH_RADIUS_M * math.sqrt(x * x + y * y)
    if d > 100_000.0:
        p1, p2 = lat1 * _K, lat2 * _K
        a = math.sin((p2 - p1) * 0.5) ** 2 + math.cos(p1) * math.cos(p2) * math.sin((lon2 - lon1) * _K * 0.5) ** 2
        d = 2.0 * EARTH_RADIUS_M * math.asin(math.sqrt(min(a, 1.0)))
    return d


@njit(cache=True, nogil=True)
def neighbours(vid, t, lat, lon):
    """(first, seg_m, seg_s): a vehicle's first point, metres and seconds from the previous point."""
    n = len(t)
    first = np.ones(n, np.bool_)
    seg_m = np.zeros(n)
    seg_s = np.zeros(n)
    for i in range(1, n):
        if vid[i] == vid[i - 1]:
            first[i] = False
            seg_m[i] = _step(lat[i - 1], lon[i - 1], lat[i], lon[i])
            seg_s[i] = t[i] - t[i - 1]
    return first, seg_m, seg_s


@njit(cache=True, nogil=True)
def spikes(first, seg_m, seg_s, bound_ms):
    """A point reached and left faster than bound_ms (m/s): a GPS jump."""
    n = len(seg_m)
    out = np.zeros(n, np.bool_)
    for i in range(n - 1):
        if seg_s[i] > 0 and not first[i + 1] and seg_s[i + 1] > 0:
            if seg_m[i] / seg_s[i] > bound_ms and seg_m[i + 1] / seg_s[i + 1] > bound_ms:
                out[i] = True
    return out


@njit(cache=True, nogil=True)
def speeds(first, seg_m, seg_s, reported, t, source):
    """(speed the rules use, seconds after local midnight UTC+8). The derived speed at a point is
    the mean of the segment speeds into and out of it; source 0 reported (derived where missing),
    1 derived, 2 the larger of both."""
    n = len(seg_m)
    speed = np.empty(n)
    local = np.empty(n)
    for i in range(n):
        total, count = 0.0, 0
        if not first[i]:
            total += seg_m[i] / seg_s[i] * 3.6 if seg_s[i] > 0 else 0.0
            count += 1
        if i + 1 < n and not first[i + 1]:
            total += seg_m[i + 1] / seg_s[i + 1] * 3.6 if seg_s[i + 1] > 0 else 0.0
            count += 1
        derived = total / count if count else 0.0
        r = reported[i]
        if source == 1 or math.isnan(r):
            speed[i] = derived
        elif source == 2:
            speed[i] = max(r, derived)
        else:
            speed[i] = r
        x = t[i] + 28800.0
        local[i] = x - math.floor(x / 86400.0) * 86400.0
    return speed, local


@njit(cache=True, nogil=True)
def distances(lat, lon, a, b):
    """Metres from point a[k] to point b[k], for every k."""
    out = np.empty(len(a))
    for k in range(len(a)):
        out[k] = _step(lat[a[k]], lon[a[k]], lat[b[k]], lon[b[k]])
    return out


@njit(cache=True, nogil=True)
def displaced(vid, t_us, lat, lon, fast, horizon_us, radius_m):
    """Per point: fast and more than radius_m from where the vehicle was `horizon_us` before, or
    will be `horizon_us` after (the nearest fix at least that far in time, else the vehicle's
    first or last fix). Two pointers that only move forward: one pass over sorted points."""
    n = len(t_us)
    out = np.zeros(n, np.bool_)
    first = 0
    behind = 0
    ahead = 0
    for i in range(n):
        if i == 0 or vid[i] != vid[i - 1]:
            first = i
            behind = i
        if ahead < i:
            ahead = i
        if not fast[i]:
            continue
        while behind + 1 <= i and t_us[behind + 1] <= t_us[i] - horizon_us:
            behind += 1
        while ahead + 1 < n and vid[ahead] == vid[i] and t_us[ahead] < t_us[i] + horizon_us:
            ahead += 1
        a = ahead if vid[ahead] == vid[i] else ahead - 1
        b = behind if behind >= first else first
        if _step(lat[i], lon[i], lat[a], lon[a]) > radius_m or _step(lat[i], lon[i], lat[b], lon[b]) > radius_m:
            out[i] = True
    return out


@njit(cache=True, nogil=True)
def valid_fixes(lat, lon, status, vid):
    """Per row: a plate (vid >= 0), a finite position within the world and not (0, 0), and JT/T
    808 status bit 1 (positioned) where `status` is given (empty: no status column)."""
    n = len(lat)
    out = np.empty(n, np.bool_)
    check_status = len(status) == n
    for i in range(n):
        a, b = lat[i], lon[i]
        ok = vid[i] >= 0 and math.isfinite(a) and math.isfinite(b) and abs(a) <= 90.0 and abs(b) <= 180.0 and not (a == 0.0 and b == 0.0)
        if ok and check_status:
            ok = (status[i] & 2) != 0
        out[i] = ok
    return out


@njit(cache=True, nogil=True)
def by_vehicle(vid, t_us, nv):
    """(order, already sorted, in time order within each vehicle): a stable counting sort of the
    rows by vehicle code, skipped (empty order) when the rows are sorted by (vehicle, time)."""
    n = len(vid)
    already = True
    for i in range(1, n):
        if vid[i] < vid[i - 1] or (vid[i] == vid[i - 1] and t_us[i] < t_us[i - 1]):
            already = False
            break
    if already:
        return np.empty(0, np.int64), True, True
    pos = np.zeros(nv + 1, np.int64)
    for i in range(n):
        pos[vid[i] + 1] += 1
    for v in range(nv):
        pos[v + 1] += pos[v]
    last = np.full(nv, np.iinfo(np.int64).min, np.int64)
    order = np.empty(n, np.int64)
    in_time = True
    for i in range(n):
        v = vid[i]
        order[pos[v]] = i
        pos[v] += 1
        if t_us[i] < last[v]:
            in_time = False
        last[v] = t_us[i]
    return order, False, in_time


@njit(cache=True, nogil=True)
def same_times(vid, t_us, lat, lon):
    """(mask, count, exact): points with their predecessor's vehicle and time; how many, and how
    many of them also at its position (exact duplicates)."""
    n = len(vid)
    same = np.zeros(n, np.bool_)
    count = 0
    exact = 0
    for i in range(1, n):
        if vid[i] == vid[i - 1] and t_us[i] == t_us[i - 1]:
            same[i] = True
            count += 1
            if lat[i] == lat[i - 1] and lon[i] == lon[i - 1]:
                exact += 1
    return same, count, exact
