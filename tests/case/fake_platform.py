"""A small fake of the vehicle-monitoring platform (docs/platform-api.md) for the case machine,
behind an `httpx.MockTransport`: the machine switches it between up, down (connection refused,
timeouts, 503, or 503 for some vehicles only, so a day is left half answered) and refusing our
token (401/403), and it knows the truth of every vehicle-day.

What a vehicle did on a day is fixed by a keyed hash of (salt, plate, day), as a real platform's
stored data is fixed: it drove (one trip, ~40 positions), drove too fast (an overspeed the
engine finds), sent nothing (a known vehicle with no positions: the platform's real "no data"
answer), or its terminal was cut off in the middle of the trip (partial data). Few positions a
day keep the machine fast. Every request is logged with the mode the platform was in, so the
machine can check which vehicle-days ever got a real answer. Vehicles are known by their names
in `names` (the same in every replay of an example), not by plates.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import threading
from urllib.parse import unquote

import httpx

LOCAL = dt.timezone(dt.timedelta(hours=8))
UP = "up"
DOWN = ("connect_error", "timeout", "http_503", "some_503")  # no answer: the vehicle-day waits
REFUSED = ("http_401", "http_403")  # our token: the run stops, every vehicle-day waits
MODES = (UP, *DOWN, *REFUSED)
TRUTHS = (("drove", 0.55), ("speeding", 0.15), ("silent", 0.15), ("cut_off", 0.15))
COMPLETE = ("drove", "speeding")  # the days whose answer is complete data (a clean vehicle-day)


class FakePlatform:
    def __init__(self, salt: int = 0, names: dict[str, str] | None = None) -> None:
        self.salt = salt
        self.names = names or {}
        self.mode = UP
        self.outages = 0  # some_503: which vehicles are unreachable changes with each outage
        self.log: list[tuple[str, dt.date, bool]] = []  # (plate, day asked for, answered) of every request
        self._lock = threading.Lock()
        self.transport = httpx.MockTransport(self._handle)

    def _chance(self, *parts) -> float:
        digest = hashlib.sha256("|".join(map(str, (self.salt, *parts))).encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2**64

    def truth(self, plate: str, day: dt.date) -> str:
        x, edge = self._chance(self.names.get(plate, plate), day), 0.0
        for name, share in TRUTHS:
            edge += share
            if x < edge:
                return name
        return TRUTHS[0][0]

    def answered(self) -> set[tuple[str, dt.date]]:
        """The vehicle-days the platform gave a real answer for (asked while up)."""
        with self._lock:
            return {(plate, day) for plate, day, real in self.log if real}

    def _handle(self, request: httpx.Request) -> httpx.Response:
        plate = unquote(request.url.path.split("/")[-2])
        start = dt.datetime.fromisoformat(request.url.params["start"])
        end = dt.datetime.fromisoformat(request.url.params["end"])
        day = (end - dt.timedelta(microseconds=1)).astimezone(LOCAL).date()  # the day asked for (after its context)
        mode = self.mode
        if mode == "some_503":
            mode = "http_503" if self._chance(self.names.get(plate, plate), day, "outage", self.outages) < 0.5 else UP
        with self._lock:
            self.log.append((plate, day, mode == UP))
        if mode == "connect_error":
            raise httpx.ConnectError("connection refused", request=request)
        if mode == "timeout":
            raise httpx.ReadTimeout("timed out", request=request)
        if mode.startswith("http_"):
            return httpx.Response(int(mode[5:]), request=request)
        positions = []
        day = start.astimezone(LOCAL).date()
        while dt.datetime.combine(day, dt.time(), tzinfo=LOCAL) < end:
            positions += [p for p in self._day(plate, day) if start <= p[0] < end]
            day += dt.timedelta(days=1)
        body = {"vehicle": plate, "next_page_token": None,
                "positions": [{"time": t.isoformat(), "lat": lat, "lon": 120.15, "speed_kmh": v, "heading": 0.0,
                               "status": 3, "alarm": 0} for t, lat, v in positions]}
        return httpx.Response(200, json=body, request=request)

    def _day(self, plate: str, day: dt.date) -> list[tuple[dt.datetime, float, float]]:
        """(time, lat, km/h): parked, a 30-minute morning trip with a fix a minute, parked."""
        truth = self.truth(plate, day)
        if truth == "silent":
            return []
        leave = dt.datetime.combine(day, dt.time(8), tzinfo=LOCAL)
        out = [(leave - dt.timedelta(seconds=30 * k), 30.2, 0.0) for k in (3, 2, 1)]
        lat = 30.2
        for minute in range(31):
            fast = truth == "speeding" and 10 <= minute <= 14  # 5 minutes at 130 km/h: an overspeed of a truck
            speed = 130.0 if fast else 40.0
            if minute:
                lat += speed / 60 / 111.0  # km in the minute, in degrees of latitude
            out.append((leave + dt.timedelta(minutes=minute), round(lat, 6), 0.0 if minute == 30 else speed))
            if truth == "cut_off" and minute == 12:
                return out  # the terminal stops reporting while the truck moves
        back = leave + dt.timedelta(minutes=30)
        out += [(back + dt.timedelta(seconds=30 * k), round(lat, 6), 0.0) for k in (1, 2, 3)]
        return out
