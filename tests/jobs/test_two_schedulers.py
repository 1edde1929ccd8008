"""Two schedulers on one PostgreSQL database, 60 SIMULATED days on an accelerated clock: every
(job, period) runs exactly once, nothing is sampled or notified twice."""
import datetime as dt
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from sqlmodel import func, select

from listing.simulation.platform import start_simulator
from listing.store import tables
from tests.conftest import actor
from tests.scenario import local

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.postgres
def test_two_jobs_processes_run_every_period_once(pg_url, tmp_path):
    from listing.services import audit
    from listing.services.users import add_user
    from listing.store.db import open_store
    from tests.conftest import NOW
    from tests.scenario import listed_company

    store = open_store(pg_url)
    with store.session() as s:
        for name, role in (("admin", "admin"), ("reviewer", "reviewer"), ("police", "police")):
            add_user(s, None if name == "admin" else "admin", name, role, "x", "*", now=NOW)
    listed_company(store, local(2026, 9, 20), vehicles=12)  # cycle 1 ends 2026-12-20, inside the run
    listed_company(store, local(2026, 10, 28), vehicles=25)
    with store.session() as s:
        vehicles = {p: c for p, c in s.exec(select(tables.Vehicle.plate, tables.Vehicle.vehicle_class)).all()}
    (tmp_path / "guapai.toml").write_text("catch_up_days = 2\n")
    with start_simulator(vehicles, seed=2) as sim:
        env = {**os.environ, "GUAPAI_PLATFORM_URL": sim.url, "GUAPAI_PLATFORM_TOKEN": "sim-token",
               "GUAPAI_SAMPLING_SECRET": "s", "GUAPAI_CONFIG": str(tmp_path / "guapai.toml"), "GUAPAI_LANG": "en"}
        cmd = [sys.executable, "main.py", "--db", pg_url, "--as", "police", "jobs", "simulate", "--from", "2026-11-01",
               "--days", "60", "--step-hours", "4"]
        procs = [subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
        outs = [p.communicate(timeout=900) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1][-2000:] for o in outs]
    with store.session() as s:
        runs = s.exec(select(tables.JobRun)).all()
        per_day = Counter(s.exec(select(tables.Sample.day)).all())
        sent = s.exec(select(func.count()).select_from(tables.OutboxMessage).where(tables.OutboxMessage.sent_at.is_not(None))).one()
        listing_states = sorted(s.exec(select(tables.Listing.state)).all())
    assert all(r.state == "done" and r.attempts == 1 for r in runs), [(r.job, r.period, r.state, r.attempts, r.error) for r in runs if r.state != "done" or r.attempts != 1]
    by_job = Counter(r.job for r in runs)
    assert by_job["deadlines"] == by_job["inspections"] == 62 and by_job["rules"] == 2
    assert len({(r.job, r.period) for r in runs}) == len(runs)
    # catch-up of 2 days, then 60 days; the daily sampling catches up further, to the first
    # listing's confirmation (sampling_catch_up_days): every day from 2026-09-20 sampled once, with
    # ceil(10%) of each fleet listed that day: 2 (12 vehicles), + 3 (25) from 2026-10-28
    first, last = dt.date(2026, 9, 20), max(per_day)
    assert min(per_day) == first and len(per_day) == (last - first).days + 1
    assert per_day == {d: 2 if d < dt.date(2026, 10, 28) else 5 for d in per_day}
    assert {str(d) for d in per_day} <= {r.period for r in runs if r.job == "sampling"}
    assert listing_states == ["listed", "under_review"] and sent > 0
    with store.session() as s:
        assert audit.verify(s, actor(store, "admin")).ok
    store.engine.dispose()
