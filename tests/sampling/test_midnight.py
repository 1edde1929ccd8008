"""Across midnight (the sampling side): the job fetches the 24 h before the sampled day and reports
the findings whose breach moment lies inside the day, with the whole episode as evidence. A
vehicle sampled only on the second day of a 21:00-03:00 drive still gets its fatigue finding;
sampled on both days, the finding is reported once."""
import datetime as dt

import httpx
import numpy as np
import pytest
from sqlmodel import select

from jobs.definitions import JOBS
from jobs.scheduler import run_period
from listing.services.notifications import LogChannel
from listing.settings import Settings
from listing.store import tables
from tests.scenario import listed_company, local

L = dt.timezone(dt.timedelta(hours=8))
DAY1, DAY2 = dt.date(2026, 11, 22), dt.date(2026, 11, 23)


def night_drive() -> list[dict]:
    """Parked until 21:00 on DAY1, driving east at 60 km/h until 03:00 on DAY2, parked after."""
    t0 = dt.datetime.combine(DAY1, dt.time(12), tzinfo=L).timestamp()
    t = np.arange(t0, t0 + 30 * 3600, 30.0)
    drive = (t >= t0 + 9 * 3600) & (t < t0 + 15 * 3600)
    speed = np.where(drive, 60.0, 0.0)
    east_m = np.cumsum(np.where(drive, 500.0, 0.0))
    lon = 120.0 + east_m / (111_320 * np.cos(np.radians(30.0)))
    return [{"time": dt.datetime.fromtimestamp(x, L).isoformat(), "lat": 30.0, "lon": float(o), "speed_kmh": float(v), "status": 3}
            for x, o, v in zip(t, lon, speed)]


def platform(positions: list[dict]) -> httpx.MockTransport:
    stamps = np.array([dt.datetime.fromisoformat(p["time"]).timestamp() for p in positions])
    asked = []

    def handler(request: httpx.Request) -> httpx.Response:
        start = dt.datetime.fromisoformat(request.url.params["start"]).timestamp()
        end = dt.datetime.fromisoformat(request.url.params["end"]).timestamp()
        asked.append((start, end))
        rows = [p for p, x in zip(positions, stamps) if start <= x < end]
        return httpx.Response(200, json={"vehicle": "x", "positions": rows, "next_page_token": None})

    transport = httpx.MockTransport(handler)
    transport.asked = asked
    return transport


def fatigue_findings(store):
    with store.session() as s:
        return [f for f in s.exec(select(tables.Finding)).all() if f.rule.startswith("fatigue")]


@pytest.mark.parametrize("days", [[DAY2], [DAY1, DAY2], [DAY2, DAY1]], ids=["second-day-only", "both", "both-reversed"])
def test_a_drive_from_21_to_03_is_the_second_days_fatigue_finding_reported_once(people, days):
    listed_company(people, local(2026, 11, 1), vehicles=1)  # one vehicle: sampled every day
    settings = Settings(platform_url="http://platform.test", platform_token="t", sampling_secret="s")
    transport = platform(night_drive())
    for day in days:
        out = run_period(people, settings, LogChannel(), JOBS["sampling"], str(day), platform_transport=transport)
        assert out.status == "done", out.error
    day_start = dt.datetime.combine(DAY2, dt.time(), tzinfo=L).timestamp()
    assert min(start for start, _ in transport.asked) <= day_start - 24 * 3600  # a whole day of context before
    (finding,) = fatigue_findings(people)
    assert (finding.rule, finding.day) == ("fatigue_continuous", DAY2)
    start = finding.start if finding.start.tzinfo else finding.start.replace(tzinfo=dt.timezone.utc)
    assert start.astimezone(L) <= dt.datetime.combine(DAY1, dt.time(21, 1), tzinfo=L)  # the whole episode, from 21:00
    breach = dt.datetime.fromisoformat(finding.evidence["breach"]).astimezone(L)
    assert dt.datetime.combine(DAY2, dt.time(0, 59), tzinfo=L) <= breach <= dt.datetime.combine(DAY2, dt.time(1, 1), tzinfo=L)
    with people.session() as s:
        assert {x.status for x in s.exec(select(tables.Sample)).all()} == {"scanned"}
