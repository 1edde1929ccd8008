"""Corrections without deleting history (issue 15), on SQLite and PostgreSQL: a voided or
corrected inspection, a voided problem, a reopened or voided finding stay stored, are audited
with their reason, and everything derived from them follows — the month's obligation, the
month marks, the acceptance checklist, problem counts, the to-do list, the company story —
while a cycle already decided keeps the checklist stored with its decision."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import select

from listing.domain.policy import SYSTEM_ACTOR
from listing.domain.states import Event
from listing.services import (
    audit,
    company_story,
    corrections,
    findings,
    inspections,
    listings,
    problem_counts,
    review,
    todo,
)
from listing.services.month_marks import cycle_marks
from listing.services.notifications import LogChannel
from listing.services.users import add_user
from listing.store import tables
from messages.errors import Conflict, PermissionDenied, ValidationError
from tests.conftest import NOW, actor
from tests.scenario import listed_company, local


@pytest.fixture
def county(people):
    """Two police officers of 西湖区 (the recorder and a colleague) besides the city-level cast."""
    with people.session() as s:
        add_user(s, "admin", "wang", "police", "西湖交警大队", "西湖区", now=NOW)
        add_user(s, "admin", "qian", "police", "西湖交警大队", "西湖区", now=NOW)
    return people


def _uscc(store, cid):
    with store.session(readonly=True) as s:
        return s.get(tables.Company, cid).uscc


def _obligation(store, cid, month, dept):
    with store.session(readonly=True) as s:
        return s.exec(select(tables.InspectionObligation.state).where(
            tables.InspectionObligation.company_id == cid, tables.InspectionObligation.month == month,
            tables.InspectionObligation.department == dept)).one()


def _track(store, day):
    with store.session() as s:
        inspections.track(s, day, LogChannel(), now=local(day.year, day.month, day.day, 12))


def _marks(store, cid, lid, today):
    with store.session(readonly=True) as s:
        listing = s.get(tables.Listing, lid)
        return {m["month"]: m for m in cycle_marks(s, [(lid, cid, listing.cycle, listing.cycle_start, listing.cycle_due)],
                                                   today)[(lid, listing.cycle)]}


def test_a_voided_inspection_makes_its_month_missed_at_its_due_date(county):
    cid, lid, _ = listed_company(county, local(2026, 3, 5))
    uscc = _uscc(county, cid)
    with county.session() as s:
        ins = inspections.record(s, actor(county, "wang"), uscc, "police", dt.date(2026, 3, 12), now=local(2026, 3, 12)).id
    _track(county, dt.date(2026, 3, 13))
    assert _obligation(county, cid, "2026-03", "police") == "met"
    assert _marks(county, cid, lid, dt.date(2026, 3, 20))["2026-03"]["police"] == "done"

    with county.session() as s:  # voided before month end: owed again, and the reminder comes back
        out = corrections.void_inspection(s, actor(county, "wang"), ins, reason="录错企业,当天未去", now=local(2026, 3, 20))
    assert out["obligation"] == "owed" and _obligation(county, cid, "2026-03", "police") == "owed"
    marks = _marks(county, cid, lid, dt.date(2026, 3, 20))["2026-03"]
    assert (marks["police"], marks["police_count"]) == ("owed", 0)
    with county.session(readonly=True) as s:
        owed = todo.todo(s, actor(county, "police"), dt.date(2026, 3, 20))
        assert any(t["kind"] == "inspect" and t["uscc"] == uscc for t in owed), owed
    _track(county, dt.date(2026, 4, 1))  # the month falls due at local midnight: missed
    assert _obligation(county, cid, "2026-03", "police") == "missed"
    assert _marks(county, cid, lid, dt.date(2026, 4, 1))["2026-03"]["police"] == "missed"
    with county.session(readonly=True) as s:
        row = s.get(tables.Inspection, ins)  # kept as it was recorded, marked
        assert (row.day, row.inspector, row.voided_by, row.void_reason) == (dt.date(2026, 3, 12), "wang", "wang",
                                                                            "录错企业,当天未去")
        misses = s.exec(select(tables.InspectionMiss.month).where(tables.InspectionMiss.department == "police")).all()
        assert misses == ["2026-03"]
        ev = s.exec(select(tables.AuditEvent).where(tables.AuditEvent.action == "inspection.void")).one()
        assert ev.before["day"] == "2026-03-12" and ev.after["reason"] == "录错企业,当天未去"
        assert audit.verify(s, actor(county, "admin")).ok
        assert [r["id"] for r in inspections.list_inspections(s, actor(county, "police"), "2026-03")] == []
        listed = inspections.list_inspections(s, actor(county, "police"), "2026-03", voided=True)
        assert [(r["id"], r["voided"]) for r in listed] == [(ins, True)]


def test_voided_after_the_month_was_met_it_is_missed_at_once(county):
    cid, lid, _ = listed_company(county, local(2026, 3, 5))
    with county.session() as s:
        ins = inspections.record(s, actor(county, "wang"), _uscc(county, cid), "police", dt.date(2026, 3, 12),
                                 now=local(2026, 3, 12)).id
    _track(county, dt.date(2026, 4, 1))
    assert _obligation(county, cid, "2026-03", "police") == "met"
    with county.session() as s:
        out = corrections.void_inspection(s, actor(county, "police"), ins, reason="未实际检查", now=local(2026, 4, 3))
    assert out["obligation"] == "missed" and _obligation(county, cid, "2026-03", "police") == "missed"
    with county.session() as s:  # once voided, it stays voided
        with pytest.raises(Conflict) as err:
            corrections.void_inspection(s, actor(county, "police"), ins, reason="again", now=local(2026, 4, 3))
        assert err.value.key == "err.inspection_state"


def test_only_the_recorder_or_a_supervisor_may_void_and_a_reason_is_required(county):
    cid, _, _ = listed_company(county, local(2026, 3, 5))
    with county.session() as s:
        ins = inspections.record(s, actor(county, "wang"), _uscc(county, cid), "police", dt.date(2026, 3, 12),
                                 now=local(2026, 3, 12)).id
    for who, key in (("qian", "err.not_recorder"), ("transport", "err.not_recorder"), ("reviewer", "err.role_denied")):
        with pytest.raises(PermissionDenied) as err:
            with county.session() as s:
                corrections.void_inspection(s, actor(county, who), ins, reason="x", now=local(2026, 3, 20))
        assert err.value.key == key, who
    with pytest.raises(ValidationError):
        with county.session() as s:
            corrections.void_inspection(s, actor(county, "wang"), ins, reason="  ", now=local(2026, 3, 20))
    with county.session(readonly=True) as s:
        assert s.get(tables.Inspection, ins).voided_at is None  # nothing changed
    with county.session() as s:  # the administrator may
        corrections.void_inspection(s, actor(county, "admin"), ins, reason="重复录入", now=local(2026, 3, 20))


def test_a_correction_is_a_new_record_and_both_months_and_companies_follow(county):
    a_cid, a_lid, _ = listed_company(county, local(2026, 3, 5))
    b_cid, b_lid, _ = listed_company(county, local(2026, 3, 5))
    with county.session() as s:
        ins = inspections.record(s, actor(county, "wang"), _uscc(county, a_cid), "police", dt.date(2026, 3, 12),
                                 now=local(2026, 3, 12), problems=[("灭火器过期", dt.date(2026, 4, 30))]).id
    _track(county, dt.date(2026, 3, 31))
    assert _obligation(county, a_cid, "2026-03", "police") == "met"
    assert _obligation(county, b_cid, "2026-03", "police") == "owed"
    with county.session() as s:
        out = corrections.correct_inspection(s, actor(county, "wang"), ins, reason="录错企业", now=local(2026, 4, 2),
                                             company_ref=_uscc(county, b_cid), day=dt.date(2026, 3, 13))
    assert out["obligations"] == {"old": "missed", "new": "met"}
    assert out["changed"]["day"] == ["2026-03-12", "2026-03-13"]
    with county.session(readonly=True) as s:
        old, new = s.get(tables.Inspection, ins), s.get(tables.Inspection, out["new_id"])
        assert (old.company_id, old.day, old.voided_at is not None) == (a_cid, dt.date(2026, 3, 12), True)
        assert (new.company_id, new.day, new.inspector, new.corrects_id, new.listing_id) == (
            b_cid, dt.date(2026, 3, 13), "wang", ins, b_lid)
        problem = s.exec(select(tables.Problem)).one()  # the problem found goes with the inspection
        assert (problem.company_id, problem.source_id, problem.listing_id) == (b_cid, new.id, b_lid)
        counts = problem_counts.problem_counts(s, [a_cid, b_cid], dt.date(2026, 4, 2))
        assert (counts[a_cid].open, counts[b_cid].open) == (0, 1)
    assert _obligation(county, a_cid, "2026-03", "police") == "missed"
    assert _obligation(county, b_cid, "2026-03", "police") == "met"
    with pytest.raises(PermissionDenied) as err:  # a police officer cannot turn it into a transport inspection
        with county.session() as s:
            corrections.correct_inspection(s, actor(county, "wang"), out["new_id"], reason="r", now=local(2026, 4, 2),
                                           department="transport")
    assert err.value.key == "err.role_denied"
    with county.session() as s:  # the voided one cannot be corrected again; the new one can
        with pytest.raises(Conflict):
            corrections.correct_inspection(s, actor(county, "wang"), ins, reason="r", now=local(2026, 4, 2),
                                           day=dt.date(2026, 3, 14))
        with pytest.raises(ValidationError) as err:
            corrections.correct_inspection(s, actor(county, "wang"), out["new_id"], reason="r", now=local(2026, 4, 2),
                                           day=dt.date(2026, 3, 13))
        assert err.value.key == "err.nothing_to_change"


def _inspected_every_month(store, cid, police="police"):
    """Both departments in January, February and March (cycle 10 Jan .. 10 Apr owes those)."""
    ids = {}
    uscc = _uscc(store, cid)
    for month in (1, 2, 3):
        for dept, who in (("police", police), ("transport", "transport")):
            with store.session() as s:
                ids[(month, dept)] = inspections.record(s, actor(store, who), uscc, dept, dt.date(2026, month, 15),
                                                        now=local(2026, month, 15)).id
    return ids


def _item(checklist, name):
    return next(i for i in checklist["items"] if i["item"] == name)


def test_the_checklist_follows_a_voided_inspection_and_a_voided_problem_no_longer_blocks_delisting(county):
    cid, lid, _ = listed_company(county, local(2026, 1, 10))
    ids = _inspected_every_month(county, cid)
    with county.session() as s:
        problem = inspections.record(s, actor(county, "transport"), _uscc(county, cid), "transport", dt.date(2026, 2, 20),
                                     now=local(2026, 2, 20), problems=[("台账缺失(误录)", None)])
        pid = s.exec(select(tables.Problem.id).where(tables.Problem.source_id == problem.id)).one()
    today = dt.date(2026, 4, 11)
    with county.session(readonly=True) as s:
        before = review.checklist(s, s.get(tables.Listing, lid), today)
    assert _item(before, "inspections")["pass"] and not _item(before, "problems_closed")["pass"]
    with county.session() as s:
        corrections.void_problem(s, actor(county, "transport"), pid, reason="误录,企业台账齐全", now=local(2026, 4, 11))
        corrections.void_inspection(s, actor(county, "police"), ids[(2, "police")], reason="未实际检查",
                                    now=local(2026, 4, 11))
    with county.session(readonly=True) as s:
        after = review.checklist(s, s.get(tables.Listing, lid), today)
        assert _item(after, "problems_closed")["pass"]  # the voided problem no longer blocks delisting
        assert not _item(after, "inspections")["pass"]  # February's police inspection is gone
        assert "2026-02" in str(_item(after, "inspections")["evidence"])
        assert problem_counts.problem_counts(s, [cid], today)[cid].open == 0
        story = company_story.story(s, actor(county, "police"), s.get(tables.Company, cid), today)
        voided = [i for i in story["inspections"] if i["voided"]]
        assert [(i["id"], i["void_reason"], i["voided_by"]) for i in voided] == [(ids[(2, "police")], "未实际检查", "police")]
        assert [p["voided"] for p in story["problems"] if p["id"] == pid] == [True]
        assert story["problem_count"]["open"] == 0
        assert any(e["kind"] == "inspection" and e["voided"] for e in story["timeline"])


def test_a_decided_cycle_keeps_its_stored_checklist(county):
    cid, lid, _ = listed_company(county, local(2026, 1, 10))
    ids = _inspected_every_month(county, cid)
    with county.session() as s:
        listings.apply(s, SYSTEM_ACTOR, lid, Event.END_CYCLE, now=local(2026, 4, 10, 1))
        review.decide(s, actor(county, "reviewer"), lid, False, reason="抽查覆盖不足", now=local(2026, 4, 12))
    with county.session(readonly=True) as s:
        stored = s.exec(select(tables.Cycle.checklist).where(tables.Cycle.listing_id == lid, tables.Cycle.number == 1)).one()
    assert _item(stored, "inspections")["pass"]
    with county.session() as s:
        corrections.void_inspection(s, actor(county, "police"), ids[(1, "police")], reason="日期有误", now=local(2026, 4, 13))
    with county.session(readonly=True) as s:
        again = s.exec(select(tables.Cycle.checklist).where(tables.Cycle.listing_id == lid, tables.Cycle.number == 1)).one()
        assert again == stored  # history is not rewritten
        story = company_story.story(s, actor(county, "police"), s.get(tables.Company, cid), dt.date(2026, 4, 13))
        cycle1 = story["listings"][0]["cycles"][0]
        assert cycle1["checklist"] == stored and not cycle1["checklist_provisional"]


def _finding(store, cid, vid, minute=0):
    with store.session() as s:
        row = tables.Finding(source="screening", day=dt.date(2026, 11, 20), company_id=cid, vehicle_id=vid,
                             rule="overspeed", start=NOW + dt.timedelta(minutes=minute),
                             end=NOW + dt.timedelta(minutes=minute + 2), evidence={"max_speed_kmh": 97})
        s.add(row)
        s.flush()
        return row.id


def test_a_reopened_finding_is_suspected_again_and_what_its_confirmation_made_is_voided(county):
    cid, lid, vids = listed_company(county, local(2026, 9, 1), jurisdiction="西湖区")
    fid = _finding(county, cid, vids[0])
    with county.session() as s:
        confirmed = findings.confirm(s, actor(county, "wang"), fid, now=NOW)
        violation_id, problem_id = confirmed.violation_id, confirmed.problem_id
    with pytest.raises(PermissionDenied) as err:  # a colleague who did not decide it
        with county.session() as s:
            corrections.reopen_finding(s, actor(county, "qian"), fid, reason="x", now=NOW)
    assert err.value.key == "err.not_recorder"
    with county.session() as s:
        row = corrections.reopen_finding(s, actor(county, "wang"), fid, reason="限速路段看错", now=NOW)
        assert (row.state, row.decided_by, row.violation_id, row.problem_id) == ("suspected", None, None, None)
    with county.session(readonly=True) as s:
        assert s.get(tables.Violation, violation_id).voided_at is not None  # kept, counted nowhere
        assert (s.get(tables.Problem, problem_id).state, s.get(tables.Problem, problem_id).void_reason) == (
            "voided", "限速路段看错")
        assert problem_counts.problem_counts(s, [cid], dt.date(2026, 11, 24))[cid].open == 0
        assert [f["id"] for f in findings.list_findings(s, actor(county, "police"))] == [fid]  # to decide again
        ev = s.exec(select(tables.AuditEvent).where(tables.AuditEvent.action == "finding.reopen")).one()
        assert ev.before["state"] == "confirmed" and ev.after["violation_voided"] == violation_id
        listing = s.get(tables.Listing, lid)
        metrics = _item(review.checklist(s, listing, dt.date(2026, 11, 24)), "metrics_under_thresholds")["evidence"]
        assert metrics["violations_per_vehicle"] == 0  # the voided violation is not counted
    with county.session() as s:  # confirmed again (by another officer): the same violation counts again
        again = findings.confirm(s, actor(county, "qian"), fid, now=NOW)
        assert again.violation_id == violation_id and again.problem_id != problem_id
    with county.session(readonly=True) as s:
        assert s.get(tables.Violation, violation_id).voided_at is None
        metrics = _item(review.checklist(s, s.get(tables.Listing, lid), dt.date(2026, 11, 24)),
                        "metrics_under_thresholds")["evidence"]
        assert metrics["violations_per_vehicle"] > 0
        assert problem_counts.problem_counts(s, [cid], dt.date(2026, 11, 24))[cid].open == 1


def test_a_voided_finding_counts_nowhere_and_a_dismissed_one_can_be_reopened(county):
    cid, _, vids = listed_company(county, local(2026, 9, 1))
    glitch, dismissed = _finding(county, cid, vids[0]), _finding(county, cid, vids[1], minute=5)
    with county.session() as s:
        findings.dismiss(s, actor(county, "wang"), dismissed, reason="救护车", now=NOW)
        corrections.void_finding(s, actor(county, "police"), glitch, reason="GPS 漂移", now=NOW)  # city-level supervisor
    with county.session() as s:
        row = corrections.reopen_finding(s, actor(county, "wang"), dismissed, reason="误驳回", now=NOW)
        assert (row.state, row.reason) == ("suspected", None)
        with pytest.raises(Conflict):
            findings.confirm(s, actor(county, "wang"), glitch, now=NOW)
    with county.session(readonly=True) as s:
        assert [f["id"] for f in findings.list_findings(s, actor(county, "police"))] == [dismissed]
        assert [f["id"] for f in findings.list_findings(s, actor(county, "police"), state="voided")] == [glitch]
        g = s.get(tables.Finding, glitch)
        assert (g.voided_by, g.void_reason) == ("police", "GPS 漂移")
        assert audit.verify(s, actor(county, "admin")).ok
