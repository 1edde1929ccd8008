"""`guapai demo` builds its SIMULATED city through the real services."""
import datetime as dt
import json
from pathlib import Path

from typer.testing import CliRunner

import main
from listing.services.demo import build_city
from listing.simulation.city import synthetic_city
from listing.store.db import open_store
from tests.conftest import NOW

AS_OF = dt.date(2026, 11, 24)


def test_demo_city_matches_its_generator_and_audits_cleanly(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'd.sqlite'}")
    summary = build_city(store, seed=5, as_of=AS_OF, now=NOW)
    city = synthetic_city(5, AS_OF)
    assert summary["counts"] == {"company": city["companies"].height, "vehicle": city["vehicles"].height,
                                 "driver": city["drivers"].height, "accident": city["accidents"].height,
                                 "violation": city["violations"].height}
    assert summary["audit_ok"] and summary["audit_events"] == 5 + 6  # users (admin bootstraps) + imports
    assert 200 <= summary["counts"]["company"] and 2000 <= summary["counts"]["vehicle"]
    assert summary["deaths"] == int(city["accidents"]["fatalities"].cast(int).sum())
    # a planted bad company stands out in violations per vehicle
    worst = {w["uscc"] for w in summary["worst_by_violations"]}
    assert worst & set(summary["planted_bad"])


def test_demo_command_refuses_a_non_empty_database(tmp_path):
    url = f"sqlite:///{tmp_path / 'd.sqlite'}"
    runner = CliRunner()
    r = runner.invoke(main.app, ["--db", url, "--lang", "en", "demo", "--days", "3", "--out", str(tmp_path), "--json"])
    assert r.exit_code == 0, r.stderr
    summary = json.loads(r.stdout)
    assert summary["audit_ok"] is True and summary["outcomes"]["job_runs"] >= 9
    assert all(Path(p).exists() for p in summary["reports"])
    r = runner.invoke(main.app, ["--db", url, "--lang", "en", "demo", "--days", "3"])
    assert r.exit_code == 1 and "not empty" in r.stderr
