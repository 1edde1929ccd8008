"""Problem and finding lifecycles, dates and the look-back rule: pure, no database."""
import datetime as dt

import pytest

from listing.dates import parse_date, parse_month
from listing.domain import findings, lookback, problems
from messages.errors import Conflict, PermissionDenied, ValidationError

D = dt.date(2026, 11, 20)


def test_problem_lifecycle_table_four_eyes_and_dates():
    p = problems.ProblemCase(id=1, state="open", created_on=D)
    p = problems.change(p, "rectify", "li", D, D)
    with pytest.raises(PermissionDenied):
        problems.change(p, "verify", "li", D, D)
    with pytest.raises(ValidationError) as err:
        problems.change(p, "verify", "wang", D + dt.timedelta(days=1), D)
    assert err.value.key == "err.date_in_future"
    with pytest.raises(ValidationError):
        problems.change(p, "verify", "wang", D - dt.timedelta(days=1), D)  # before the problem existed
    p = problems.change(p, "verify", "wang", D, D)
    assert (p.state, p.rectified_by, p.verified_by) == ("verified", "li", "wang")
    p = problems.change(p, "reopen", "zhao", D, D)
    assert (p.state, p.verified_by) == ("reopened", None)
    for state in ("open", "rectified", "verified", "reopened"):
        for action in problems.ACTIONS:
            case = problems.ProblemCase(id=2, state=state, created_on=D, rectified_by="li")
            if (state, action) in problems.TRANSITIONS:
                assert problems.change(case, action, "wang", D, D).state == problems.TRANSITIONS[(state, action)]
            else:
                with pytest.raises(Conflict):
                    problems.change(case, action, "wang", D, D)


def test_finding_lifecycle():
    assert findings.decide(1, "suspected", "confirm", "overspeed") == findings.Decision("confirmed", True, True)
    assert findings.decide(1, "suspected", "confirm", "partial_data") == findings.Decision("confirmed", False, True)
    assert findings.decide(1, "suspected", "dismiss", "overspeed", "误报").state == "dismissed"
    with pytest.raises(ValidationError):
        findings.decide(1, "suspected", "dismiss", "overspeed", "  ")
    for state in ("confirmed", "dismissed"):
        with pytest.raises(Conflict):
            findings.decide(1, state, "confirm", "overspeed")


@pytest.mark.parametrize("text,expected", [
    ("2026-11-20", D), ("2026/11/20", D), ("2026.11.20", D), ("2026年11月20日", D), (" 2026-1-5 ", dt.date(2026, 1, 5)),
])
def test_dates_people_write_are_read(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize("text,key", [
    ("20261120", "err.date_format"), ("20/11/2026", "err.date_format"), ("2026-13-01", "err.no_such_date"),
    ("2026-02-30", "err.no_such_date"), ("", "err.date_format"), ("tomorrow", "err.date_format"),
])
def test_wrong_dates_are_one_clear_error(text, key):
    with pytest.raises(ValidationError) as err:
        parse_date(text, "--date")
    assert err.value.key == key and "--date" in err.value.message("en") and "{" not in err.value.message("zh")


def test_months():
    assert parse_month("2026-11") == parse_month("2026/11") == parse_month("2026年11月") == "2026-11"
    for bad in ("2026-13", "202611", "11-2026"):
        with pytest.raises(ValidationError):
            parse_month(bad)


def test_lookback_starts_after_the_last_listing():
    start = dt.date(2025, 12, 2)
    assert lookback.window_start(start, dt.date(2026, 8, 1), "after_last_listing") == dt.date(2026, 8, 1)
    assert lookback.window_start(start, dt.date(2026, 8, 1), "full_window") == start
    assert lookback.window_start(start, dt.date(2025, 1, 1), "after_last_listing") == start  # long ago
    assert lookback.window_start(start, None, "after_last_listing") == start
    assert lookback.too_short(dt.date(2026, 11, 10), dt.date(2026, 12, 2))
