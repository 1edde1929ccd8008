"""Problems (four eyes), acceptance checklist items passing and failing, decisions by role."""
import datetime as dt

import pytest
from sqlmodel import select

from listing.domain.policy import SYSTEM_ACTOR
from listing.domain.states import Event
from listing.services import inspections, listings, problems, review
from listing.services.notifications import LogChannel, deliver
from listing.store import tables
from messages.errors import Conflict, PermissionDenied
from tests.conftest import actor
from tests.scenario import listed_company, local

CONFIRMED = local(2026, 1, 10)  # cycle 1: 2026-01-10 .. 2026-04-09


def end_cycle(store, lid):
    with store.session() as s:
        listings.apply(s, SYSTEM_ACTOR, lid, Event.END_CYCLE, now=local(2026, 4, 10, 1))


def items(store, lid):
    with store.session() as s:
        return {i["item"]: i for i in review.show(s, actor(store, "reviewer"), lid, today=dt.date(2026, 4, 10))["items"]}


def uscc(store, cid):
    with store.session() as s:
        return s.get(tables.Company, cid).uscc


def test_four_eyes_on_problems(people):
    cid, lid, _ = listed_company(people, CONFIRMED)
    with people.session() as s:
        insp = inspections.record(s, actor(people, "police"), uscc(people, cid), "police", dt.date(2026, 1, 20),
                                  now=local(2026, 1, 20), problems=[("超员", dt.date(2026, 2, 1))])
        pid = s.exec(select(tables.Problem.id).where(tables.Problem.source_id == insp.id)).one()
    with people.session() as s:
        problems.change(s, actor(people, "transport"), pid, "rectify", now=local(2026, 1, 25))
    with pytest.raises(PermissionDenied) as err:
        with people.session() as s:
            problems.change(s, actor(people, "transport"), pid, "verify", now=local(2026, 1, 26))
    assert err.value.key == "err.four_eyes"
    with pytest.raises(Conflict):
        with people.session() as s:
            problems.change(s, actor(people, "police"), pid, "rectify", now=local(2026, 1, 26))
    with people.session() as s:
        assert problems.change(s, actor(people, "police"), pid, "verify", now=local(2026, 1, 26)).state == "verified"
    with people.session(readonly=True) as s:
        rows = problems.list_problems(s, actor(people, "police"), today=dt.date(2026, 3, 1))
    assert [(r["state"], r["rectified_by"], r["verified_by"], r["overdue"]) for r in rows] == [("verified", "transport", "police", False)]


def test_each_checklist_item_fails_then_passes(people):
    cid, lid, vids = listed_company(people, CONFIRMED, vehicles=4)
    end_cycle(people, lid)
    failing = items(people, lid)
    # January (22 days), February and March are owed; April (9 days of the cycle) is not: 3 months x 2
    assert not failing["inspections"]["pass"] and len(failing["inspections"]["evidence"]["missing"]) == 6
    assert not failing["sampling_coverage"]["pass"] and not failing["sampled_violation_rate"]["pass"]
    assert failing["problems_closed"]["pass"] and failing["no_fatal_at_fault_accident"]["pass"]
    assert failing["metrics_under_thresholds"]["pass"]
    code = uscc(people, cid)
    officers = {who: actor(people, who) for who in ("transport", "police")}
    with people.session() as s:
        for month in (1, 2, 3, 4):
            for dept, who in (("transport", "transport"), ("police", "police")):
                inspections.record(s, officers[who], code, dept, dt.date(2026, month, 9 if month == 4 else 15),
                                   now=local(2026, month, 15))
        s.add(tables.Problem(company_id=cid, source="inspection", description="x", state="open", created_at=local(2026, 2, 1)))
        day = dt.date(2026, 1, 10)
        while day <= dt.date(2026, 4, 9):  # sampled every day, one finding a day in January, none later
            sample = tables.Sample(day=day, company_id=cid, listing_id=lid, vehicle_id=vids[0], rank=0, status="scanned")
            s.add(sample)
            s.flush()
            if day.month == 1:
                s.add(tables.Finding(sample_id=sample.id, day=day, company_id=cid, vehicle_id=vids[0], rule="overspeed",
                                     start=local(day.year, day.month, day.day, 9), end=local(day.year, day.month, day.day, 10)))
            day += dt.timedelta(days=1)
        s.add(tables.Accident(occurred_at=local(2026, 3, 3), vehicle_id=vids[1], company_id=cid, fatalities=1, injuries=0,
                              responsibility="main"))
    now = items(people, lid)
    assert now["inspections"]["pass"] and now["sampling_coverage"]["pass"]
    assert now["sampled_violation_rate"]["pass"]
    assert now["sampled_violation_rate"]["evidence"]["by_month"][0]["rate"] == 1.0
    assert not now["problems_closed"]["pass"] and now["problems_closed"]["evidence"]["open"] == 1
    assert not now["no_fatal_at_fault_accident"]["pass"]
    assert not now["metrics_under_thresholds"]["pass"]  # the fatal accident crosses the listing threshold again


def test_decide_by_role_stores_checklist_and_escalates_after_two_fails(people):
    cid, lid, _ = listed_company(people, CONFIRMED)
    end_cycle(people, lid)
    for who in ("police", "transport", "admin"):
        with pytest.raises(PermissionDenied):
            with people.session() as s:
                review.decide(s, actor(people, who), lid, True, reason="x", now=local(2026, 4, 12))
    channel = LogChannel()
    with people.session() as s:
        row = review.decide(s, actor(people, "reviewer"), lid, False, reason="检查缺失", now=local(2026, 4, 12), channel=channel)
    # cycle 2 starts where cycle 1 ended (10 April), not on the decision day
    assert (row.state, row.cycle, row.cycle_start, row.cycle_due, row.escalated) == (
        "listed", 2, dt.date(2026, 4, 10), dt.date(2026, 7, 10), False)
    with people.session() as s:
        listings.apply(s, SYSTEM_ACTOR, lid, Event.END_CYCLE, now=local(2026, 7, 10, 1))
    with people.session() as s:
        row = review.decide(s, actor(people, "reviewer"), lid, False, reason="仍未整改", now=local(2026, 7, 13), channel=channel)
    assert (row.cycle, row.escalated, row.consecutive_failures) == (3, True, 2)
    assert channel.sent == []  # queued in the decision's transaction, sent after commit
    deliver(people, channel, now=local(2026, 7, 13, 11))
    assert [k for k, _, _ in channel.sent] == [f"escalated:{lid}"]
    with people.session() as s:
        cycles = s.exec(select(tables.Cycle).where(tables.Cycle.listing_id == lid).order_by(tables.Cycle.number)).all()
    assert [(c.number, c.outcome, c.decided_by) for c in cycles] == [(1, "fail", "reviewer"), (2, "fail", "reviewer"), (3, None, None)]
    assert cycles[0].checklist["recommendation"] == "fail" and cycles[0].reason == "检查缺失"


def test_pass_delists(people):
    cid, lid, _ = listed_company(people, CONFIRMED)
    end_cycle(people, lid)
    with people.session() as s:
        row = review.decide(s, actor(people, "reviewer"), lid, True, reason="整改到位", now=local(2026, 4, 12))
    assert row.state == "delisted" and row.closed_at is not None
    with pytest.raises(Conflict):
        with people.session() as s:
            review.show(s, actor(people, "reviewer"), lid, today=dt.date(2026, 4, 12))
