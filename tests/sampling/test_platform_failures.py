"""A platform failure is never the company's fault: a day the platform is down is not done (no
finding, every vehicle-day waiting), the scheduler retries it with backoff and says so after the
configured hours, a 401/403 stops the run with one line about the token, and when the platform is
back the run completes with the real answers without changing anything already stored."""
import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import httpx
from sqlmodel import select

from listing.simulation.platform import start_simulator
from jobs.definitions import JOBS
from jobs.scheduler import run_period, tick
from listing.services.notifications import LogChannel
from listing.settings import Settings
from listing.store import tables
from tests.sampling.test_job import DAY, fleet, samples_and_findings
from tests.scenario import found_and_expected, listed_company, local

ROOT = Path(__file__).resolve().parents[2]


def settings_for(url, **kw):
    return Settings(platform_url=url, platform_token="sim-token", sampling_secret="test-secret", catch_up_days=0, **kw)


def snapshot(store):
    """Everything stored about the day's samples and findings."""
    samples, findings = samples_and_findings(store)
    return ({s.id: (s.status, s.points, s.coverage, s.scanned_at, s.rank, s.vehicle_id) for s, _ in samples},
            {f.id: (f.sample_id, f.rule, f.start, f.end, f.evidence) for f, _ in findings})


def run(store, settings, channel=None, transport=None):
    return run_period(store, settings, channel or LogChannel(), JOBS["sampling"], str(DAY), platform_transport=transport)


def test_a_platform_down_for_a_whole_day_then_back(people):
    _, vehicles = fleet(people)
    with start_simulator(vehicles, seed=11, plant_rate=0.5) as sim:
        settings = settings_for(sim.url, sampling_notice_hours=6)
        channel = LogChannel()
        sim.platform.outage = 503
        first = run(people, settings, channel)
        assert first.status == "failed" and "not done" in first.error and "6 of 6" in first.error
        samples, findings = samples_and_findings(people)
        assert findings == [] and {s.status for s, _ in samples} == {"selected"}  # nothing held against anyone
        assert all(s.attempts == 1 and "503" in s.last_error for s, _ in samples)
        assert channel.sent == []  # not yet overdue
        with people.session() as s:
            (job,) = s.exec(select(tables.JobRun)).all()
        assert job.state == "failed" and "not done" in job.error

        # the whole day down: each retry adds an attempt; past notice_hours a notice goes out, once
        late = Settings(**{**settings.__dict__, "sampling_notice_hours": 0.0})
        for _ in range(2):
            assert run(people, late, channel).status == "failed"
        assert [key for key, _, _ in channel.sent] == ["sampling-waiting:2026-11-23"]
        assert "6 of 6" in channel.sent[0][2] or "6/6" in channel.sent[0][2]
        assert {s.attempts for s, _ in samples_and_findings(people)[0]} == {3}

        sim.platform.outage = None  # back
        done = run(people, settings, channel)
        assert done.status == "done", done.error
        samples, findings = samples_and_findings(people)
        assert {s.status for s, _ in samples} == {"scanned"}
        found, planted = found_and_expected(samples, findings, sim.platform, DAY)
        assert found == planted and sum(planted.values()) > 0
        assert not any(f.rule == "no_data" for f, _ in findings)
        assert run(people, settings, channel).status == "skipped"


def test_retried_days_change_nothing_already_stored(people):
    """Half the vehicles answer, the rest meet a dead gateway; the retry fills in only those."""
    _, vehicles = fleet(people)
    with start_simulator(vehicles, seed=11, plant_rate=0.5) as sim:
        settings = settings_for(sim.url)
        real = httpx.HTTPTransport()
        down = set()

        def flaky(request: httpx.Request) -> httpx.Response:
            if any(plate in request.url.path for plate in down):
                raise httpx.ConnectError("gateway down")
            return real.handle_request(request)

        down.update(vehicles)  # every vehicle down first: the day is drawn, nothing answered
        assert run(people, settings, transport=httpx.MockTransport(flaky)).status == "failed"
        with people.session() as s:
            sampled = sorted(s.exec(select(tables.Vehicle.plate).join(tables.Sample, tables.Sample.vehicle_id == tables.Vehicle.id)).all())
        down.clear()
        down.update(sampled[::2])  # then half of them answer
        assert run(people, settings, transport=httpx.MockTransport(flaky)).status == "failed"
        before = snapshot(people)
        answered = {i: row for i, row in before[0].items() if row[0] != "selected"}
        assert 0 < len(answered) < len(before[0])
        down.clear()
        assert run(people, settings, transport=httpx.MockTransport(flaky)).status == "done"
        after = snapshot(people)
        assert {i: after[0][i] for i in answered} == answered  # answered vehicle-days untouched
        assert {i: row for i, row in after[1].items() if i in before[1]} == before[1]  # stored findings untouched
        assert {row[0] for row in after[0].values()} == {"scanned"}


def test_a_wrong_platform_url_holds_nothing_against_anyone(people):
    """Every vehicle answered 404 (the URL points at a gateway path that does not exist): the run
    is not done, says which setting to check, and no vehicle gets a not_on_platform finding."""
    _, vehicles = fleet(people)
    with start_simulator(vehicles, seed=11) as sim:
        real = httpx.HTTPTransport()

        def wrong_path(request: httpx.Request) -> httpx.Response:
            return real.handle_request(httpx.Request("GET", str(request.url).replace("/api/v1/", "/api/v2/"),
                                                     headers=request.headers))

        outcome = run(people, settings_for(sim.url), transport=httpx.MockTransport(wrong_path))
        assert outcome.status == "failed" and "GUAPAI_PLATFORM_URL" in outcome.error
        samples, findings = samples_and_findings(people)
        assert findings == [] and samples and {s.status for s, _ in samples} == {"selected"}
        assert all("GUAPAI_PLATFORM_URL" in s.last_error for s, _ in samples)
        assert run(people, settings_for(sim.url)).status == "done"  # the URL fixed: real answers
        assert {s.status for s, _ in samples_and_findings(people)[0]} == {"scanned"}


def test_the_scheduler_retries_a_day_the_platform_left_unanswered_with_backoff(people):
    _, vehicles = fleet(people, companies=1)
    with start_simulator(vehicles, seed=11) as sim:
        # one day in question: the catch-up to the listing's confirmation is another test's subject
        settings = settings_for(sim.url, sampling_retry_minutes=30, sampling_retry_max_minutes=120, sampling_catch_up_days=0)
        business = dt.datetime(2026, 11, 24, 3, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))

        def clock():
            return business

        sim.platform.outage = 502
        assert [o.status for o in tick(people, settings, LogChannel(), clock=clock, jobs=["sampling"])] == ["failed"]
        assert tick(people, settings, LogChannel(), clock=clock, jobs=["sampling"]) == []  # within the 30 min backoff

        def set_finished(delta):
            with people.session() as s:
                (job,) = s.exec(select(tables.JobRun)).all()
                job.finished_at = dt.datetime.now(dt.timezone.utc) - delta
                s.add(job)

        set_finished(dt.timedelta(minutes=31))
        assert [o.status for o in tick(people, settings, LogChannel(), clock=clock, jobs=["sampling"])] == ["failed"]
        set_finished(dt.timedelta(minutes=31))  # second failure: the next wait is 60 min
        assert tick(people, settings, LogChannel(), clock=clock, jobs=["sampling"]) == []
        set_finished(dt.timedelta(minutes=61))
        sim.platform.outage = None
        weeks_later = business + dt.timedelta(days=20)  # far past catch_up_days: a waiting day is not forgotten
        outcomes = tick(people, settings, LogChannel(), clock=lambda: weeks_later, jobs=["sampling"])
        assert [(o.period, o.status) for o in outcomes][:1] == [(str(DAY), "done")]
        with people.session() as s:
            job = s.exec(select(tables.JobRun).where(tables.JobRun.period == str(DAY))).one()
        assert (job.state, job.attempts) == ("done", 3)


def test_a_refused_token_stops_the_run_with_one_line_and_holds_nothing_against_anyone(sqlite_url, tmp_path):
    from listing.services.users import add_user
    from listing.store.db import open_store
    from tests.conftest import NOW

    store = open_store(sqlite_url)
    with store.session() as s:
        add_user(s, None, "admin", "admin", "x", "*", now=NOW)
        add_user(s, "admin", "reviewer", "reviewer", "x", "*", now=NOW)
        add_user(s, "admin", "police", "police", "x", "*", now=NOW)
    _, vehicles = fleet(store, companies=2)
    with start_simulator(vehicles, seed=2) as sim:
        env = {**os.environ, "GUAPAI_PLATFORM_URL": sim.url, "GUAPAI_PLATFORM_TOKEN": "expired-token-value",
               "GUAPAI_SAMPLING_SECRET": "test-secret", "GUAPAI_CONFIG": str(tmp_path / "none.toml"), "GUAPAI_LANG": "en"}
        cmd = [sys.executable, "main.py", "--db", sqlite_url, "--as", "police", "jobs", "run", "sampling", "--date", str(DAY)]
        out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        lines = [line for line in out.stderr.splitlines() if line.strip()]
        assert out.returncode != 0 and len(lines) == 1, out.stderr
        assert "token" in lines[0] and "GUAPAI_PLATFORM_TOKEN" in lines[0] and "expired-token-value" not in out.stderr
        assert "Traceback" not in out.stderr and "err." not in out.stderr
        samples, findings = samples_and_findings(store)
        assert findings == [] and {s.status for s, _ in samples} == {"selected"}
        assert all("token" in s.last_error for s, _ in samples)
        env["GUAPAI_PLATFORM_TOKEN"] = "sim-token"  # fixed: the same day now completes
        with store.engine.begin() as conn:
            conn.exec_driver_sql("UPDATE job_run SET finished_at = '2000-01-01 00:00:00.000000'")
        again = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert again.returncode == 0, again.stderr
        assert {s.status for s, _ in samples_and_findings(store)[0]} == {"scanned"}


def test_a_day_retried_with_a_listed_company_without_vehicles_completes(people):
    """A listed company with no active vehicle that day has a draw with nothing chosen; retrying
    the day (another company's vehicles waited for the platform) keeps that draw, not a second one."""
    listed_company(people, local(2026, 11, 1), vehicles=0)
    listed_company(people, local(2026, 11, 1), vehicles=5)
    down = {"now": True}

    def platform(request: httpx.Request) -> httpx.Response:
        if down["now"]:
            return httpx.Response(503)
        return httpx.Response(200, json={"positions": [], "next_page_token": None})  # answered: no position

    transport = httpx.MockTransport(platform)
    settings = settings_for("http://platform.test")
    assert run(people, settings, transport=transport).status == "failed"
    down["now"] = False
    again = run(people, settings, transport=transport)
    assert again.status == "done", again.error
    with people.session() as s:
        draws = s.exec(select(tables.SampleDraw.company_id, tables.SampleDraw.chosen)).all()
        statuses = s.exec(select(tables.Sample.status)).all()
    assert len(draws) == 2 and sorted(len(chosen) for _, chosen in draws) == [0, 1]
    assert statuses == ["no_data"]
