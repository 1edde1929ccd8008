"""People read messages, not internals: one date parser for every date option, jobs that refuse a
period not over yet or a role not allowed, results as sentences, no raw message key."""
import datetime as dt
import re

import pytest
from typer.testing import CliRunner

import main
from jobs.definitions import JOBS
from jobs.scheduler import next_run
from listing.settings import JobTimes, Settings
from listing.timeutil import LOCAL_TZ, local_today

RAW_KEY = re.compile(r"\b(err|msg|result|notify)\.[a-z_.]+|\{'|\{\"")


@pytest.fixture
def cli(sqlite_url, monkeypatch, tmp_path):
    monkeypatch.delenv("GUAPAI_USER", raising=False)
    monkeypatch.setenv("GUAPAI_CONFIG", str(tmp_path / "none.toml"))
    runner = CliRunner()

    def run(*args, user=None, lang="en"):
        return runner.invoke(main.app, ["--db", sqlite_url, "--lang", lang] + (["--as", user] if user else []) + list(args))

    assert run("users", "add", "admin", "--role", "admin", "--department", "x", "--jurisdiction", "*").exit_code == 0
    for name, role in (("wang", "police"), ("li", "transport"), ("zhao", "reviewer")):
        assert run("users", "add", name, "--role", role, "--department", "x", "--jurisdiction", "*", user="admin").exit_code == 0
    return run


def one_clear_line(r, code=2):
    assert r.exit_code == code, (r.stdout, r.stderr)
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in r.stderr and not RAW_KEY.search(lines[0]), r.stderr
    return lines[0]


@pytest.mark.parametrize("args", [
    ("inspect", "list", "--month", "2026-13"),
    ("findings", "list", "--date", "20261120"),
    ("findings", "list", "--date", "2026-13-01"),
    ("sample", "show", "--date", "20/11/2026"),
    ("rules", "check", "--as-of", "2026-02-30"),
    ("rules", "backtest", "--from", "2026-01", "--to", "2026-11-24"),
    ("jobs", "run", "deadlines", "--date", "20261120"),
    ("jobs", "simulate", "--from", "2026.13.01", "--days", "1"),
])
def test_a_wrong_date_anywhere_is_one_clear_line_and_exit_2(cli, args):
    line = one_clear_line(cli(*args, user="admin"))
    assert "2026" in line or "year" in line


def test_slashes_are_a_date_and_future_inspections_are_refused(cli):
    assert cli("findings", "list", "--date", "2026/11/20", "--json", user="wang").exit_code == 0
    tomorrow = local_today() + dt.timedelta(days=1)
    line = one_clear_line(cli("inspect", "record", "--company", "1", "--department", "police", "--date", str(tomorrow),
                              user="wang"))
    assert "after today" in line
    line = one_clear_line(cli("problems", "rectify", "1", "--date", tomorrow.strftime("%Y/%m/%d"), user="li"))
    assert "after today" in line


def test_jobs_run_refuses_a_period_not_over_and_roles_not_allowed(cli):
    today = local_today()
    line = one_clear_line(cli("jobs", "run", "sampling", "--date", str(today), user="wang"))
    assert "not over yet" in line and "Beijing" in line
    next_month = (today.replace(day=1) + dt.timedelta(days=32)).strftime("%Y-%m")
    assert "not over yet" in one_clear_line(cli("jobs", "run", "rules", "--date", next_month, user="admin"))
    one_clear_line(cli("jobs", "run", "deadlines", "--date", str(today - dt.timedelta(days=1)), user="zhao"), code=3)
    one_clear_line(cli("jobs", "run", "deadlines", "--date", str(today - dt.timedelta(days=1)), user="wang"), code=3)


def test_job_results_are_sentences_in_the_chosen_language(cli):
    day = str(local_today() - dt.timedelta(days=1))
    r = cli("jobs", "run", "inspections", "--date", day, user="admin")
    assert r.exit_code == 0 and "listed companies" in r.stderr and not RAW_KEY.search(r.stderr), r.stderr
    r = cli("jobs", "run", "deadlines", "--date", day, user="admin", lang="zh")
    assert r.exit_code == 0 and "个周期届满" in r.stderr and not RAW_KEY.search(r.stderr), r.stderr


def test_a_service_error_in_a_job_is_its_message_not_its_key(cli):
    day = str(local_today() - dt.timedelta(days=2))
    r = cli("jobs", "run", "sampling", "--date", day, user="wang")  # no sampling secret configured
    assert r.exit_code == 1 and "GUAPAI_SAMPLING_SECRET" in r.stderr and "err.sampling_secret" not in r.stderr + r.stdout


@pytest.mark.parametrize("day", [29, 30, 31])
def test_a_monthly_day_past_the_28th_runs_on_short_months_last_day(day):
    settings = Settings(jobs=JobTimes(rules_day=day))
    rules = JOBS["rules"]
    after = next_run(rules, settings, dt.datetime(2027, 1, 31, 12, tzinfo=LOCAL_TZ))
    assert after == dt.datetime(2027, 2, 28, 8, 0, tzinfo=LOCAL_TZ)
    assert rules.due_time(settings, "2028-02").date() == dt.date(2028, 2, 29 if day >= 29 else day)
    assert rules.due_time(settings, "2027-04").date() == dt.date(2027, 4, min(day, 30))
    assert rules.due_time(settings, "2027-05").date() == dt.date(2027, 5, day)
    periods = rules.periods_due(settings, dt.datetime(2027, 3, 1, tzinfo=LOCAL_TZ), 60)
    assert periods[-1] == "2027-02"


def test_a_daily_next_run_is_the_next_time_of_day():
    s = Settings()
    now = dt.datetime(2026, 12, 31, 23, 0, tzinfo=LOCAL_TZ)
    assert next_run(JOBS["sampling"], s, now) == dt.datetime(2027, 1, 1, 2, 30, tzinfo=LOCAL_TZ)
