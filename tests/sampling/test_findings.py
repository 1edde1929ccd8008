"""Confirming findings: one event reached by two findings is one violation, counted once."""
import datetime as dt

from sqlmodel import select

from listing.services import audit, findings
from listing.store import tables
from tests.conftest import NOW, actor
from tests.scenario import listed_company, local


def test_one_overspeed_across_midnight_sampled_on_both_days_is_one_violation(people):
    cid, _, vids = listed_company(people, local(2026, 11, 1))
    start = dt.datetime(2026, 11, 20, 15, 58, tzinfo=dt.timezone.utc)  # 23:58 in Hangzhou
    with people.session() as s:
        ids = []
        for day in (dt.date(2026, 11, 20), dt.date(2026, 11, 21)):
            sample = tables.Sample(day=day, company_id=cid, vehicle_id=vids[0], rank=0, status="scanned")
            s.add(sample)
            s.flush()
            finding = tables.Finding(sample_id=sample.id, day=day, company_id=cid, vehicle_id=vids[0], rule="overspeed",
                                     start=start, end=start + dt.timedelta(minutes=5))
            s.add(finding)
            s.flush()
            ids.append(finding.id)
    police = actor(people, "police")
    for fid in ids:
        with people.session() as s:
            findings.confirm(s, police, fid, now=NOW)
    with people.session(readonly=True) as s:
        violations = s.exec(select(tables.Violation)).all()
        assert len(violations) == 1 and violations[0].source == "trajectory"
        assert {f.violation_id for f in s.exec(select(tables.Finding)).all()} == {violations[0].id}
        assert {f.state for f in s.exec(select(tables.Finding)).all()} == {"confirmed"}
        assert len(s.exec(select(tables.Problem).where(tables.Problem.source == "finding")).all()) == 2
        assert audit.verify(s, actor(people, "admin")).ok
