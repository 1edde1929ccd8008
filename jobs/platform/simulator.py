"""A SIMULATED vehicle-monitoring platform serving the API of docs/platform-api.md on loopback,
for the demo and the tests. Positions come from rules.trajectory.synthetic, deterministically
from (seed, plate, day), with violations planted in some vehicle-days and optional faults:
slow responses, 500s, truncated paging, unknown vehicles, garbage bodies, terminals offline.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlparse

from rules.trajectory.synthetic import PLANTS, simulated_vehicle_day

LOCAL = dt.timezone(dt.timedelta(hours=8))
PASSENGER = {"coach", "tourist_coach", "bus", "taxi"}


@dataclass(frozen=True)
class Faults:
    """Shares of vehicle-days (or requests) hit by each fault; all 0 by default."""

    slow: float = 0.0  # a response delayed by slow_seconds
    slow_seconds: float = 2.0
    error_500: float = 0.0  # a request answered 500 once (a retry succeeds)
    truncated: float = 0.0  # paging breaks off: the next page is gone (404)
    missing: float = 0.0  # the platform does not know the vehicle (404)
    garbage: float = 0.0  # 200 with a body that is not the API's JSON, every time
    offline: float = 0.0  # the terminal sent nothing that day

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
    _attempts: dict = field(default_factory=dict)
    _days: dict = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def plants(self, plate: str, day: dt.date) -> list[str]:
        """Which violations this vehicle-day carries (deterministic)."""
        if _chance(self.seed, plate, day, "plant") >= self.plant_rate:
            return []
        cls = self.vehicles.get(plate, "other")
        allowed = [p for p in PLANTS if (p != "night_overspeed" or cls in PASSENGER) and (p != "early_morning" or cls == "coach")]
        return [allowed[int(_chance(self.seed, plate, day, "which") * len(allowed))]]

    def fault(self, name: str, plate: str, day: dt.date) -> bool:
        return _chance(self.seed, plate, day, name) < getattr(self.faults, name)

    def _day(self, plate: str, day: dt.date):
        key = (plate, day)
        cached = self._days.get(key)
        if cached is not None:
            return cached
        frame, planted = simulated_vehicle_day(self.seed, plate, day, self.vehicles[plate], self.plants(plate, day))
        rows = [{"time": t.astimezone(LOCAL).isoformat(), "lat": round(la, 6), "lon": round(lo, 6), "speed_kmh": sp,
                 "heading": round(h, 1), "status": int(st), "alarm": int(al)}
                for t, la, lo, sp, h, st, al in frame.select("time", "lat", "lon", "speed_kmh", "heading", "status", "alarm").iter_rows()]
        with self._lock:
            if len(self._days) > 20_000:  # bounded: the demo runs ~100 days of a few hundred vehicles
                self._days.clear()
            self._days[key] = (rows, planted)
        return rows, planted

    def positions(self, plate: str, start: dt.datetime, end: dt.datetime) -> list[dict]:
        out = []
        day = start.astimezone(LOCAL).date()
        while dt.datetime.combine(day, dt.time(), tzinfo=LOCAL) < end:
            if not self.fault("offline", plate, day):
                rows, _ = self._day(plate, day)
                out.extend(r for r in rows if start <= dt.datetime.fromisoformat(r["time"]) < end)
            day += dt.timedelta(days=1)
        return out

    def planted(self, plate: str, day: dt.date) -> list[dict]:
        if plate not in self.vehicles or self.fault("offline", plate, day):
            return []
        return [{"rule": p.rule, "start": p.start.isoformat(), "end": p.end.isoformat()} for p in self._day(plate, day)[1]]

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
            if offset > 0 and platform.fault("truncated", plate, day):
                return self._json(404, {"error": "page token expired"})
            page = rows[offset:offset + size]
            nxt = str(offset + size) if offset + size < len(rows) else None
            return self._json(200, {"vehicle": plate, "positions": page, "next_page_token": nxt})

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


def start_simulator(vehicles: dict[str, str], *, seed: int = 1, token: str = "sim-token", faults: Faults = Faults(),
                    plant_rate: float = 0.15, host: str = "127.0.0.1", port: int = 0) -> SimulatorHandle:
    """Serve a SIMULATED platform in a background thread; port 0 picks a free port."""
    platform = SimulatedPlatform(vehicles, seed, token, faults, plant_rate)
    server = ThreadingHTTPServer((host, port), _handler(platform))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="simulated-platform", daemon=True)
    thread.start()
    return SimulatorHandle(f"http://{host}:{server.server_address[1]}", platform, server, thread)
