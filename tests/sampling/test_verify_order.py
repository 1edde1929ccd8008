"""Every stored draw is verifiable, whatever order days were run in: the draw's inputs are stored
with it, and `sample verify` recomputes the selection from them and checks them against the draws
made before it."""
import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

from sqlmodel import select

from listing.simulation.platform import start_simulator
from jobs.definitions import JOBS
from jobs.scheduler import run_period
from listing.services import sampling
from listing.services.notifications import LogChannel
from listing.settings import Settings
from listing.store import tables
from tests.conftest import actor
from tests.scenario import listed_company, local

ROOT = Path(__file__).resolve().parents[2]
SECRET = b"test-secret"


def test_days_run_out_of_order_all_verify(people):
    cids = [listed_company(people, local(2026, 11, 1), vehicles=n)[0] for n in (12, 25, 7)]
    with people.session() as s:
        vehicles = dict(s.exec(select(tables.Vehicle.plate, tables.Vehicle.vehicle_class)).all())
    days = [dt.date(2026, 11, d) for d in (20, 23, 21, 24, 22)]  # a catch-up after an outage, out of order
    with start_simulator(vehicles, seed=3) as sim:
        settings = Settings(platform_url=sim.url, platform_token="sim-token", sampling_secret="test-secret")
        for day in days:
            assert run_period(people, settings, LogChannel(), JOBS["sampling"], str(day)).status == "done"
    police = actor(people, "police")
    with people.session() as s:
        results = [r for day in sorted(days) for r in sampling.verify_day(s, police, day, SECRET, 0.1)]
        assert len(results) == len(days) * len(cids)
        assert all(r["match"] and r["inputs_match_history"] and r["stored_inputs"] for r in results), \
            [(r["day"], r["company"]) for r in results if not r["match"]]
        # the order mattered: recomputing from today's history (every sample before the day) does
        # not give what was drawn then for some company-day, so stored inputs are what makes it verifiable
        companies = {c.id: c for c in s.exec(select(tables.Company)).all()}
        naive = []
        for day in days:
            for cid in cids:
                vehicles_, last = sampling.draw_inputs(s, companies[cid], day)
                from rules.sampling import select_sample

                naive.append(select_sample([v.plate for v in vehicles_], last, day, companies[cid].uscc, SECRET, 0.1)
                             == sampling.verify(s, police, day, companies[cid].uscc, SECRET, 0.1)["stored"])
        assert not all(naive)


def test_a_tampered_draw_is_caught(people):
    listed_company(people, local(2026, 11, 1), vehicles=20)
    with people.session() as s:
        vehicles = dict(s.exec(select(tables.Vehicle.plate, tables.Vehicle.vehicle_class)).all())
    with start_simulator(vehicles, seed=3) as sim:
        settings = Settings(platform_url=sim.url, platform_token="sim-token", sampling_secret="test-secret")
        for day in (dt.date(2026, 11, 21), dt.date(2026, 11, 20)):
            assert run_period(people, settings, LogChannel(), JOBS["sampling"], str(day)).status == "done"
    police = actor(people, "police")
    with people.session() as s:
        assert all(r["match"] for r in sampling.verify_day(s, police, dt.date(2026, 11, 21), SECRET, 0.1))
        # inputs edited to justify another choice: the recomputation from history disagrees
        draw = s.exec(select(tables.SampleDraw).where(tables.SampleDraw.day == dt.date(2026, 11, 21))).one()
        draw.vehicles = [[p, "2026-11-19"] for p, _ in draw.vehicles]
        s.add(draw)
    with people.session() as s:
        (result,) = sampling.verify_day(s, police, dt.date(2026, 11, 21), SECRET, 0.1)
        assert not result["inputs_match_history"] and not result["match"]
        # a wrong secret does not reproduce the draw
        (other,) = sampling.verify_day(s, police, dt.date(2026, 11, 20), b"another", 0.1)
        assert not other["match"]


def test_sample_verify_command_checks_every_company_of_a_day(sqlite_url, tmp_path):
    from listing.services.users import add_user
    from listing.store.db import open_store
    from tests.conftest import NOW

    store = open_store(sqlite_url)
    with store.session() as s:
        add_user(s, None, "admin", "admin", "x", "*", now=NOW)
        add_user(s, "admin", "reviewer", "reviewer", "x", "*", now=NOW)
        add_user(s, "admin", "police", "police", "x", "*", now=NOW)
    for n in (10, 15):
        listed_company(store, local(2026, 11, 1), vehicles=n)
    with store.session() as s:
        vehicles = dict(s.exec(select(tables.Vehicle.plate, tables.Vehicle.vehicle_class)).all())
    with start_simulator(vehicles, seed=3) as sim:
        settings = Settings(platform_url=sim.url, platform_token="sim-token", sampling_secret="test-secret")
        for day in ("2026-11-22", "2026-11-21"):
            assert run_period(store, settings, LogChannel(), JOBS["sampling"], day).status == "done"
    env = {**os.environ, "GUAPAI_SAMPLING_SECRET": "test-secret", "GUAPAI_CONFIG": str(tmp_path / "none.toml"), "GUAPAI_LANG": "en"}
    out = subprocess.run([sys.executable, "main.py", "--db", sqlite_url, "--as", "police", "sample", "verify", "2026-11-22", "--json"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert len(data) == 2 and all(r["match"] for r in data) and "verified" in out.stderr
