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
# cos x = sum (-1)^k x^2k / (2k)!, to x^20: within 3e-16 of libm's cos for |x| <= pi/2 (every
# latitude), and about eight times cheaper here; the scale factor of every step is one
_C = tuple((-1) ** k / math.factorial(2 * k) for k in range(11))
_C0, _C1, _C2, _C3, _C4, _C5, _C6, _C7, _C8, _C9, _C10 = _C


@njit(cache=True, nogil=True)
def _cos(x):
    """cos x for a latitude in radians (|x| <= pi/2), by its Taylor polynomial (see _C);
    libm's beyond."""
    if abs(x) > 1.5707963267948966:
        return math.cos(x)
    z = x * x
    return _C0 + z * (_C1 + z * (_C2 + z * (_C3 + z * (_C4 + z * (_C5 + z * (_C6 + z * (_C7 + z * (_C8 + z * (_C9 + z * _C10)))))))))


@njit(cache=True, nogil=True)
def _step_cos(lat1, lon1, lat2, lon2, c):
    """_step with c = cos of the mean latitude, given."""
    x = (lon2 - lon1) * _K * c
    y = (lat2 - lat1) * _K
    d = EARTH_RADIUS_M * math.sqrt(x * x + y * y)
    if d > 100_000.0:
        p1, p2 = lat1 * _K, lat2 * _K
        a = math.sin((p2 - p1) * 0.5) ** 2 + math.cos(p1) * math.cos(p2) * math.sin((lon2 - lon1) * _K * 0.5) ** 2
        d = 2.0 * EARTH_RADIUS_M * math.asin(math.sqrt(min(a, 1.0)))
    return d


@njit(cache=True, nogil=True)
def _step(lat1, lon1, lat2, lon2):
    return _step_cos(lat1, lon1, lat2, lon2, _cos((lat1 + lat2) * 0.5 * _K))


@njit(cache=True, nogil=True)
def _beyond(lat1, lon1, lat2, lon2, radius_m):
    """_step(...) > radius_m, without a cosine when the north-south offset alone is beyond it
    (the same answer: x*x + y*y >= y*y, and sqrt and rounding are monotonic), and none at
    all for the same fix (a parked vehicle's repeated position: 0 m)."""
    if lat1 == lat2 and lon1 == lon2:
        return 0.0 > radius_m
    y = (lat2 - lat1) * _K
    if EARTH_RADIUS_M * math.sqrt(y * y) > radius_m:
        return True
    return _step(lat1, lon1, lat2, lon2) > radius_m


@njit(cache=True, nogil=True)
def neighbours(vid, t, lat, lon):
    """(first, seg_m, seg_s): a vehicle's first point, metres and seconds from the previous point."""
    n = len(t)
    first = np.ones(n, np.bool_)
    seg_m = np.zeros(n)
    seg_s = np.zeros(n)
    mid = math.nan  # the cosine of the last mean latitude, reused for the next equal one (parked fixes)
    c = 0.0
    for i in range(1, n):
        if vid[i] == vid[i - 1]:
            first[i] = False
            s = lat[i - 1] + lat[i]
            if s != mid:
                mid = s
                c = _cos(s * 0.5 * _K)
            seg_m[i] = _step_cos(lat[i - 1], lon[i - 1], lat[i], lon[i], c)
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
def _speed(into, q_in, out, q_out, reported, source):
    """The speed the rules use at a point (see `speeds`), from the speeds (m/s; 0 without time)
    of its segment in (`into`: it has one) and out: scalars only, so that the call compiles away."""
    total, count = 0.0, 0
    if into:
        total += q_in * 3.6
        count += 1
    if out:
        total += q_out * 3.6
        count += 1
    derived = total / count if count else 0.0
    if source == 1 or math.isnan(reported):
        return derived
    if source == 2:
        return max(reported, derived)
    return reported


@njit(cache=True, nogil=True)
def _q(m, s):
    """A segment's speed in m/s, 0 without time."""
    return m / s if s > 0 else 0.0


@njit(cache=True, nogil=True)
def _local(t):
    x = t + 28800.0
    return x - math.floor(x / 86400.0) * 86400.0


@njit(cache=True, nogil=True)
def speeds(first, seg_m, seg_s, reported, t, source):
    """(speed the rules use, seconds after local midnight UTC+8). The derived speed at a point is
    the mean of the segment speeds into and out of it; source 0 reported (derived where missing),
    1 derived, 2 the larger of both."""
    n = len(seg_m)
    speed = np.empty(n)
    local = np.empty(n)
    for i in range(n):
        nxt = min(i + 1, n - 1)
        speed[i] = _speed(not first[i], _q(seg_m[i], seg_s[i]), i + 1 < n and not first[nxt], _q(seg_m[nxt], seg_s[nxt]), reported[i], source)
        local[i] = _local(t[i])
    return speed, local


@njit(cache=True, nogil=True)
def prepare(vid, t_us, lat, lon, reported, bound_ms, source):
    """`neighbours`, `spikes` and `speeds` in one pass over points sorted by (vehicle, time),
    with seconds from microseconds: (t, first, seg_m, seg_s, speed, local, equal times, spikes,
    reported speeds). Right as it stands when there are no equal times and no spikes (the
    common case); otherwise the caller drops those and computes again."""
    n = len(vid)
    t = np.empty(n)
    first = np.empty(n, np.bool_)
    seg_m = np.empty(n)
    seg_s = np.empty(n)
    speed = np.empty(n)
    local = np.empty(n)
    same = 0
    spikes_ = 0
    n_reported = 0
    mid = math.nan
    c = 0.0
    q_prev = 0.0  # the speed (m/s) of the segment into point i - 1
    for i in range(n):
        t[i] = t_us[i] / 1e6
        q = 0.0
        if i > 0 and vid[i] == vid[i - 1]:
            first[i] = False
            s = lat[i - 1] + lat[i]
            if s != mid:
                mid = s
                c = _cos(s * 0.5 * _K)
            seg_m[i] = _step_cos(lat[i - 1], lon[i - 1], lat[i], lon[i], c)
            seg_s[i] = t[i] - t[i - 1]
            q = _q(seg_m[i], seg_s[i])
            if t_us[i] == t_us[i - 1]:
                same += 1
        else:
            first[i] = True
            seg_m[i] = 0.0
            seg_s[i] = 0.0
        if not math.isnan(reported[i]):
            n_reported += 1
        if i > 0:  # point i - 1 is complete
            j = i - 1
            if seg_s[j] > 0 and not first[i] and seg_s[i] > 0 and q_prev > bound_ms and q > bound_ms:
                spikes_ += 1
            speed[j] = _speed(not first[j], q_prev, not first[i], q, reported[j], source)
            local[j] = _local(t[j])
        q_prev = q
    if n:
        speed[n - 1] = _speed(not first[n - 1], q_prev, False, 0.0, reported[n - 1], source)
        local[n - 1] = _local(t[n - 1])
    return t, first, seg_m, seg_s, speed, local, same, spikes_, n_reported


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
        if _beyond(lat[i], lon[i], lat[a], lon[a], radius_m) or _beyond(lat[i], lon[i], lat[b], lon[b], radius_m):
            out[i] = True
    return out


@njit(cache=True, nogil=True)
def _valid_fix(a, b):
    """A position within the world (NaN and infinities are not) and not (0, 0). Scalars only:
    a helper given an array pays a reference count per call, ten times the test itself."""
    return (abs(a) <= 90.0) & (abs(b) <= 180.0) & ((a != 0.0) | (b != 0.0))


@njit(cache=True, nogil=True)
def valid_fixes(lat, lon, status, vid):
    """Per row: a plate (vid >= 0) and a valid fix (`_valid_fix`), and JT/T 808 status bit 1
    (positioned) where a status is given (`status` empty: no status column)."""
    n = len(lat)
    out = np.empty(n, np.bool_)
    if len(status) == n:
        for i in range(n):
            out[i] = (vid[i] >= 0) & _valid_fix(lat[i], lon[i]) & ((status[i] & 2) != 0)
    else:
        for i in range(n):
            out[i] = (vid[i] >= 0) & _valid_fix(lat[i], lon[i])
    return out


@njit(cache=True, nogil=True)
def count_fixes(codes, no_plate, lat, lon, status, timed, valid, counts, first_row, offset):
    """Pass 1 over one chunk of rows (the chunk's first row is row `offset` of the frame):
    `valid` per row (a plate, a time where `timed` is given, a valid fix), and per plate code
    its valid rows counted and the frame row where it first has one (-1: none yet)."""
    n = len(codes)
    check_status = len(status) == n
    check_time = len(timed) == n
    for i in range(n):
        c = codes[i]
        ok = c != no_plate and (not check_time or timed[i]) and _valid_fix(lat[i], lon[i]) and (not check_status or (status[i] & 2) != 0)
        valid[i] = ok
        if ok:
            counts[c] += 1
            if first_row[c] < 0:
                first_row[c] = offset + i


@njit(cache=True, nogil=True)
def scatter_fixes(table, v0, v1, codes, valid, t_us, lat, lon, reported, pos, last_t, out_t, out_lat, out_lon, out_rep):
    """Pass 2 over one chunk: each valid row of a vehicle v0 <= table[code] < v1 written to its
    vehicle's next slot (`pos`, carried from chunk to chunk), so the output is in (vehicle,
    input) order; False if some vehicle's rows are not in time order (`last_t`: its latest
    time so far). Two threads take halves of the vehicles: each writes half the streams."""
    in_time = True
    for i in range(len(codes)):
        if valid[i]:
            v = table[codes[i]]
            if v < v0 or v >= v1:
                continue
            k = pos[v]
            pos[v] = k + 1
            x = t_us[i]
            out_t[k] = x
            out_lat[k] = lat[i]
            out_lon[k] = lon[i]
            out_rep[k] = reported[i]
            if x < last_t[v]:
                in_time = False
            last_t[v] = x
    return in_time


@njit(cache=True, nogil=True)
def by_vehicle(vid, t_us, nv):
    """(sorted by (vehicle, time) already, in time order within each vehicle)."""
    n = len(vid)
    already = True
    for i in range(1, n):
        if vid[i] < vid[i - 1] or (vid[i] == vid[i - 1] and t_us[i] < t_us[i - 1]):
            already = False
            break
    if already:
        return True, True
    last = np.full(nv, np.iinfo(np.int64).min, np.int64)
    for i in range(n):
        if t_us[i] < last[vid[i]]:
            return False, False
        last[vid[i]] = t_us[i]
    return False, True


@njit(cache=True, nogil=True)
def gather_vehicles(vid, t_us, lat, lon, reported, v0, v1, offsets):
    """The rows of vehicles v0 <= code < v1, in (vehicle, input) order — (vehicle, time) order
    when each vehicle's rows are in time order: one sequential pass over the input, each row
    written to its vehicle's next slot (`offsets`: where each vehicle starts, and the end)."""
    m = offsets[-1]
    pos = offsets[:-1].copy()
    out_vid = np.empty(m, np.int32)
    out_t = np.empty(m, np.int64)
    out_lat = np.empty(m)
    out_lon = np.empty(m)
    out_rep = np.empty(m)
    for i in range(len(vid)):
        v = vid[i]
        if v >= v0 and v < v1:
            k = pos[v - v0]
            pos[v - v0] = k + 1
            out_vid[k] = v
            out_t[k] = t_us[i]
            out_lat[k] = lat[i]
            out_lon[k] = lon[i]
            out_rep[k] = reported[i]
    return out_vid, out_t, out_lat, out_lon, out_rep


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


@njit(cache=True, nogil=True)
def _in_window(x, start, end):
    return (x >= start and x < end) if start < end else (x >= start or x < end)


@njit(cache=True, nogil=True)
def over_limit(vid, local_s, speed, t, first, seg_s, class_limit, passenger, zone_limit, night_start, night_end,
               factor, max_gap_s, min_s):
    """The overspeed pass: per point the day limit (class, or a lower zone limit where
    `zone_limit` is given) and the limit in force (passenger vehicles at night: `factor` of the
    class limit where lower); and the runs of points above the limit in force (a vehicle's first
    point or a gap over max_gap_s breaks a run) lasting at least min_s, marked at their first
    and last points: (limit, day_limit, starts, ends). Found runs are marked in arrays rather
    than appended to lists: the loop stays tight."""
    n = len(t)
    limit = np.empty(n)
    day_limit = np.empty(n)
    starts = np.zeros(n, np.bool_)
    ends = np.zeros(n, np.bool_)
    zoned = len(zone_limit) == n
    run = -1
    for i in range(n + 1):
        over = False
        if i < n:
            v = vid[i]
            cl = class_limit[v]
            day = min(cl, zone_limit[i]) if zoned else cl
            lim = day
            if passenger[v] and _in_window(local_s[i], night_start, night_end) and cl * factor < day:
                lim = cl * factor
            limit[i] = lim
            day_limit[i] = day
            over = speed[i] > lim
        if run >= 0 and not (over and not first[i] and seg_s[i] <= max_gap_s):
            if t[i - 1] - t[run] >= min_s:
                starts[run] = True
                ends[i - 1] = True
            run = -1
        if over and run < 0:
            run = i
    return limit, day_limit, starts, ends


@njit(cache=True, nogil=True)
def stops(first, seg_s, seg_m, t, lat, lon, moving, max_gap_s, radius_m, rest_min_s):
    """The fatigue pass (see detectors.driving_and_rests): per interval (point i-1 -> i) the
    seconds of driving, and where a qualifying rest ends: `ends` bit 1 a stop of standing
    points (from `since[i]`), bit 2 a single interval parked with the terminal off (from i-1)."""
    n = len(t)
    driving = np.zeros(n)
    ends = np.zeros(n, np.uint8)
    since = np.empty(n, np.int64)  # written only where a rest ends
    anchor = -1  # where the current stop began
    run = -1  # the current run of standing points within the radius of the anchor
    run_before = -1
    for i in range(n + 1):
        joined = False
        still = False
        if i < n:
            joined = not first[i] and seg_s[i] <= max_gap_s
            mv = moving[i]
            if joined and mv and moving[i - 1]:
                driving[i] = seg_s[i]
            if not mv:
                if not (i > 0 and not moving[i - 1] and joined):
                    anchor = i
                still = not _beyond(lat[anchor], lon[anchor], lat[i], lon[i], radius_m)
        if run >= 0 and not (still and joined):  # the run ended at i - 1
            a = i if joined else i - 1
            if t[a] - t[run_before] >= rest_min_s:
                ends[a] |= 1
                since[a] = run_before
            run = -1
        if still and run < 0:
            run = i
            run_before = i - 1 if joined else i
        if i < n and not first[i] and seg_s[i] >= rest_min_s and seg_m[i] <= radius_m:
            ends[i] |= 2
    return driving, ends, since


@njit(cache=True, nogil=True)
def stretches(first, rest_end, on_duty, driving, vid, local_s, passenger, night_start, night_end, day_max, night_max):
    """The continuous-driving pass: a stretch starts at a vehicle's first point, where a rest
    ends or where the driver on duty changes; the interval into its first point counts for
    nobody. Stretches over a limit (driving > day_max, or night driving of a passenger vehicle
    > night_max) are marked at their first point, with their end (exclusive), driving and night
    driving seconds: (marks, end, total, night)."""
    n = len(driving)
    marks = np.zeros(n, np.bool_)
    end = np.empty(n, np.int64)
    totals = np.empty(n)
    nights = np.empty(n)
    start = 0
    total = 0.0
    night = 0.0
    for i in range(n + 1):
        if i == n or first[i] or rest_end[i] or (i > 0 and on_duty[i] != on_duty[i - 1]):
            if i > 0 and (total > day_max or night > night_max):
                marks[start] = True
                end[start] = i
                totals[start] = total
                nights[start] = night
            start = i
            total = 0.0
            night = 0.0
            continue
        total += driving[i]
        if passenger[vid[i]] and _in_window(local_s[i], night_start, night_end):
            night += driving[i]
    return marks, end, totals, nights


@njit(cache=True, nogil=True)
def coverage(vid, t, nv, lo, hi, max_gap):
    """Per vehicle code, over its points in [lo, hi): (count, first time, last time, longest gap
    between them, total of the gaps no longer than max_gap). A vehicle's figures are kept in
    registers along its run of points (stored when the next vehicle begins, loaded back should it
    come again): the same additions in the same order as updating the arrays point by point."""
    counts = np.zeros(nv, np.int64)
    first_t = np.full(nv, np.nan)
    last_t = np.full(nv, np.nan)
    longest = np.zeros(nv)
    covered = np.zeros(nv)
    prev = -1
    cur = -1
    cnt, lng, cov, last = 0, 0.0, 0.0, math.nan
    for i in range(len(t)):
        x = t[i]
        if not (x >= lo and x < hi):
            continue
        v = vid[i]
        if v != cur:
            if cur >= 0:
                counts[cur], longest[cur], covered[cur], last_t[cur] = cnt, lng, cov, last
            cur = v
            cnt, lng, cov, last = counts[v], longest[v], covered[v], last_t[v]
        if prev >= 0 and vid[prev] == v:
            gap = x - t[prev]
            lng = max(lng, gap)
            if gap <= max_gap:
                cov += gap
        else:
            first_t[v] = x
        last = x
        cnt += 1
        prev = i
    if cur >= 0:
        counts[cur], longest[cur], covered[cur], last_t[cur] = cnt, lng, cov, last
    return counts, first_t, last_t, longest, covered


@njit(cache=True, nogil=True)
def moving_in_window(moving, applies, vid, local_s, start, end, first, seg_s, max_gap_s, t, min_s):
    """Runs of points moving inside the local time window [start, end) of a vehicle the rule
    applies to (a vehicle's first point or a gap over max_gap_s breaks a run), lasting at least
    min_s, marked at their first and last points."""
    n = len(t)
    starts = np.zeros(n, np.bool_)
    ends = np.zeros(n, np.bool_)
    run = -1
    for i in range(n + 1):
        on = i < n and moving[i] and applies[vid[i]] and _in_window(local_s[i], start, end)
        if run >= 0 and not (on and not first[i] and seg_s[i] <= max_gap_s):
            if t[i - 1] - t[run] >= min_s:
                starts[run] = True
                ends[i - 1] = True
            run = -1
        if on and run < 0:
            run = i
    return starts, ends


@njit(cache=True, nogil=True)
def totals(code, values, n_codes):
    """Sum of values per code, in point order (as np.bincount with weights): a code's sum is kept
    in a register along its run (the same additions in the same order)."""
    out = np.zeros(n_codes)
    cur = -1
    acc = 0.0
    for i in range(len(values)):
        c = code[i]
        if c != cur:
            if cur >= 0:
                out[cur] = acc
            cur = c
            acc = out[c]
        acc += values[i]
    if cur >= 0:
        out[cur] = acc
    return out


@njit(cache=True, nogil=True)
def first_seen(codes, null):
    """Codes numbered by first appearance (int32; `null` -> -1) and the row where each first
    appears."""
    n = len(codes)
    top = 0
    for i in range(n):
        if codes[i] != null and codes[i] > top:
            top = codes[i]
    number = np.full(top + 1, -1, np.int64)
    rows = np.empty(top + 1, np.int64)
    out = np.empty(n, np.int32)
    k = 0
    for i in range(n):
        c = codes[i]
        if c == null:
            out[i] = -1
            continue
        d = number[c]
        if d < 0:
            d = k
            number[c] = k
            rows[k] = i
            k += 1
        out[i] = d
    return out, rows[:k].copy()


@njit(cache=True, nogil=True)
def renumber(codes, new):
    """new[code] per row (-1 stays -1), in place."""
    for i in range(len(codes)):
        if codes[i] >= 0:
            codes[i] = new[codes[i]]
    return codes
