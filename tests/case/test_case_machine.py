"""A stateful property test of the case engine: hypothesis drives the real services through random
sequences (inspect, open and close problems, findings, decide early or late, clock jumps of days
to weeks, a robot down and back, the scheduler stopped and restarted) against a small in-memory
model, and checks the guarantees after every step.

SQLite in CI; PostgreSQL with a smaller budget. The seed is printed: rerun a failure with
GUAPAI_MACHINE_SEED=<seed>. More steps: GUAPAI_LONG=1. New rules (platform outages once the
sampling branch lands) are added as methods with @rule / @precondition on the model below.
"""
from __future__ import annotations

import datetime as dt
import os
import random
import tempfile
import uuid
from collections import Counter

import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import HealthCheck, event, seed, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlmodel import select
from tenacity import wait_none

from jobs.notify import Fanout
from jobs.scheduler import tick
from listing.domain import months
from listing.services import findings, inspections, notifications, problems, review
from listing.services.notifications import LogChannel
from listing.settings import Settings
from listing.store import tables
from listing.store.db import open_store
from listing.timeutil import LOCAL_TZ
from messages.errors import GuapaiError, ValidationError
from tests.conftest import _PG_SKIP, NOW, PG_ADMIN_URL, actor
from tests.scenario import listed_company

START = dt.datetime(2026, 1, 12, 10, 0, tzinfo=LOCAL_TZ)
SETTINGS = Settings(remind_from_day=20, catch_up_days=7)
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
        self.cid, self.lid, self.vids = listed_company(self.store, START, vehicles=3)
        with self.store.session(readonly=True) as s:
            self.uscc = s.get(tables.Company, self.cid).uscc
        self.robot, self.log = Robot(), LogChannel(sink=lambda text: None)
        self.channel = Fanout([self.log, self.robot])
        # the model
        self.confirmed = START.date()
        self.cycles = [(self.confirmed, self.confirmed + relativedelta(months=3))]
        self.state = "listed"
        self.delisted_as_of: dt.date | None = None
        self.problems: dict[int, str] = {}
        self.inspected: set[tuple[str, str]] = set()  # (month, department) with an inspection that counts
        self.suspected: list[int] = []
        self.findings_made = 0
        self.scheduler_on = True
        self.delivered_now = self.settled_now = False
        self.reminders_seen: set[str] = set()
        self.decided_open: dict[int, int] = {}  # cycle number -> unverified problems when it was decided

    def teardown(self) -> None:
        self.store.engine.dispose()
        if self._drop:
            self._drop()

    @property
    def today(self) -> dt.date:
        return self.now.date()

    def _tick(self) -> None:
        outcomes = tick(self.store, SETTINGS, self.channel, clock=lambda: self.now, jobs=["deadlines", "inspections"])
        self.delivered_now = True  # every tick delivers what is due in the outbox
        # the months are settled as of now once today's inspection run has happened after the last
        # entry (an inspection typed after today's run is settled by tomorrow's)
        self.settled_now = self.settled_now or any(o.job == "inspections" and o.period == str(self.today)
                                                   and o.status == "done" for o in outcomes)
        if self.state == "listed" and self.today >= self.cycles[-1][1]:
            self.state = "under_review"

    # ---- time and the world around the case ---------------------------------------------

    @rule(days=st.sampled_from([1, 2, 3, 5, 9, 16, 23, 31, 45, 62]))
    def time_passes(self, days):
        self.now += dt.timedelta(days=days)
        self.delivered_now = self.settled_now = False
        if self.scheduler_on:
            self._tick()
        SEEN["misses recorded"] = max(SEEN["misses recorded"], self._count(tables.InspectionMiss))
        SEEN["robot down at a tick"] += self.robot.down and self.scheduler_on

    @precondition(lambda self: self.state == "listed")
    @rule(extra=st.integers(0, 50))
    def time_passes_to_the_cycle_end(self, extra):
        """To the current cycle's due date and some days beyond (reviews decided early or late)."""
        target = dt.datetime.combine(self.cycles[-1][1] + dt.timedelta(days=extra), dt.time(10), tzinfo=LOCAL_TZ)
        if target > self.now:
            self.time_passes((target - self.now).days)

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

    @precondition(lambda self: self.state != "delisted")
    @rule(days_ago=st.integers(1, 10), vehicle=st.integers(0, 2))
    def sampling_finds_something(self, days_ago, vehicle):
        day = max(self.today - dt.timedelta(days=days_ago), self.confirmed)
        with self.store.session() as s:
            sample = s.exec(select(tables.Sample).where(tables.Sample.day == day,
                                                        tables.Sample.vehicle_id == self.vids[vehicle])).first()
            if sample is None:
                sample = tables.Sample(day=day, company_id=self.cid, listing_id=self.lid, vehicle_id=self.vids[vehicle],
                                       rank=0, status="scanned")
                s.add(sample)
                s.flush()
            self.findings_made += 1
            start = dt.datetime.combine(day, dt.time(9), tzinfo=LOCAL_TZ) + dt.timedelta(minutes=self.findings_made)
            f = tables.Finding(sample_id=sample.id, day=day, company_id=self.cid, vehicle_id=self.vids[vehicle],
                               rule="overspeed", start=start, end=start + dt.timedelta(minutes=2))
            s.add(f)
            s.flush()
            self.suspected.append(f.id)

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
        if passed:
            assert row.state == "delisted"
            self.state, self.delisted_as_of = "delisted", self.today  # supervised until the decision
        else:
            assert row.state == "listed"
            due = self.confirmed + relativedelta(months=3 * (number + 1))
            self.cycles.append((self.cycles[-1][1], due))
            self.state = "listed"
        notifications.deliver(self.store, self.channel, now=self.now)  # what the CLI does after commit

    # ---- guarantees -------------------------------------------------------------------------

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
    run_state_machine_as_test(machine, settings=settings(
        max_examples=examples, stateful_step_count=steps, deadline=None, database=None,
        suppress_health_check=list(HealthCheck)))
    print(f"case machine reached: {dict(SEEN)}")


@pytest.fixture(autouse=True)
def _no_sleeping_between_attempts(monkeypatch):
    monkeypatch.setattr(notifications, "RETRY_WAIT", wait_none())


EXAMPLES = int(os.environ.get("GUAPAI_MACHINE_EXAMPLES", 0))


def test_case_engine_guarantees_hold_on_sqlite():
    _run(_sqlite_url, EXAMPLES or (50 if LONG else 10), 60 if LONG else 40)


@pytest.mark.postgres
def test_case_engine_guarantees_hold_on_postgres():
    if _PG_SKIP:
        pytest.skip(_PG_SKIP)
    _run(_pg_url, EXAMPLES or (12 if LONG else 4), 40 if LONG else 30)
