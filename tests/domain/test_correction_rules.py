"""Corrections without deleting history (issue 15): who may void or correct, what states may be
voided, what a correction may change, and months owed going back when the inspection that met
them is voided. Pure, no database."""
import datetime as dt

import pytest

from listing.domain import corrections, findings, months, problems
from listing.domain.policy import CITY, Actor, Role, authorize_correction, may_move_to, supervises
from messages.errors import Conflict, PermissionDenied, ValidationError

D = dt.date(2026, 11, 20)
WANG = Actor("wang", Role.POLICE, "交警大队", "西湖区")
CITY_POLICE = Actor("chief", Role.POLICE, "交警支队", CITY)
CITY_TRANSPORT = Actor("yun", Role.TRANSPORT, "运管处", CITY)
ADMIN = Actor("admin", Role.ADMIN, "信息中心", CITY)
REVIEWER = Actor("zhao", Role.REVIEWER, "交安委", CITY)
OTHER = Actor("qian", Role.POLICE, "交警大队", "西湖区")


def test_the_recorder_or_a_supervisor_of_the_department_may_void():
    ok = dict(recorder="wang", department="police", jurisdiction="西湖区")
    authorize_correction(WANG, "inspection.void", **ok)  # the recorder
    authorize_correction(CITY_POLICE, "inspection.void", **ok)  # city-level, same department
    authorize_correction(ADMIN, "inspection.void", **ok)
    with pytest.raises(PermissionDenied) as err:  # same county, same department, not the recorder
        authorize_correction(OTHER, "inspection.void", **ok)
    assert err.value.key == "err.not_recorder"
    with pytest.raises(PermissionDenied):  # city-level, but the other department
        authorize_correction(CITY_TRANSPORT, "inspection.void", **ok)
    with pytest.raises(PermissionDenied) as err:  # reviewers decide cases, they do not void records
        authorize_correction(REVIEWER, "inspection.void", **ok)
    assert err.value.key == "err.role_denied"
    with pytest.raises(PermissionDenied) as err:  # the recorder, moved to another county since
        authorize_correction(WANG, "inspection.void", recorder="wang", department="police", jurisdiction="滨江区")
    assert err.value.key == "err.jurisdiction_denied"
    assert supervises(CITY_TRANSPORT, "transport") and not supervises(CITY_TRANSPORT, "police")
    # a police inspection moved to transport: the police recorder may not, the administrator may
    assert not may_move_to(WANG, "transport") and may_move_to(WANG, "police")
    assert may_move_to(ADMIN, "transport") and may_move_to(CITY_TRANSPORT, "transport")
    with pytest.raises(PermissionDenied):  # only police (and the administrator) touch findings
        authorize_correction(CITY_TRANSPORT, "finding.reopen", recorder=None, department="police", jurisdiction="西湖区")


def test_an_inspection_is_voided_once_with_a_reason():
    rec = corrections.InspectionRecord(1, "U1", "police", D)
    assert corrections.void(rec, "  没有去  ") == "没有去"
    for reason in (None, "", "   "):
        with pytest.raises(ValidationError) as err:
            corrections.void(rec, reason)
        assert err.value.key == "err.reason_required"
    voided = corrections.InspectionRecord(1, "U1", "police", D, voided=True)
    for action in ("void", "correct"):
        with pytest.raises(Conflict) as err:
            corrections.void(voided, "x") if action == "void" else corrections.correct(voided, D, "x", day=D)
        assert err.value.key == "err.inspection_state"


def test_a_correction_says_what_changed_and_refuses_nothing_future_or_unknown():
    rec = corrections.InspectionRecord(1, "U1", "police", D)
    c = corrections.correct(rec, D, "日期录错", day=D - dt.timedelta(days=3))
    assert (c.company, c.department, c.day) == ("U1", "police", D - dt.timedelta(days=3))
    assert c.changed == {"day": [D, D - dt.timedelta(days=3)]} and c.reason == "日期录错"
    c = corrections.correct(rec, D, "r", company="U2", department="transport", day=D)
    assert c.changed == {"company": ["U1", "U2"], "department": ["police", "transport"]}
    with pytest.raises(ValidationError) as err:
        corrections.correct(rec, D, "r", day=D)  # the same day: nothing to change
    assert err.value.key == "err.nothing_to_change"
    with pytest.raises(ValidationError) as err:
        corrections.correct(rec, D, "r", day=D + dt.timedelta(days=1))
    assert err.value.key == "err.date_in_future"
    with pytest.raises(ValidationError) as err:
        corrections.correct(rec, D, "r", department="fire")
    assert err.value.key == "err.department"
    with pytest.raises(ValidationError) as err:
        corrections.correct(rec, D, None, day=D - dt.timedelta(days=1))
    assert err.value.key == "err.reason_required"


def test_a_problem_in_any_state_may_be_voided_once_with_a_reason_and_voided_ones_do_not_count():
    for state in ("open", "rectified", "verified", "reopened"):
        p = problems.ProblemCase(id=1, state=state, created_on=D)
        assert problems.void(p, "录错了").state == problems.VOIDED
        with pytest.raises(ValidationError):
            problems.void(p, " ")
    gone = problems.ProblemCase(id=1, state="voided", created_on=D)
    with pytest.raises(Conflict):
        problems.void(gone, "again")
    for action in problems.ACTIONS:  # a voided problem is final
        with pytest.raises(Conflict):
            problems.change(gone, action, "wang", D, D)
    with pytest.raises(Conflict):  # voiding goes through void(), with its reason, never change()
        problems.change(problems.ProblemCase(id=1, state="open", created_on=D), "void", "wang", D, D)
    assert problems.VOIDED not in problems.OPEN_STATES and problems.CLOSED not in problems.OPEN_STATES


def test_a_finding_decided_by_mistake_goes_back_to_suspected_and_undoes_the_confirmation():
    back = findings.decide(1, "confirmed", "reopen", "overspeed", "看错了")
    assert back == findings.Decision("suspected", False, False, undoes_confirmation=True)
    assert findings.decide(1, "dismissed", "reopen", "overspeed", "误驳回") == findings.Decision("suspected", False, False)
    assert findings.decide(1, "suspected", "void", "overspeed", "GPS 漂移").state == "voided"
    assert findings.decide(1, "confirmed", "void", "overspeed", "GPS 漂移").undoes_confirmation
    for action in ("reopen", "void"):
        with pytest.raises(ValidationError):
            findings.decide(1, "confirmed", action, "overspeed", "")
    with pytest.raises(Conflict):
        findings.decide(1, "suspected", "reopen", "overspeed", "r")  # not decided yet
    for action in ("confirm", "dismiss", "reopen", "void"):
        with pytest.raises(Conflict):
            findings.decide(1, "voided", action, "overspeed", "r")


def test_a_met_month_whose_inspection_is_voided_is_owed_again_or_missed_once_due():
    met = months.Obligation.MET
    assert months.resettle(met, "2026-11", False, dt.date(2026, 11, 20)) is months.Obligation.OWED
    assert months.resettle(met, "2026-11", False, dt.date(2026, 12, 1)) is months.Obligation.MISSED
    assert months.resettle(met, "2026-11", False, dt.date(2026, 12, 1), still_owed=False) is months.Obligation.WAIVED
    assert months.resettle(met, "2026-11", True, dt.date(2026, 12, 1)) is met  # another one still counts
    assert months.settle(met, "2026-11", False, dt.date(2026, 12, 1)) is met  # the daily job never takes it back
    # a correction moving an inspection into a missed month meets it
    assert months.resettle(months.Obligation.MISSED, "2026-11", True, dt.date(2026, 12, 3)) is met
    assert months.step(months.Obligation.OWED, months.ObligationEvent.LOST) is months.Obligation.OWED
