"""The full demo's drill on a small SIMULATED city: 100 days through the real jobs and services
end with companies delisted, continued and escalated, an intact audit chain, and reports that open."""
import datetime as dt

import pytest
from sqlmodel import func, select

from listing.simulation.city import CityPlan
from listing.simulation.drill import run
from listing.store import tables
from listing.store.db import open_store


@pytest.mark.slow
def test_hundred_days_of_the_whole_mechanism(tmp_path):
    from listing.reports import monthly
    from listing.reports.render import write
    from listing.services import audit
    from listing.services.users import resolve_actor

    store = open_store(f"sqlite:///{tmp_path / 'drill.sqlite'}")
    result = run(store, seed=2026, today=dt.date(2026, 11, 24), days=100, city_plan=CityPlan(mean_fleet=10))
    decisions = list(result.outcomes["decisions"].values())
    assert {"delisted", "continued", "escalated"} <= set(decisions)
    with store.session(readonly=True) as s:
        assert audit.verify(s, resolve_actor(s, "admin")).ok
        runs = s.exec(select(tables.JobRun)).all()
        misses = s.exec(select(func.count()).select_from(tables.InspectionMiss)).one()
        report = monthly.gather(s, resolve_actor(s, "reviewer.zhao"), "2026-10")
    assert all(r.state == "done" for r in runs) and len({(r.job, r.period) for r in runs}) == len(runs)
    assert misses > 0  # the negligent company missed inspections, and the system recorded it
    assert result.outcomes["findings_confirmed"] > 0 and result.outcomes["problems_verified"] > 0
    import openpyxl

    xlsx = write(report, tmp_path / "r.xlsx", "zh")
    book = openpyxl.load_workbook(xlsx)
    assert len(book["图表"]._charts) == 2 and book["挂牌企业"].max_row >= 4  # a zh report: zh sheet names
    html = write(report, tmp_path / "r.html", "en").read_text(encoding="utf-8")
    assert html.count("<svg") == 2 and "<table>" in html
