"""A SIMULATED vehicle-monitoring platform serving the API of docs/platform-api.md on loopback,
for the demo and the tests. Positions come from rules.trajectory.synthetic, deterministically
from (seed, plate, day), with violations planted in some vehicle-days and optional faults:
slow responses, 500s, paging that breaks off, unknown vehicles, garbage bodies, terminals offline
or cut off mid-drive, and a whole-platform outage (`platform.outage = 503`) switched at run time.
Each simulated day starts and ends with the vehicle standing still (a terminal reports a few
fixes after the engine stops), as real days do.
"""
from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import threading
import time
from pathlib import Path
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlparse

from rules.trajectory.synthetic import PLANTS, simulated_vehicle_days

LOCAL = dt.timezone(dt.timedelta(hours=8))
PASSENGER = {"coach", "tourist_coach", "bus", "taxi"}
# The sampling job reads 24 h before a day, where "> 8 h driving in 24 h" is judged: the generated
# days (7 h of driving in three trips) would break it whenever a planted violation adds driving.
# Simulated vehicles drive the two morning trips (~5 h); the afternoon trip (local seconds of the
# day in AFTERNOON) is kept only on days carrying a planted signal gap, which lives in it.
AFTERNOON = (13 * 3600 + 15 * 60, 16 * 3600 + 45 * 60)
GATHER_S = 0.005  # how long the first of concurrent requests waits for the others, to generate their days together
CACHE_BYTES = 1_500_000_000  # the stored days a simulator keeps (~100 KB a vehicle-day)


@dataclass(frozen=True)
class Faults:
    """Shares of vehicle-days (or requests) hit by each fault; all 0 by default."""

    slow: float = 0.0  # a response delayed by slow_seconds
    slow_seconds: float = 2.0
    error_500: float = 0.0  # a request answered 500 once (a retry succeeds)
    truncated: float = 0.0  # paging breaks off once: the next page's token has expired (404); asked again it works
    missing: float = 0.0  # the platform does not know the vehicle (404)
    garbage: float = 0.0  # 200 with a body that is not the API's JSON, every time
    offline: float = 0.0  # the terminal sent nothing that day
    cut_off: float = 0.0  # the terminal stopped reporting in the middle of the day's first drive

    @classmethod
    def parse(cls, text: str | None) -> "Faults":
        """'slow=0.1,error_500=0.05' -> Faults."""
        if not text:
            return cls()
        values = {}
        for part in text.split(","):
            key, _, value = part.partition("=")
            if key.strip() not in cls.__dataclass_fields__:
                raise ValueError(f"unknown fault {key!r} (known: {', '.join(cls.__dataclass_fields__)})")
            values[key.strip()] = float(value or 1.0)
        return cls(**values)


def _round_trips(cols: dict, depot: tuple[float, float], parked_s: float = 3600.0) -> dict:
    """Make a generated day physically continuous with the days around it: every trip (positions
    between breaks of an hour or more) leaves the vehicle's depot, drives out along its path and
    comes back the same way, and the vehicle stands at the depot (three fixes at rest, 30 s
    apart) before and after each trip, as a terminal reports a little while parked. The distance
    travelled is the reported speed over time, so stops stay exactly still and a planted signal
    gap (a 20-minute gap while moving) stays a gap while moving. numpy, per trip."""
    import numpy as np

    t, v = cols["t"], cols["speed_kmh"]
    if len(t) == 0:
        return cols
    lat, lon = cols["lat"].copy(), cols["lon"].copy()
    gap = np.diff(t, prepend=t[0]) / 1e6
    first = np.r_[True, gap[1:] >= parked_s]
    step = np.minimum(v, np.r_[v[0], v[:-1]]) / 3.6 * gap  # 0 across a parked break
    step[first] = 0.0
    cum = np.cumsum(step)
    bounds = np.r_[np.flatnonzero(first), len(t)]
    for a, b in zip(bounds[:-1], bounds[1:]):
        c = cum[a:b] - cum[a]
        back = np.where(c > c[-1] / 2, c[-1] - c, c)  # out to half the distance, then the same way back
        la, lo = np.interp(back, c, lat[a:b]), np.interp(back, c, lon[a:b])
        lat[a:b], lon[a:b] = la - la[0] + depot[0], lo - lo[0] + depot[1]
    ends, begins = np.r_[first[1:], True], first
    out = {**cols, "lat": lat, "lon": lon}
    parts = [out]
    for k in (1, 2, 3):
        for rows, sign in ((ends, 1), (begins, -1)):
            parts.append({**{name: col[rows] for name, col in out.items()}, "t": t[rows] + sign * 30_000_000 * k,
                          "speed_kmh": np.zeros(int(rows.sum()))})
    merged = {name: np.concatenate([p[name] for p in parts]) for name in out}
    order = np.argsort(merged["t"], kind="stable")
    return {name: col[order] for name, col in merged.items()}


def _wire(cols: dict):
    """The API's position rows (local ISO times) from a day's columns."""
    import polars as pl

    local = pl.Series(cols["t"] + 8 * 3_600_000_000).cast(pl.Datetime("us"))  # Beijing time: +08:00 all year
    return pl.DataFrame({
        "time": local.dt.strftime("%Y-%m-%dT%H:%M:%S+08:00"),
        "lat": cols["lat"].round(6), "lon": cols["lon"].round(6), "speed_kmh": cols["speed_kmh"],
        "heading": cols["heading"].round(1), "status": cols["status"], "alarm": cols["alarm"]})


def _row():
    """One position's JSON object, as text: the bytes json.dumps-like writers give (polars'
    write_json, number for number), built column-wise."""
    import polars as pl

    parts = [pl.lit('{"time":"'), pl.col("time"), pl.lit('"')]
    for name in ("lat", "lon", "speed_kmh", "heading", "status", "alarm"):
        parts += [pl.lit(f',"{name}":'), pl.col(name).cast(pl.Utf8)]
    return pl.concat_str(parts + [pl.lit("}")])


@dataclass(frozen=True)
class StoredDay:
    """A vehicle-day as the platform keeps it: the times (epoch microseconds, sorted), the API's
    JSON rows already encoded (comma-separated, `starts[i]` the byte where row i begins,
    `starts[-1]` one past the end), so that answering a request is slicing bytes, and what was
    planted."""

    t: object  # numpy int64
    rows: bytes
    starts: object  # numpy int64, len(t) + 1
    planted: list

    @classmethod
    def of(cls, cols: dict, planted: list) -> "StoredDay":
        return cls.many([(cols, planted)])[0]

    @classmethod
    def many(cls, days: list[tuple[dict, list]]) -> list["StoredDay"]:
        """Many days encoded at once (one JSON encoding for all their rows, then cut per day)."""
        import numpy as np

        counts = np.array([len(cols["t"]) for cols, _ in days], dtype=np.int64)
        if not counts.sum():
            return [cls(cols["t"], b"", np.zeros(1, dtype=np.int64), planted) for cols, planted in days]
        merged = {name: np.concatenate([cols[name] for cols, _ in days]) for name in days[0][0]}
        encoded = _wire(merged).select(_row().alias("row"))["row"]
        # row i begins at starts[i]; starts[-1] is one past the end (as if a comma followed)
        starts = np.r_[0, np.cumsum(encoded.str.len_bytes().to_numpy().astype(np.int64) + 1)]
        rows = encoded.str.join(",").item().encode()
        out, first = [], 0
        for (cols, planted), n in zip(days, counts):
            lo, hi = starts[first], starts[first + n]
            out.append(cls(cols["t"], rows[lo:hi - 1] if n else b"", starts[first:first + n + 1] - lo if n else np.zeros(1, dtype=np.int64),
                           planted))
            first += n
        return out

    @property
    def size(self) -> int:
        return len(self.rows) + 16 * len(self.t)

    def between(self, lo: int, hi: int) -> tuple["StoredDay", int, int]:
        """(self, first row, end row) of the rows with lo <= t < hi."""
        import numpy as np

        a, b = np.searchsorted(self.t, [lo, hi], side="left")
        return self, int(a), int(b)


@dataclass(frozen=True)
class WireRows:
    """The rows a request asks for: pieces (a stored day, first row, end row), in time order."""

    pieces: list

    @property
    def height(self) -> int:
        return sum(b - a for _, a, b in self.pieces)

    def page(self, offset: int, size: int) -> bytes:
        """The JSON array of rows [offset, offset + size): slices of the stored bytes, joined."""
        out = []
        for day, a, b in self.pieces:
            if offset >= b - a:
                offset -= b - a
                continue
            lo = a + offset
            hi = min(b, lo + size)
            out.append(day.rows[day.starts[lo]:day.starts[hi] - 1])
            offset, size = 0, size - (hi - lo)
            if size <= 0:
                break
        return b"[" + b",".join(out) + b"]"


@functools.lru_cache(maxsize=1)
def _rules():
    from rules.trajectory.config import load

    return load()


def _chance(seed: int, *parts) -> float:
    digest = hashlib.sha256("|".join(map(str, (seed, *parts))).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


@dataclass
class SimulatedPlatform:
    vehicles: dict[str, str]  # plate -> vehicle class
    seed: int = 1
    token: str = "sim-token"
    faults: Faults = Faults()
    plant_rate: float = 0.15
    plant_rate_for: object = None  # optional (plate, day) -> share of vehicle-days with a violation
    outage: int | None = None  # set (e.g. 503): every request is answered with it: the platform is down
    forced: dict = field(default_factory=dict)  # fault name -> plates always hit by it (tests)
    _attempts: dict = field(default_factory=dict)
    _days: dict = field(default_factory=dict)
    _bytes: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _pending: set = field(default_factory=set)  # vehicle-days requests wait for, generated in the next batch
    _generating: threading.Lock = field(default_factory=threading.Lock)

    def plants(self, plate: str, day: dt.date) -> list[str]:
        """Which violations this vehicle-day carries (deterministic)."""
        rate = self.plant_rate_for(plate, day) if self.plant_rate_for else self.plant_rate
        if _chance(self.seed, plate, day, "plant") >= rate:
            return []
        cls = self.vehicles.get(plate, "other")
        allowed = [p for p in PLANTS if (p != "night_overspeed" or cls in PASSENGER) and (p != "early_morning" or cls == "coach")]
        return [allowed[int(_chance(self.seed, plate, day, "which") * len(allowed))]]

    def depot(self, plate: str) -> tuple[float, float]:
        """Where the vehicle parks between trips (deterministic per plate)."""
        return 30.25 + 0.4 * (_chance(self.seed, plate, "lat") - 0.5), 120.15 + 0.4 * (_chance(self.seed, plate, "lon") - 0.5)

    def fault(self, name: str, plate: str, day: dt.date) -> bool:
        return plate in self.forced.get(name, ()) or _chance(self.seed, plate, day, name) < getattr(self.faults, name)

    def _day(self, plate: str, day: dt.date) -> StoredDay:
        """The vehicle-day as stored (StoredDay), generated once per vehicle-day and kept
        (bounded), as a platform keeps what terminals sent."""
        return self._stored([(plate, day)])[0]

    def _stored(self, keys: list[tuple[str, dt.date]]) -> list[StoredDay]:
        """These vehicle-days as stored. Those not stored yet are generated together with every
        other day a concurrent request is waiting for (one batch: generating and encoding many
        days at once costs a fraction of doing them one by one)."""
        found = [self._days.get(key) for key in keys]
        missing = [key for key, day in zip(keys, found) if day is None]
        if missing:
            with self._lock:
                self._pending.update(missing)
            with self._generating:  # whoever gets here first generates what everyone waits for
                if any(key not in self._days for key in missing):
                    # requests come in bursts (a client asks for many vehicles at once): let the
                    # burst arrive, the requests behind this one queue their days meanwhile
                    time.sleep(GATHER_S)
                    with self._lock:
                        todo = [key for key in self._pending if key not in self._days]
                        self._pending.clear()
                    if todo:
                        self._generate(todo)
            found = [day if day is not None else self._days.get(key) or self._generate([key])[0] for key, day in zip(keys, found)]
        return found

    def _generate(self, keys: list[tuple[str, dt.date]]) -> list[StoredDay]:
        import numpy as np

        plants = [self.plants(plate, day) for plate, day in keys]
        frame, planted, bounds = simulated_vehicle_days(self.seed, [(plate, day, self.vehicles[plate], p)
                                                                    for (plate, day), p in zip(keys, plants)], rules=_rules())
        every = {"t": frame["time"].dt.epoch("us").to_numpy(), "lat": frame["lat"].to_numpy(), "lon": frame["lon"].to_numpy(),
                 "speed_kmh": frame["speed_kmh"].to_numpy(), "heading": frame["heading"].to_numpy(),
                 "status": frame["status"].to_numpy().astype(np.int64), "alarm": frame["alarm"].to_numpy().astype(np.int64)}
        days = []
        for i, ((plate, day), p) in enumerate(zip(keys, plants)):
            cols = {name: col[bounds[i]:bounds[i + 1]] for name, col in every.items()}
            if "signal_gap" not in p:  # two trips a day: see AFTERNOON
                local_s = (cols["t"] // 1_000_000 + 8 * 3600) % 86400
                keep = (local_s < AFTERNOON[0]) | (local_s >= AFTERNOON[1])
                cols = {name: col[keep] for name, col in cols.items()}
            cols = _round_trips(cols, self.depot(plate))
            if self.fault("cut_off", plate, day):
                moving = np.flatnonzero(cols["speed_kmh"] > 5)
                keep = cols["t"] <= cols["t"][moving[len(moving) // 3]]
                cols = {name: col[keep] for name, col in cols.items()}
            days.append((cols, planted[i]))
        stored = StoredDay.many(days)
        with self._lock:
            for key, day in zip(keys, stored):
                if self._bytes > CACHE_BYTES:  # bounded: the demo runs ~100 days of a few hundred vehicles
                    self._days.clear()
                    self._bytes = 0
                self._days[key] = day
                self._bytes += day.size
        return stored

    def warm(self, days: list[dt.date], plates: list[str] | None = None) -> None:
        """Generate these vehicles' days now (a real platform has them stored before anyone asks)."""
        for day in days:
            self._stored([(plate, day) for plate in (self.vehicles if plates is None else plates)])

    def positions(self, plate: str, start: dt.datetime, end: dt.datetime) -> WireRows:
        """The rows of the positions in [start, end) (the API's JSON, already encoded)."""
        days = []
        day = start.astimezone(LOCAL).date()
        lo, hi = int(start.timestamp() * 1e6), int(end.timestamp() * 1e6)
        while dt.datetime.combine(day, dt.time(), tzinfo=LOCAL) < end:
            if not self.fault("offline", plate, day):
                days.append((plate, day))
            day += dt.timedelta(days=1)
        return WireRows([stored.between(lo, hi) for stored in self._stored(days)])

    def planted(self, plate: str, day: dt.date) -> list[dict]:
        if plate not in self.vehicles or self.fault("offline", plate, day):
            return []
        return [{"rule": p.rule, "start": p.start.isoformat(), "end": p.end.isoformat()} for p in self._day(plate, day).planted]

    def first_attempt(self, key) -> bool:
        with self._lock:
            n = self._attempts.get(key, 0)
            self._attempts[key] = n + 1
            return n == 0


def _handler(platform: SimulatedPlatform):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # quiet: tests and the demo read results, not access logs
            pass

        def _send(self, status: int, body: bytes, ctype: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _json(self, status: int, data) -> None:
            self._send(status, json.dumps(data, ensure_ascii=False).encode())

        def do_GET(self):  # noqa: N802 - http.server's name
            try:
                self._get()
            except Exception as exc:  # a simulator bug must look like a platform failure, not hang
                self._json(500, {"error": f"simulator error: {type(exc).__name__}"})

        def _get(self):
            url = urlparse(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            if url.path == "/sim/planted":
                day = dt.date.fromisoformat(query["day"])
                return self._json(200, platform.planted(query["vehicle"], day))
            parts = url.path.strip("/").split("/")
            if len(parts) != 5 or parts[:3] != ["api", "v1", "vehicles"] or parts[4] != "positions":
                return self._json(404, {"error": "not found"})
            if platform.outage:
                return self._json(platform.outage, {"error": "simulated outage"})
            if self.headers.get("Authorization") != f"Bearer {platform.token}":
                return self._json(401, {"error": "bad token"})
            plate = unquote(parts[3])
            try:
                start = dt.datetime.fromisoformat(query["start"])
                end = dt.datetime.fromisoformat(query["end"])
                size = max(1, min(int(query.get("page_size", 1000)), 5000))
                offset = int(query.get("page_token") or 0)
            except (KeyError, ValueError):
                return self._json(400, {"error": "start and end are ISO-8601 times; page_size and page_token integers"})
            day = (start + (end - start) / 2).astimezone(LOCAL).date()  # the day a request is about
            if plate not in platform.vehicles or platform.fault("missing", plate, day):
                return self._json(404, {"error": "unknown vehicle"})
            if platform.fault("slow", plate, day):
                time.sleep(platform.faults.slow_seconds)
            if platform.fault("error_500", plate, f"{day}|{offset}") and platform.first_attempt((plate, str(day), offset)):
                return self._json(500, {"error": "simulated failure"})
            if platform.fault("garbage", plate, day):
                return self._send(200, b"<html>gateway says hello</html>", "text/html")
            rows = platform.positions(plate, start, end)
            if offset > 0 and platform.fault("truncated", plate, day) and platform.first_attempt((plate, str(day), "paging")):
                return self._json(404, {"error": "page token expired"})
            nxt = str(offset + size) if offset + size < rows.height else None
            head = json.dumps({"vehicle": plate, "next_page_token": nxt}, ensure_ascii=False)[:-1] + ', "positions": '
            return self._send(200, b"".join((head.encode(), rows.page(offset, size), b"}")))

    return Handler


@dataclass
class SimulatorHandle:
    url: str
    platform: SimulatedPlatform
    server: ThreadingHTTPServer
    thread: threading.Thread

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


class _SharedPortServer(ThreadingHTTPServer):
    allow_reuse_port = True  # several simulator processes answer on one port (the kernel spreads connections)


def start_simulator(vehicles: dict[str, str], *, seed: int = 1, token: str = "sim-token", faults: Faults = Faults(),
                    plant_rate: float = 0.15, plant_rate_for=None, host: str = "127.0.0.1", port: int = 0,
                    shared_port: bool = False) -> SimulatorHandle:
    """Serve a SIMULATED platform in a background thread; port 0 picks a free port."""
    platform = SimulatedPlatform(vehicles, seed, token, faults, plant_rate, plant_rate_for)
    server = (_SharedPortServer if shared_port else ThreadingHTTPServer)((host, port), _handler(platform))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="simulated-platform", daemon=True)
    thread.start()
    return SimulatorHandle(f"http://{host}:{server.server_address[1]}", platform, server, thread)


@dataclass
class PlantRates:
    """Share of a vehicle's days with a planted violation by its company's profile: diligent
    companies improve fast, late ones slowly, negligent ones not at all (the demo's drill)."""

    profile_of_plate: dict
    start: dt.date

    def __call__(self, plate: str, day: dt.date) -> float:
        kind = self.profile_of_plate.get(plate)
        if kind is None:
            return 0.1
        weeks = (day - self.start).days / 7
        return {"diligent": max(0.01, 0.15 - 0.03 * weeks), "late": max(0.05, 0.2 - 0.015 * weeks), "negligent": 0.25}[kind]


class SimulatorProcess:
    """The SIMULATED platform in its own process (as a real platform is), so the client's work and
    the platform's run on different cores. Started as `python -m listing.simulation.platform CONFIG
    [PORT]`; with `workers` > 1, that many processes answer on one port (SO_REUSEPORT), each
    generating what it is asked (the same deterministic days), so generation uses every core."""

    def __init__(self, vehicles: dict[str, str], *, seed: int = 1, token: str = "sim-token",
                 plant_rates: PlantRates | None = None, warm: list[dt.date] | None = None, warm_plates: list[str] | None = None,
                 workers: int = 1):
        import os
        import subprocess
        import sys
        import tempfile

        config = {"vehicles": vehicles, "seed": seed, "token": token,
                  "plant_rates": None if plant_rates is None else {"profile_of_plate": plant_rates.profile_of_plate,
                                                                   "start": plant_rates.start.isoformat()},
                  "warm": [d.isoformat() for d in warm or []], "warm_plates": warm_plates}
        fd, self._config = tempfile.mkstemp(prefix="guapai-sim-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(config, fh, ensure_ascii=False)
        root = str(Path(__file__).resolve().parents[2])
        env = {**os.environ, "PYTHONPATH": root + os.pathsep + os.environ.get("PYTHONPATH", "")}
        def start(port: int):
            return subprocess.Popen([sys.executable, "-m", "listing.simulation.platform", self._config, str(port)], cwd=root, env=env,
                                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)

        self.processes = [start(0)]
        self.process = self.processes[0]
        self.url = self.process.stdout.readline().strip()
        if self.url.startswith("http"):
            self.processes += [start(int(self.url.rsplit(":", 1)[1])) for _ in range(workers - 1)]
        if not self.url.startswith("http") or any(not p.stdout.readline().startswith("http") for p in self.processes[1:]):
            self.stop()
            raise RuntimeError("the simulated platform did not start")
        self.platform = SimulatedPlatform(vehicles, seed, token, Faults(), 0.15, plant_rates)  # same model, for checks

    def stop(self) -> None:
        import os

        for process in self.processes:
            process.kill()
            process.wait(timeout=10)
        if os.path.exists(self._config):
            os.remove(self._config)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


if __name__ == "__main__":
    import sys

    cfg = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    rates = cfg.get("plant_rates")
    handle = start_simulator(cfg["vehicles"], seed=cfg["seed"], token=cfg["token"], port=int(sys.argv[2]) if len(sys.argv) > 2 else 0,
                             plant_rate_for=PlantRates(rates["profile_of_plate"], dt.date.fromisoformat(rates["start"])) if rates else None,
                             shared_port=True)
    handle.platform.warm([dt.date.fromisoformat(d) for d in cfg.get("warm", [])], cfg.get("warm_plates"))  # before saying where it is
    print(handle.url, flush=True)
    handle.thread.join()
