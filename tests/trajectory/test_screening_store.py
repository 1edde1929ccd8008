"""Screening findings in the store: in the review queue, marked screening, once per vehicle-day."""
import datetime as dt

import polars as pl
from sqlmodel import select

from listing.services import screening, screening_store
from listing.services.findings import list_findings
from listing.store.tables import Finding
from rules.trajectory import simulated_vehicle_day
from tests.conftest import actor
from tests.scenario import listed_company, local

DAY = dt.date(2026, 11, 23)


def test_screening_findings_join_the_review_queue_once(people, db_url, tmp_path):
    store = people
    cid, _, _ = listed_company(store, local(2026, 10, 1), vehicles=4)
    with store.session(readonly=True) as s:
        from listing.store.tables import Vehicle

        plates = sorted(s.exec(select(Vehicle.plate).where(Vehicle.company_id == cid)).all())
    frames = [simulated_vehicle_day(2, p, DAY, "truck", ["overspeed", "fatigue_continuous"])[0] for p in plates]
    frames.append(simulated_vehicle_day(2, "沪Z99999", DAY, "truck", ["overspeed"])[0])  # not in the store
    path = tmp_path / "day.parquet"
    pl.concat(frames).sort("time").write_parquet(path)

    police = actor(store, "police")
    with store.session(readonly=True) as s:
        classes = screening_store.vehicle_classes(s, police)
    writer = screening_store.Writer(store, police, DAY)
    summary = screening.screen(path, DAY, partitions=2, classes=classes, on_partition=writer.write)
    done = writer.summary()
    assert done["stored"] == summary["findings"] - done["unknown_vehicle"] >= 8 and done["unknown_vehicle"] >= 1
    with store.session(readonly=True) as s:
        rows = s.exec(select(Finding)).all()
        queue = list_findings(s, police, day=DAY)
    assert len(rows) == done["stored"] and {(r.source, r.sample_id) for r in rows} == {("screening", None)}
    assert len(queue) == len(rows) and {q["plate"] for q in queue} == set(plates)
    again = screening_store.Writer(store, police, DAY)  # a rerun inserts nothing
    screening.screen(path, DAY, partitions=3, classes=classes, on_partition=again.write)
    assert again.summary()["stored"] == 0 and again.summary()["already_stored"] == done["stored"]
    with store.session(readonly=True) as s:
        assert len(s.exec(select(Finding)).all()) == done["stored"]

    import json

    from typer.testing import CliRunner

    import main

    out = CliRunner().invoke(main.app, ["--db", db_url, "--as", "police", "screen", str(path), "--date", str(DAY), "--store", "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["stored"] == {"stored": 0, "already_stored": done["stored"], "unknown_vehicle": done["unknown_vehicle"]}
    refused = CliRunner().invoke(main.app, ["--db", db_url, "--as", "xihu", "screen", str(path), "--date", str(DAY), "--store"])
    assert refused.exit_code != 0  # a transport officer may not run screening into the queue
