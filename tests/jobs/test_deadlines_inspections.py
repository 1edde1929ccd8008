"""Daily deadline and inspection jobs through the real scheduler path, on a simulated clock."""
import datetime as dt

from sqlmodel import select

from jobs.definitions import JOBS
from jobs.scheduler import run_period, simulated_clock, tick
from listing.services import inspections
from listing.services.notifications import LogChannel
from listing.settings import Settings
from listing.store import tables
from tests.conftest import actor
from tests.scenario import listed_company, local

SETTINGS = Settings(remind_from_day=20, catch_up_days=3)


def test_cycle_end_moves_to_review_once_with_checklist_and_one_notification(people):
    cid, lid, _ = listed_company(people, local(2026, 1, 10))  # cycle 1 due 2026-04-10
    channel = LogChannel()
    clock, advance = simulated_clock(local(2026, 4, 9, 12))
    assert tick(people, SETTINGS, channel, clock=clock, jobs=["deadlines"])[-1].status == "done"
    with people.session() as s:
        assert s.get(tables.Listing, lid).state == "listed"
    advance(dt.timedelta(days=1))  # 2026-04-10 12:00: the cycle has ended at local midnight
    out = tick(people, SETTINGS, channel, clock=clock, jobs=["deadlines"])
    assert [o.status for o in out] == ["done"]
    with people.session() as s:
        assert s.get(tables.Listing, lid).state == "under_review"
        cycle = s.exec(select(tables.Cycle).where(tables.Cycle.listing_id == lid)).one()
        assert cycle.checklist["recommendation"] == "fail"  # no inspections, no sampling
        assert {i["item"] for i in cycle.checklist["items"]} >= {"inspections", "sampling_coverage", "problems_closed"}
    assert [k for k, _, _ in channel.sent] == [f"review_due:{lid}:1"]
    # a rerun of the same period, and the next days, change nothing more
    assert run_period(people, SETTINGS, channel, JOBS["deadlines"], "2026-04-10", clock=clock).status == "skipped"
    advance(dt.timedelta(days=13))
    tick(people, SETTINGS, channel, clock=clock, jobs=["deadlines"])
    advance(dt.timedelta(days=2))  # review due 14 days after the cycle end: now overdue
    tick(people, SETTINGS, channel, clock=clock, jobs=["deadlines"])
    tick(people, SETTINGS, channel, clock=clock, jobs=["deadlines"])
    assert [k for k, _, _ in channel.sent] == [f"review_due:{lid}:1", f"review_overdue:{lid}:1"]


def test_inspection_reminders_and_misses(people):
    cid, lid, _ = listed_company(people, local(2026, 3, 5))
    uscc = _uscc(people, cid)
    with people.session() as s:
        inspections.record(s, actor(people, "transport"), uscc, "transport", dt.date(2026, 3, 12), now=local(2026, 3, 12))
    channel = LogChannel()
    clock, advance = simulated_clock(local(2026, 3, 19, 12))
    for _ in range(14):  # 19 March .. 1 April
        tick(people, SETTINGS, channel, clock=clock, jobs=["inspections"])
        advance(dt.timedelta(days=1))
    keys = [k for k, _, _ in channel.sent]
    assert keys == [f"remind:{lid}:2026-03:police", f"miss:{lid}:2026-03:police"]  # once each, transport was done
    with people.session() as s:
        misses = s.exec(select(tables.InspectionMiss)).all()
        assert [(m.month, m.department) for m in misses] == [("2026-03", "police")]
        periods = s.exec(select(tables.JobRun.period).where(tables.JobRun.job == "inspections",
                                                            tables.JobRun.state == "done")).all()
    # one run per day, including the 3 catch-up days before the first tick (catch_up_days=3)
    assert sorted(periods) == [str(dt.date(2026, 3, 16) + dt.timedelta(days=i)) for i in range(17)]


def test_inspector_role_must_match_department_and_unlisted_is_flagged(people):
    import pytest

    from messages.errors import PermissionDenied

    cid, lid, _ = listed_company(people, local(2026, 3, 5))
    uscc = _uscc(people, cid)
    with pytest.raises(PermissionDenied):
        with people.session() as s:
            inspections.record(s, actor(people, "transport"), uscc, "police", dt.date(2026, 3, 12), now=local(2026, 3, 12))
    with people.session() as s:
        company = tables.Company(uscc="91110000600037341L", name="未挂牌公司", business_type="bus", jurisdiction="西湖区")
        s.add(company)
    with people.session() as s:
        row = inspections.record(s, actor(people, "police"), "91110000600037341L", "police", dt.date(2026, 3, 12),
                                 now=local(2026, 3, 12), problems=[("灭火器过期", dt.date(2026, 3, 30))])
        assert row.company_not_listed is True and row.listing_id is None
        problems = s.exec(select(tables.Problem).where(tables.Problem.source_id == row.id)).all()
        assert [(p.description, p.state, p.due) for p in problems] == [("灭火器过期", "open", dt.date(2026, 3, 30))]


def test_monthly_rules_job_proposes_once_per_month(people):
    from tests.rules.test_criteria import Builder

    b = Builder(people)
    cid, vids = b.company(3)
    b.accident(cid, vids[0], fatalities=1, when=dt.datetime(2026, 2, 10, tzinfo=dt.timezone.utc))
    channel = LogChannel()
    clock, advance = simulated_clock(local(2026, 3, 1, 9))
    first = tick(people, SETTINGS, channel, clock=clock, jobs=["rules"])
    assert [(o.period, o.status, o.result["proposed"]) for o in first] == [("2026-03", "done", 1)]
    assert run_period(people, SETTINGS, channel, JOBS["rules"], "2026-03", clock=clock).status == "skipped"
    advance(dt.timedelta(days=31))  # April: the company already has an open listing
    second = tick(people, SETTINGS, channel, clock=clock, jobs=["rules"])
    assert [(o.period, o.result["proposed"], o.result["skipped"]) for o in second] == [("2026-04", 0, 1)]
    assert [k for k, _, _ in channel.sent] == ["proposals:2026-03"]


def _uscc(store, cid):
    with store.session() as s:
        return s.get(tables.Company, cid).uscc
