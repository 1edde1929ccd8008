"""The daily sampling job through the real client and the SIMULATED platform: planted
violations found with their drivers, reruns change nothing, faults never yield a clean
vehicle, a run killed half way completes on rerun without duplicates."""
import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlmodel import func, select

from listing.simulation.platform import Faults, start_simulator
from jobs.definitions import JOBS
from jobs.scheduler import run_period
from listing.services.notifications import LogChannel
from listing.settings import Settings
from listing.store import tables
from tests.scenario import drivers_on_duty, found_and_expected, listed_company, local

ROOT = Path(__file__).resolve().parents[2]
DAY = dt.date(2026, 11, 23)


def fleet(store, companies=3, vehicles=20):
    out = []
    for _ in range(companies):
        cid, lid, vids = listed_company(store, local(2026, 11, 1), vehicles=vehicles)
        drivers_on_duty(store, cid, vids)
        out.append(cid)
    with store.session() as s:
        return out, {p: c for p, c in s.exec(select(tables.Vehicle.plate, tables.Vehicle.vehicle_class)).all()}


def settings_for(url):
    return Settings(platform_url=url, platform_token="sim-token", sampling_secret="test-secret")


def samples_and_findings(store):
    with store.session() as s:
        samples = s.exec(select(tables.Sample, tables.Vehicle.plate).join(tables.Vehicle)).all()
        findings = s.exec(select(tables.Finding, tables.Vehicle.plate).join(tables.Vehicle)).all()
    return samples, findings


def test_sampling_finds_the_planted_violations_with_drivers_and_reruns_change_nothing(people):
    _, vehicles = fleet(people)
    with start_simulator(vehicles, seed=11, plant_rate=0.5) as sim:
        out = run_period(people, settings_for(sim.url), LogChannel(), JOBS["sampling"], str(DAY))
        assert out.status == "done" and out.result["selected"] == 3 * 2  # ceil(10% of 20) per company
        samples, findings = samples_and_findings(people)
        assert {s.status for s, _ in samples} == {"scanned"}
        got, planted = found_and_expected(samples, findings, sim.platform, DAY)
        assert got == planted and sum(planted.values()) > 0
        assert all(f.driver_id is not None for f, _ in findings)
        again = run_period(people, settings_for(sim.url), LogChannel(), JOBS["sampling"], str(DAY))
        assert again.status == "skipped"
        # even a forced second pass of the same work changes nothing
        from listing.services.sampling import run_day
        from jobs.definitions import JobContext

        run_day(JobContext(people, settings_for(sim.url), LogChannel(), local(2026, 11, 24, 3)), DAY)
        assert samples_and_findings(people)[1].__len__() == len(findings)


def test_faults_never_yield_a_clean_vehicle(people):
    """Every real answer is judged (unknown vehicle, no positions, cut off mid-drive), transient
    failures are retried away; nothing broken is ever `scanned`."""
    _, vehicles = fleet(people, companies=4, vehicles=30)
    faults = Faults(missing=0.2, offline=0.15, cut_off=0.2, truncated=0.3, error_500=0.3)
    with start_simulator(vehicles, seed=5, faults=faults) as sim:
        from listing.services.sampling import select_day

        select_day(people, settings_for(sim.url), DAY, now=local(2026, 11, 24, 3))  # the draw, to meet every case
        free = [plate for _, plate in samples_and_findings(people)[0]]
        judged = ("missing", "offline", "cut_off")  # the order the platform's answers take precedence
        for name in judged + ("truncated", "error_500"):
            # a plate no stronger fault hits by chance (plates depend on what ran before in the process);
            # where every plate left is hit by one, the faults met by chance are the test (asserted below)
            higher = judged[:judged.index(name)] if name in judged else judged
            plate = next((p for p in free if not any(sim.platform.fault(h, p, DAY) for h in higher)), None)
            if plate is not None:
                free.remove(plate)
                sim.platform.forced[name] = {plate}
        out = run_period(people, settings_for(sim.url), LogChannel(), JOBS["sampling"], str(DAY))
        assert out.status == "done", out.error
        samples, findings = samples_and_findings(people)
        data_findings = {plate: f for f, plate in findings if f.rule in ("no_data", "partial_data", "not_on_platform")}
        p = sim.platform
        expected = Counter()
        for sample, plate in samples:
            if p.fault("missing", plate, DAY):
                kind = ("not_on_platform", "not_on_platform")
            elif p.fault("offline", plate, DAY):
                kind = ("no_data", "no_data")
            elif p.fault("cut_off", plate, DAY):
                kind = ("partial", "partial_data")
                assert data_findings[plate].evidence["details"]["stops_while_moving"] is True
            else:
                kind = ("scanned", None)
                assert sample.points > 500
            expected[kind[0]] += 1
            assert (sample.status, data_findings[plate].rule if plate in data_findings else None) == kind
        assert set(expected) == {"not_on_platform", "no_data", "partial", "scanned"}  # every case was met


@pytest.mark.slow
def test_a_run_killed_half_way_completes_on_rerun_without_duplicates(sqlite_url, tmp_path):
    from listing.services.users import add_user
    from listing.store.db import open_store
    from tests.conftest import NOW

    store = open_store(sqlite_url)
    with store.session() as s:
        add_user(s, None, "admin", "admin", "x", "*", now=NOW)
        add_user(s, "admin", "reviewer", "reviewer", "x", "*", now=NOW)
        add_user(s, "admin", "police", "police", "x", "*", now=NOW)
    _, vehicles = fleet(store, companies=4, vehicles=40)
    with start_simulator(vehicles, seed=3, faults=Faults(slow=1.0, slow_seconds=0.15), plant_rate=0.5) as sim:
        (tmp_path / "guapai.toml").write_text("sampling_batch = 4\n")  # commit after every 4 vehicles
        env = {**os.environ, "GUAPAI_PLATFORM_URL": sim.url, "GUAPAI_PLATFORM_TOKEN": "sim-token",
               "GUAPAI_SAMPLING_SECRET": "test-secret", "GUAPAI_CONFIG": str(tmp_path / "guapai.toml"), "GUAPAI_LANG": "en"}
        cmd = [sys.executable, "main.py", "--db", sqlite_url, "--as", "police", "jobs", "run", "sampling", "--date", str(DAY)]
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.time() + 60
        while time.time() < deadline:  # kill once some, not all, vehicles are scanned
            with store.session() as s:
                scanned = s.exec(select(func.count()).select_from(tables.Sample).where(tables.Sample.status != "selected")).one()
            if scanned >= 1:
                break
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        with store.session() as s:
            before = s.exec(select(func.count()).select_from(tables.Sample).where(tables.Sample.status != "selected")).one()
            run = s.exec(select(tables.JobRun)).one()
        assert 1 <= before < 16 and run.state == "running"
        # the crashed run is stale once its heartbeat is old: the rerun takes it over
        with store.engine.begin() as conn:
            conn.exec_driver_sql("UPDATE job_run SET heartbeat_at = '2000-01-01 00:00:00.000000'")
        done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        samples, findings = samples_and_findings(store)
        assert len(samples) == 16 and {s.status for s, _ in samples} == {"scanned"}
        keys = [(f.sample_id, f.rule, f.start) for f, _ in findings]
        assert len(keys) == len(set(keys))
        found, planted = found_and_expected(samples, findings, sim.platform, DAY)
        assert found == planted
        with store.session() as s:
            run = s.exec(select(tables.JobRun)).one()
        assert (run.state, run.attempts) == ("done", 2)
