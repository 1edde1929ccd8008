"""A stateful property test of the case engine: hypothesis drives the real services through random
sequences (inspect, open and close problems, findings, decide early or late, clock jumps of hours,
days and weeks, a robot down and back, the scheduler stopped and restarted, the vehicle-monitoring
platform up, down, refusing our token or answering that a vehicle sent nothing, the daily sampling
run by the scheduler and by hand) against a small in-memory model, and checks the guarantees after
every step.

The platform is a fake behind an httpx transport (tests/case/fake_platform.py) that knows what
every vehicle did each day, so the machine checks that a platform failure is never held against
the company, that a day is done only with a real answer for each sampled vehicle-day, that retried
days change nothing stored, that `sample verify` reproduces every draw, and that partial or
missing data never counts as a clean vehicle-day. The scheduler's own clock (claims, backoff) is
the machine's clock, as it is the wall clock in real operation.

SQLite in CI; PostgreSQL with a smaller budget. The seed is printed: rerun a failure with
GUAPAI_MACHINE_SEED=<seed>. More steps: GUAPAI_LONG=1. New rules are added as methods with
@rule / @precondition on the model below.
"""
from __future__ import annotations

import datetime as dt
import os
import random
import tempfile
import time
import uuid
from collections import Counter

import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import HealthCheck, event, seed, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlmodel import func, select
from tenacity import wait_none

import jobs.scheduler
from jobs.definitions import JOBS
from jobs.notify import Fanout
from jobs.scheduler import run_period, tick
from listing.clients import platform as platform_client
from listing.clients.platform import PlatformAuthError
from listing.domain import months
from listing.services import findings, inspections, notifications, problems, review, sampling
from listing.services.sampling import SamplingIncomplete
from listing.services.notifications import LogChannel
from listing.settings import Settings
from listing.store import tables
from listing.store.db import open_store
from listing.timeutil import LOCAL_TZ
from messages.errors import GuapaiError, ValidationError
from rules import sampling as statuses
from tests.case import fake_platform
from tests.case.fake_platform import FakePlatform
from tests.conftest import _PG_SKIP, NOW, PG_ADMIN_URL, actor
from tests.scenario import listed_company

START = dt.datetime(2026, 1, 12, 10, 0, tzinfo=LOCAL_TZ)
SETTINGS = Settings(remind_from_day=20, catch_up_days=7, platform_url="http://platform.test",
                    platform_token="machine-token", sampling_secret="machine-secret",
                    sampling_catch_up_days=45)  # short enough that a long stop also goes past it
SAMPLING = JOBS["sampling"]
SAMPLED_AT = dt.time(2, 30)  # SETTINGS.jobs.sampling: yesterday is due from then on
LONGEST_BACKOFF = dt.timedelta(minutes=SETTINGS.sampling_retry_max_minutes)
EXPECTED_STATUS = {"drove": statuses.SCANNED, "speeding": statuses.SCANNED, "silent": statuses.NO_DATA,
                   "cut_off": statuses.PARTIAL}
CURRENT: list = [None]  # the machine running now: its clock is the scheduler's wall clock
LONG = os.environ.get("GUAPAI_LONG") == "1"
SEEN: Counter = Counter()  # what the runs reached, printed so a budget too small to matter shows


class Robot:
    """A group robot that can be down: it raises like the real ones and records what it posted."""

    name = "robot"

    def __init__(self) -> None:
        self.down = False
        self.posted: list[str] = []

    def send(self, key: str, title: str, text: str) -> None:
        if self.down:
            raise GuapaiError("err.notify", channel=self.name, reason="HTTP 502")
        self.posted.append(key)


def _sqlite_url() -> tuple[str, object]:
    folder = tempfile.mkdtemp(prefix="guapai-machine-")
    return f"sqlite:///{folder}/case.sqlite", None


def _pg_url() -> tuple[str, object]:
    import psycopg

    name = f"guapai_machine_{uuid.uuid4().hex[:10]}"
    admin = PG_ADMIN_URL.replace("+psycopg", "")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}", drop


class CaseMachine(RuleBasedStateMachine):
    make_url = staticmethod(_sqlite_url)

    def __init__(self) -> None:
        super().__init__()
        from listing.services.users import add_user

        url, self._drop = self.make_url()
        self.store = open_store(url)
        with self.store.session() as s:
            add_user(s, None, "admin", "admin", "信息中心", "*", now=NOW)
            for name, role in (("police", "police"), ("transport", "transport"), ("reviewer", "reviewer")):
                add_user(s, "admin", name, role, name, "*", now=NOW)
        self.people = {n: actor(self.store, n) for n in ("police", "transport", "reviewer")}
        self.now = START
        self.cid, self.lid, self.vids = listed_company(self.store, START, vehicles=11, number=1)  # two sampled a day
        with self.store.session(readonly=True) as s:
            self.uscc = s.get(tables.Company, self.cid).uscc
            self.plates = dict(s.exec(select(tables.Vehicle.id, tables.Vehicle.plate)).all())
        self.robot, self.log = Robot(), LogChannel(sink=lambda text: None)
        self.channel = Fanout([self.log, self.robot])
        self.platform = FakePlatform(names={plate: f"vehicle {i}" for i, plate in enumerate(sorted(self.plates.values()))})
        self.outage: tuple[str, dt.datetime] | None = None  # (how, until when) the platform is down
        self.token_refused: str | None = None  # 401/403 until the token is fixed
        CURRENT[0] = self
        # the model
        self.confirmed = START.date()
        self.cycles = [(self.confirmed, self.confirmed + relativedelta(months=3))]
        self.state = "listed"
        self.delisted_as_of: dt.date | None = None
        self.problems: dict[int, str] = {}
        self.inspected: set[tuple[str, str]] = set()  # (month, department) with an inspection that counts
        self.suspected: list[int] = []  # findings of the sampling waiting for the police
        self.scheduler_on = True
        self.delivered_now = self.settled_now = False
        self.reminders_seen: set[str] = set()
        self.decided_open: dict[int, int] = {}  # cycle number -> unverified problems when it was decided
        # the daily sampling
        self.sampling_due: set[dt.date] = set()  # days due while the company was listed: each one is drawn
        self.last_platform_failure: dt.datetime | None = None  # when a sampling run last failed
        self.sampling_settled = False  # the last tick found the platform up, past every backoff
        self.failed_days: set[dt.date] = set()  # days a run failed for, not done since
        self.covered_to: dt.date | None = None  # the newest day a tick made due while listed
        self.samples_seen: dict[int, tuple] = {}  # each sample as drawn, and as answered
        self.findings_seen: dict[int, tuple] = {}  # each finding as stored
        self.verified_days: set[dt.date] = set()

    @initialize(salt=st.integers(0, 2**20))
    def what_the_vehicles_did(self, salt):
        """The platform's data: which vehicle-days drove, sped, sent nothing or were cut off."""
        self.platform.salt = salt

    def teardown(self) -> None:
        self.store.engine.dispose()
        if self._drop:
            self._drop()

    @property
    def today(self) -> dt.date:
        return self.now.date()

    def _last_day_over(self) -> dt.date:
        """The newest day whose sampling may run: yesterday from the job's time (02:30) on."""
        return self.today - dt.timedelta(days=1 if self.now.time() >= SAMPLED_AT else 2)

    def _tick(self) -> None:
        # the days this tick samples, in the model's words: back to the confirmation, at most
        # sampling_catch_up_days before yesterday (catch_up_days if that is more)
        window_from = self.today - dt.timedelta(days=max(SETTINGS.catch_up_days, SETTINGS.sampling_catch_up_days) + 1)
        if self.state in ("listed", "under_review") and self._last_day_over() >= self.confirmed:
            first = max(window_from, self.confirmed)
            if self.covered_to and first > self.covered_to + dt.timedelta(days=1):
                SEEN["days past catch-up while the scheduler was stopped"] += (first - self.covered_to).days - 1
            self.sampling_due |= {first + dt.timedelta(days=i) for i in range((self._last_day_over() - first).days + 1)}
            self.covered_to = max(self.covered_to or first, self._last_day_over())
        outcomes = tick(self.store, SETTINGS, self.channel, clock=lambda: self.now,
                        jobs=["deadlines", "inspections", "sampling"], platform_transport=self.platform.transport)
        self.delivered_now = True  # every tick delivers what is due in the outbox
        # the months are settled as of now once today's inspection run has happened after the last
        # entry (an inspection typed after today's run is settled by tomorrow's)
        self.settled_now = self.settled_now or any(o.job == "inspections" and o.period == str(self.today)
                                                   and o.status == "done" for o in outcomes)
        deadlines_ran = self.now >= dt.datetime.combine(self.cycles[-1][1], dt.time(0, 10), tzinfo=LOCAL_TZ)
        if self.state == "listed" and deadlines_ran:
            self.state = "under_review"
        self._sampling_ran([o for o in outcomes if o.job == "sampling"])
        # every failed day was retried (its backoff is at most LONGEST_BACKOFF) with the platform up
        if self.platform.mode == fake_platform.UP and (self.last_platform_failure is None
                                                      or self.now - self.last_platform_failure >= LONGEST_BACKOFF):
            self.sampling_settled = True

    def _sampling_ran(self, outcomes) -> None:
        mode = self.platform.mode
        for o in outcomes:
            day = dt.date.fromisoformat(o.period)
            if mode == fake_platform.UP:
                assert o.status == "done", (o.period, o.error)
            if o.status == "failed":
                # (6) our token refused: the run stops and says so; the platform down: not done, retried
                expected = PlatformAuthError if mode in fake_platform.REFUSED else SamplingIncomplete
                assert isinstance(o.exception, expected), (mode, o.error)
                SEEN["sampling runs failed: token refused" if expected is PlatformAuthError
                     else "sampling runs failed: platform down"] += 1
                self.last_platform_failure, self.sampling_settled = self.now, False
                self.failed_days.add(day)
                with self.store.session(readonly=True) as s:
                    SEEN["days left half answered"] += bool(s.exec(select(tables.Sample.id).where(
                        tables.Sample.day == day, tables.Sample.status != statuses.WAITING)).first())
            elif o.status == "done" and day in self.failed_days:
                SEEN["days sampled after an outage"] += 1
                SEEN["of which older than catch_up_days"] += day < self.today - dt.timedelta(days=SETTINGS.catch_up_days + 1)
                self.failed_days.discard(day)
        if outcomes:
            with self.store.session(readonly=True) as s:
                self.suspected = sorted(s.exec(select(tables.Finding.id).where(tables.Finding.state == "suspected")).all())

    # ---- time and the world around the case ---------------------------------------------

    def _time_goes(self, delta: dt.timedelta) -> None:
        self.now += delta
        self.delivered_now = self.settled_now = self.sampling_settled = False
        self._platform_now()
        if self.scheduler_on:
            self._tick()

    @rule(days=st.sampled_from([1, 2, 3, 5, 9, 16, 23, 31, 45, 62]))
    def time_passes(self, days):
        self._time_goes(dt.timedelta(days=days))
        SEEN["misses recorded"] = max(SEEN["misses recorded"], self._count(tables.InspectionMiss))
        SEEN["robot down at a tick"] += self.robot.down and self.scheduler_on

    @rule(hours=st.sampled_from([1, 3, 5]))
    def hours_pass(self, hours):
        """A tick within a failed day's backoff, or across the sampling's time of day."""
        self._time_goes(dt.timedelta(hours=hours))

    @precondition(lambda self: self.state == "listed")
    @rule(extra=st.integers(0, 50))
    def time_passes_to_the_cycle_end(self, extra):
        """To the current cycle's due date and some days beyond (reviews decided early or late)."""
        days = (self.cycles[-1][1] + dt.timedelta(days=extra) - self.today).days
        if days > 0:
            self.time_passes(days)

    def _count(self, table) -> int:
        with self.store.session(readonly=True) as s:
            return len(s.exec(select(table.id)).all())

    @rule()
    def scheduler_stops(self):
        self.scheduler_on = False

    @precondition(lambda self: not self.scheduler_on)
    @rule()
    def scheduler_restarts(self):
        self.scheduler_on = True
        self._tick()

    @rule(down=st.booleans())
    def robot_goes(self, down):
        self.robot.down = down
        self.delivered_now = False  # what it missed is sent at the next tick

    def _platform_now(self) -> None:
        """Down while an outage lasts; otherwise refusing our token until it is fixed, or up."""
        down = self.outage is not None and self.now < self.outage[1]
        self.platform.mode = self.outage[0] if down else (self.token_refused or fake_platform.UP)

    @rule(mode=st.sampled_from(fake_platform.DOWN + ("some_503",)), hours=st.sampled_from([3, 30, 72, 170, 400]))
    def platform_goes_down(self, mode, hours):
        """Connection refused, timeouts or 503s (for all or some vehicles), for hours or whole days,
        then back by itself."""
        self.outage = (mode, self.now + dt.timedelta(hours=hours))
        self.platform.outages += 1
        self._platform_now()

    @rule(mode=st.sampled_from(fake_platform.REFUSED))
    def platform_refuses_our_token(self, mode):
        """401/403: our configuration, until an administrator fixes the token."""
        self.token_refused = mode
        self._platform_now()

    @precondition(lambda self: self.token_refused is not None)
    @rule()
    def token_fixed(self):
        self.token_refused = None
        self._platform_now()

    @precondition(lambda self: self._last_day_over() >= self.confirmed)
    @rule(data=st.data())
    def police_run_a_day_by_hand(self, data):
        """`jobs run sampling --date D` by a police officer, for a day not done (left by a stopped
        scheduler, or waiting for the platform), in any order; a day not over is refused."""
        with pytest.raises(ValidationError):
            SAMPLING.check_over(SETTINGS, str(self._last_day_over() + dt.timedelta(days=1)), self.now)
        with self.store.session(readonly=True) as s:
            done = set(s.exec(select(tables.JobRun.period).where(tables.JobRun.job == "sampling",
                                                                 tables.JobRun.state == "done")).all())
            drawn = s.exec(select(func.max(tables.SampleDraw.day))).one()
        span = (self._last_day_over() - self.confirmed).days + 1
        days = [d for d in (self.confirmed + dt.timedelta(days=i) for i in range(span)) if str(d) not in done]
        if not days:
            return
        day = data.draw(st.sampled_from(days), label="day")
        SAMPLING.check_over(SETTINGS, str(day), self.now)
        SAMPLING.authorize_run(self.people["police"])
        if self.state in ("listed", "under_review"):
            self.sampling_due.add(day)
            SEEN["days drawn out of order"] += drawn is not None and day < drawn and day not in self.samples_days()
        SEEN["days run by hand"] += 1
        self._sampling_ran([run_period(self.store, SETTINGS, self.channel, SAMPLING, str(day), clock=lambda: self.now,
                                       platform_transport=self.platform.transport)])

    def samples_days(self) -> set[dt.date]:
        with self.store.session(readonly=True) as s:
            return set(s.exec(select(tables.Sample.day).distinct()).all())

    # ---- officers ---------------------------------------------------------------------------

    @rule(dept=st.sampled_from(months.DEPARTMENTS), days_ago=st.integers(0, 45), problem=st.booleans())
    def inspect(self, dept, days_ago, problem):
        day = self.today - dt.timedelta(days=days_ago)
        who = self.people["police" if dept == "police" else "transport"]
        with self.store.session() as s:
            row = inspections.record(s, who, self.uscc, dept, day, now=self.now,
                                     problems=[("隐患", None)] if problem else [])
            pids = s.exec(select(tables.Problem.id).where(tables.Problem.source == "inspection",
                                                          tables.Problem.source_id == row.id)).all()
        self.problems.update({pid: "open" for pid in pids})
        self.settled_now = False  # the next daily run settles the month (a late entry turns a miss into met)
        if day >= self.confirmed:
            self.inspected.add((months.month_of(day), dept))

    @rule(dept=st.sampled_from(months.DEPARTMENTS), days_ahead=st.integers(1, 40))
    def inspection_dated_in_the_future_is_refused(self, dept, days_ahead):
        who = self.people["police" if dept == "police" else "transport"]
        with self.store.session(readonly=True) as s:
            before = len(s.exec(select(tables.Inspection.id)).all())
        with pytest.raises(ValidationError):
            with self.store.session() as s:
                inspections.record(s, who, self.uscc, dept, self.today + dt.timedelta(days=days_ahead), now=self.now)
        with self.store.session(readonly=True) as s:
            assert len(s.exec(select(tables.Inspection.id)).all()) == before

    @precondition(lambda self: any(st_ in ("open", "reopened") for st_ in self.problems.values()))
    @rule(data=st.data())
    def rectify(self, data):
        pid = data.draw(st.sampled_from(sorted(p for p, s in self.problems.items() if s in ("open", "reopened"))))
        with self.store.session() as s:
            problems.change(s, self.people["transport"], pid, "rectify", now=self.now)
        self.problems[pid] = "rectified"

    @precondition(lambda self: any(st_ == "rectified" for st_ in self.problems.values()))
    @rule(data=st.data(), reopen=st.booleans())
    def verify_or_reopen(self, data, reopen):
        pid = data.draw(st.sampled_from(sorted(p for p, s in self.problems.items() if s == "rectified")))
        with self.store.session() as s:
            problems.change(s, self.people["police"], pid, "reopen" if reopen else "verify", now=self.now)
        self.problems[pid] = "reopened" if reopen else "verified"

    @precondition(lambda self: bool(self.suspected))
    @rule(confirm=st.booleans())
    def police_review_a_finding(self, confirm):
        fid = self.suspected.pop()
        with self.store.session() as s:
            if confirm:
                row = findings.confirm(s, self.people["police"], fid, now=self.now)
                self.problems[row.problem_id] = "open"
            else:
                findings.dismiss(s, self.people["police"], fid, reason="误报", now=self.now)

    @precondition(lambda self: self.state == "under_review")
    @rule(passed=st.booleans())
    def reviewer_decides(self, passed):
        """Early or late: whenever the review is pending, whatever the robot's state."""
        number = len(self.cycles)
        late = (self.today - self.cycles[-1][1]).days
        event(f"decided cycle {number}, {'pass' if passed else 'fail'}, {late // 7} weeks late")
        SEEN["decisions"] += 1
        SEEN["decided 3+ weeks late"] += late >= 21
        SEEN["decided in cycle 2 or later"] += number >= 2
        with self.store.session() as s:
            row = review.decide(s, self.people["reviewer"], self.lid, passed, reason="验收", now=self.now,
                                channel=self.channel)
        self.decided_open[number] = sum(1 for v in self.problems.values() if v != "verified")
        self._sampling_items_as_modelled(number)
        self.verified_days.clear()  # every draw is verified again, whatever was drawn since
        if passed:
            assert row.state == "delisted"
            self.state, self.delisted_as_of = "delisted", self.today  # supervised until the decision
        else:
            assert row.state == "listed"
            due = self.confirmed + relativedelta(months=3 * (number + 1))
            self.cycles.append((self.cycles[-1][1], due))
            self.state = "listed"
        notifications.deliver(self.store, self.channel, now=self.now)  # what the CLI does after commit

    def _sampling_items_as_modelled(self, number: int) -> None:
        """(5) The decided checklist's clean vehicle-days are the sampled days the platform answered
        with complete data (never a partial or missing one); its days sampled are the days due."""
        start, due = self.cycles[number - 1]
        answered = self.platform.answered()
        with self.store.session(readonly=True) as s:
            cycle = s.exec(select(tables.Cycle).where(tables.Cycle.listing_id == self.lid, tables.Cycle.number == number)).one()
            rows = s.exec(select(tables.Sample.day, tables.Sample.vehicle_id).where(
                tables.Sample.day >= start, tables.Sample.day < due)).all()
        clean = Counter(months.month_of(day) for day, vid in rows if (self.plates[vid], day) in answered
                        and self.platform.truth(self.plates[vid], day) in fake_platform.COMPLETE)
        items = {i["item"]: i["evidence"] for i in cycle.checklist["items"]}
        got = {r["month"]: r["vehicle_days"] for r in items["sampled_violation_rate"]["by_month"]}
        assert got == {m: clean.get(m, 0) for m in got} and sum(got.values()) == sum(clean.values()), (got, clean)
        sampled = {d for d in self.sampling_due if start <= d < due and d <= self.today}
        assert items["sampling_coverage"]["days_sampled"] == len(sampled)
        SEEN["decisions with partial or missing days in the cycle"] += len(rows) > sum(clean.values())

    # ---- guarantees -------------------------------------------------------------------------

    @invariant()
    def a_platform_failure_is_never_the_companys_fault(self):
        """(1, 6) Only the platform's real answer is judged, as what the vehicle did: `no_data`
        only where a known vehicle sent nothing; down or refusing our token, the vehicle-day waits."""
        answers = {(plate, day) for plate, day, real in self.platform.log if real}
        with self.store.session(readonly=True) as s:
            rows = s.exec(select(tables.Sample.id, tables.Sample.day, tables.Sample.vehicle_id, tables.Sample.status)).all()
            data = s.exec(select(tables.Finding.sample_id, tables.Finding.rule).where(
                tables.Finding.rule.in_(statuses.DATA_RULES))).all()
        of = {}
        for sid, day, vid, status in rows:
            of[sid] = (self.plates[vid], day)
            truth = self.platform.truth(*of[sid])
            if status == statuses.WAITING:
                assert of[sid] not in answers, of[sid]  # an answer is stored as soon as it is given
            else:
                assert of[sid] in answers and status == EXPECTED_STATUS[truth], (of[sid], status, truth)
        for sid, rule_ in data:
            assert of[sid] in answers, (of[sid], rule_)
            assert rule_ == {"silent": "no_data", "cut_off": "partial_data"}.get(self.platform.truth(*of[sid])), (of[sid], rule_)
        statuses_now = Counter(status for *_, status in rows)
        for status, name in ((statuses.NO_DATA, "vehicle-days with no positions"), (statuses.PARTIAL, "partial vehicle-days")):
            SEEN[name] = max(SEEN[name], statuses_now[status])

    @invariant()
    def a_day_is_done_only_with_every_answer(self):
        """(2) A day's run is not done while a sampled vehicle-day waits; every day due while listed
        is drawn (and no other); once the platform is back and the scheduler ticked past every
        backoff, every such day is done and each sampled vehicle-day answered."""
        with self.store.session(readonly=True) as s:
            done = set(s.exec(select(tables.JobRun.period).where(tables.JobRun.job == "sampling",
                                                                 tables.JobRun.state == "done")).all())
            waiting = set(s.exec(select(tables.Sample.day).where(tables.Sample.status == statuses.WAITING)).all())
            keys = s.exec(select(tables.OutboxMessage.key).where(tables.OutboxMessage.key.startswith("sampling-waiting:"))).all()
        assert not {str(d) for d in waiting} & done, sorted(waiting)
        assert self.samples_days() == self.sampling_due
        if self.sampling_settled:
            assert not waiting, sorted(waiting)
            assert {str(d) for d in self.sampling_due} <= done
            SEEN["checks of every due day done"] += bool(self.sampling_due)
        SEEN["days the platform kept waiting past the notice"] = max(SEEN["days the platform kept waiting past the notice"], len(keys))

    @invariant()
    def retried_days_change_nothing_stored(self):
        """(3) One run, one draw, one sample per day and vehicle; what is stored stays as it was."""
        with self.store.session(readonly=True) as s:
            runs = Counter(s.exec(select(tables.JobRun.period).where(tables.JobRun.job == "sampling")).all())
            draws = Counter(s.exec(select(tables.SampleDraw.day, tables.SampleDraw.company_id)).all())
            samples = s.exec(select(tables.Sample)).all()
            found = s.exec(select(tables.Finding.id, tables.Finding.sample_id, tables.Finding.rule, tables.Finding.start,
                                  tables.Finding.end, tables.Finding.evidence)).all()
        assert max(runs.values(), default=1) == 1 and max(draws.values(), default=1) == 1
        assert max(Counter((x.day, x.vehicle_id) for x in samples).values(), default=1) == 1
        for x in samples:
            row = (x.day, x.vehicle_id, x.rank) + (() if x.status == statuses.WAITING else
                                                   (x.status, x.points, x.coverage, x.scanned_at, x.attempts, x.last_error))
            seen = self.samples_seen.setdefault(x.id, row)
            assert row[:len(seen)] == seen, (seen, row)  # an answer is added to the draw, nothing else changes
            self.samples_seen[x.id] = row
        assert set(self.samples_seen) == {x.id for x in samples}
        for fid, *row in found:
            assert self.findings_seen.setdefault(fid, tuple(row)) == tuple(row), fid
        assert set(self.findings_seen) == {fid for fid, *_ in found}
        asked = Counter((plate, day) for plate, day, real in self.platform.log if real)
        assert max(asked.values(), default=1) == 1  # a retry asks only for the vehicle-days still waiting

    @invariant()
    def every_draw_is_verifiable(self):
        """(4) `sample verify` reproduces each day's draw from what it stored, in any order drawn."""
        with self.store.session(readonly=True) as s:
            days = set(s.exec(select(tables.SampleDraw.day).distinct()).all())
            for day in sorted(days - self.verified_days):
                checks = sampling.verify_day(s, self.people["reviewer"], day, SETTINGS.sampling_secret.encode(),
                                             SETTINGS.sampling_fraction)
                assert checks and all(c["match"] and c["stored_inputs"] for c in checks), checks
        self.verified_days |= days

    @invariant()
    def cycles_are_contiguous_and_as_modelled(self):
        with self.store.session(readonly=True) as s:
            rows = s.exec(select(tables.Cycle).where(tables.Cycle.listing_id == self.lid)
                          .order_by(tables.Cycle.number)).all()
            listing = s.get(tables.Listing, self.lid)
        assert [(c.start, c.due) for c in rows] == self.cycles
        assert rows[0].start == self.confirmed
        assert all(a.due == b.start for a, b in zip(rows, rows[1:]))
        assert listing.state == self.state

    @invariant()
    def all_problems_count_at_every_decision(self):
        with self.store.session(readonly=True) as s:
            rows = s.exec(select(tables.Cycle).where(tables.Cycle.listing_id == self.lid, tables.Cycle.outcome.is_not(None))).all()
        for c in rows:
            item = next(i for i in c.checklist["items"] if i["item"] == "problems_closed")
            assert item["evidence"]["open"] == self.decided_open[c.number]
            assert item["pass"] == (self.decided_open[c.number] == 0)

    @invariant()
    def nothing_is_dated_in_the_future(self):
        with self.store.session(readonly=True) as s:
            days = s.exec(select(tables.Inspection.day)).all()
            stamps = [t for r in s.exec(select(tables.Problem)).all() for t in (r.rectified_at, r.verified_at) if t]
        assert all(d <= self.today for d in days)
        assert all(t.replace(tzinfo=t.tzinfo or dt.timezone.utc) <= self.now for t in stamps)

    @invariant()
    def each_notice_reaches_each_channel_once(self):
        assert max(Counter(self.robot.posted).values(), default=0) <= 1
        assert max(Counter(k for k, _, _ in self.log.sent).values(), default=0) <= 1
        if self.delivered_now and not self.robot.down:
            with self.store.session(readonly=True) as s:
                waiting = s.exec(select(tables.OutboxMessage).where(tables.OutboxMessage.sent_at.is_(None),
                                                                    tables.OutboxMessage.next_attempt_at <= self.now)).all()
            assert waiting == []  # a robot back up gets everything it missed and is due again, once
        # the log never waits for the robot
        assert set(self.robot.posted) <= {k for k, _, _ in self.log.sent}

    @invariant()
    def months_owed_are_settled_and_reminded_only_when_owed(self):
        owed = months.owed_while_listed(self.confirmed, self.delisted_as_of, self.today)
        with self.store.session(readonly=True) as s:
            keys = set(s.exec(select(tables.OutboxMessage.key)).all())
            misses = {(m.month, m.department) for m in s.exec(select(tables.InspectionMiss)).all()}
            obligations = {(o.month, o.department): o.state for o in s.exec(select(tables.InspectionObligation)).all()}
        for key in keys - self.reminders_seen:
            if key.startswith("remind:"):
                _, _, month, _ = key.split(":")
                assert month in owed, (key, owed)
        self.reminders_seen |= {k for k in keys if k.startswith("remind:")}
        assert {m for m, _ in misses} <= set(owed)
        if not self.settled_now:
            return
        for month in owed:
            if months.due_date(month) > self.today:
                continue
            for dept in months.DEPARTMENTS:
                if (month, dept) in self.inspected:
                    assert obligations[(month, dept)] == "met", (month, dept)
                else:
                    assert (month, dept) in misses and obligations[(month, dept)] == "missed", (month, dept)


def _run(make_url, examples: int, steps: int) -> None:
    value = int(os.environ.get("GUAPAI_MACHINE_SEED") or random.randrange(2**32))
    print(f"case machine seed: {value} (rerun: GUAPAI_MACHINE_SEED={value})")
    machine = type("Machine", (CaseMachine,), {"make_url": staticmethod(make_url)})
    seed(value)(machine)
    SEEN.clear()
    began = time.perf_counter()
    run_state_machine_as_test(machine, settings=settings(
        max_examples=examples, stateful_step_count=steps, deadline=None, database=None,
        suppress_health_check=list(HealthCheck)))
    print(f"case machine reached in {time.perf_counter() - began:.1f} s: {dict(sorted(SEEN.items()))}")


@pytest.fixture(autouse=True)
def _no_sleeping_between_attempts(monkeypatch):
    monkeypatch.setattr(notifications, "RETRY_WAIT", wait_none())
    monkeypatch.setattr(platform_client, "wait_exponential", lambda **kw: wait_none())  # the client's retries
    # the scheduler's wall clock (claims, a failed day's backoff) is the machine's, as in real operation
    monkeypatch.setattr(jobs.scheduler, "system_clock", lambda: CURRENT[0].now)


EXAMPLES = int(os.environ.get("GUAPAI_MACHINE_EXAMPLES", 0))


def test_case_engine_guarantees_hold_on_sqlite():
    _run(_sqlite_url, EXAMPLES or (50 if LONG else 15), 60 if LONG else 40)


@pytest.mark.postgres
def test_case_engine_guarantees_hold_on_postgres():
    if _PG_SKIP:
        pytest.skip(_PG_SKIP)
    _run(_pg_url, EXAMPLES or (12 if LONG else 4), 40 if LONG else 30)
