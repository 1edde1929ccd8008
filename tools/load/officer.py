"""One officer process of the load (tools/load/run.py): loops through the real services, each call
its own unit of work, retrying deadlocks and serialization failures, and writes what it believes
it did to its own JSON-lines file."""
from __future__ import annotations

import datetime as dt
import json
import random
import time
import traceback
from pathlib import Path

from tools.load.check import PROBLEM_ACTIONS
from tools.load.seed import Officer

RETRYABLE = {"40P01": "deadlock", "40001": "serialization"}
MAX_RETRIES = 8
STATEMENT_TIMEOUT_MS = 30_000  # a statement stuck longer than this is a hang, not load


class Recorder:
    """One process's JSON-lines result file, line-buffered so a crash leaves what was done."""

    def __init__(self, path: Path):
        self.fh = open(path, "w", encoding="utf-8", buffering=1)

    def __call__(self, **rec) -> None:
        self.fh.write(json.dumps(rec, ensure_ascii=False, default=str) + "\n")


def _sqlstate(exc: BaseException) -> str | None:
    orig = getattr(exc, "orig", None)
    return getattr(orig, "sqlstate", None) or getattr(exc, "sqlstate", None)


def write_retrying(store, fn, *, on_retry=lambda sqlstate, attempt: None, retries: int = MAX_RETRIES,
                   rng: random.Random | None = None):
    """(fn(session), attempts): `fn` in its own unit of work, run again after a deadlock (SQLSTATE
    40P01: PostgreSQL aborted this transaction to break a cycle) or a serialization failure
    (40001), as an officer would press the button again. Anything else propagates."""
    from sqlalchemy.exc import DBAPIError

    rng = rng or random.Random()
    for attempt in range(1, retries + 1):
        try:
            with store.session() as s:
                return fn(s), attempt
        except DBAPIError as exc:
            state = _sqlstate(exc)
            if state not in RETRYABLE or attempt == retries:
                raise
            on_retry(state, attempt)
            time.sleep(rng.uniform(0.005, 0.05) * attempt)
    raise AssertionError("unreachable")


class _OfficerAtWork:
    def __init__(self, store, officer: Officer, rng: random.Random, record: Recorder, hot: int, run_id: str):
        from listing.services.users import resolve_actor

        self.store, self.me, self.rng, self.record, self.hot, self.run_id = store, officer, rng, record, hot, run_id
        with store.session(readonly=True) as s:  # as the CLI does: the acting user from the users table
            self.actor = resolve_actor(s, officer.name)
        self.n = 0
        self.audit_s = 0.0
        self.audit_end = 0.0
        self._time_audit()

    def _time_audit(self) -> None:
        """Measure how long each write spends in audit.record (waiting for the audit_head row
        lock, then appending) and after it until commit (the lock is held till then)."""
        from listing.services import audit

        original = audit.record

        def timed(*args, **kwargs):
            t = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.audit_end = time.perf_counter()
                self.audit_s += self.audit_end - t

        audit.record = timed

    # -- the unit-of-work wrapper: retries deadlocks and serialization failures, times the call
    def _write(self, kind: str, target, fn):
        from sqlalchemy.exc import DBAPIError

        from messages.errors import Conflict, PermissionDenied

        started = time.perf_counter()
        self.audit_s = 0.0

        def retry(state, attempt):
            self.record(t="retry", kind=kind, target=target, sqlstate=state, attempt=attempt)
            self.audit_s = 0.0

        try:
            out, attempts = write_retrying(self.store, fn, on_retry=retry, rng=self.rng)
        except DBAPIError as exc:
            state = _sqlstate(exc)
            first = " / ".join(str(getattr(exc, "orig", None) or exc).splitlines()[:2])  # message and DETAIL, not the SQL
            self.record(t="error", kind=kind, target=target, sqlstate=state, error=f"{type(exc).__name__}: {first[:500]}"
                        + (f" (still failing after {MAX_RETRIES} attempts)" if state in RETRYABLE else ""))
            return False
        except Conflict as exc:
            self.record(t="conflict", kind=kind, target=target, key=exc.key, ms=(time.perf_counter() - started) * 1000)
            return False
        except PermissionDenied as exc:
            # four eyes refusing a verification is the check working (the list we read was stale)
            self.record(t="refused" if exc.key == "err.four_eyes" else "error", kind=kind, target=target, key=exc.key,
                        error=str(exc))
            return False
        except Exception as exc:  # noqa: BLE001 - anything else is a finding of the load test
            self.record(t="error", kind=kind, target=target, error="".join(traceback.format_exception_only(exc)).strip()[:800],
                        trace="".join(traceback.format_exc()).splitlines()[-8:])
            return False
        done = time.perf_counter()
        self.record(t="ok", kind=kind, target=target, ms=(done - started) * 1000, attempts=attempts,
                    audit_ms=self.audit_s * 1000, commit_ms=(done - self.audit_end) * 1000, **out)
        return True

    def _ids(self, query) -> list[int]:
        from listing.store.tables import Company

        if not self.actor.city_level:
            query = query.where(Company.jurisdiction == self.actor.jurisdiction)
        with self.store.session(readonly=True) as s:
            return list(s.exec(query.limit(self.hot)).all())

    def inspection(self) -> bool:
        from sqlmodel import select

        from listing.services import inspections
        from listing.store.tables import Company
        from listing.timeutil import LOCAL_TZ, system_clock

        query = select(Company.uscc).order_by(Company.id)
        if not self.actor.city_level:
            query = query.where(Company.jurisdiction == self.actor.jurisdiction)
        with self.store.session(readonly=True) as s:
            company = self.rng.choice(s.exec(query).all())
        self.n += 1
        tag = f"load:{self.run_id}:{self.me.name}:{self.n}"
        now = system_clock()
        found = [("消防器材过期", now.astimezone(LOCAL_TZ).date() + dt.timedelta(days=10))] if self.rng.random() < 0.3 else []

        def work(s):
            row = inspections.record(s, self.actor, company, self.me.role, now.astimezone(LOCAL_TZ).date(), now=now,
                                     notes=tag, findings=[p[0] for p in found], problems=found)
            return {"id": row.id, "tag": tag, "problems": len(found)}

        return self._write("inspection", company, work)

    def finding(self) -> bool | None:
        from sqlmodel import select

        from listing.services import findings
        from listing.store.tables import Company, Finding
        from listing.timeutil import system_clock

        ids = self._ids(select(Finding.id).join(Company, Company.id == Finding.company_id)
                        .where(Finding.state == "suspected").order_by(Finding.id))
        if not ids:
            return None
        fid = self.rng.choice(ids)
        if self.rng.random() < 0.75:
            def work(s):
                row = findings.confirm(s, self.actor, fid, now=system_clock(), lang="en")
                return {"id": fid, "problem_id": row.problem_id, "violation_id": row.violation_id}

            return self._write("finding.confirm", fid, work)

        def dismiss(s):
            findings.dismiss(s, self.actor, fid, reason="轨迹复核无违法(负载测试)", now=system_clock())
            return {"id": fid}

        return self._write("finding.dismiss", fid, dismiss)

    def problem(self) -> bool | None:
        from sqlmodel import select

        from listing.services import problems
        from listing.store.tables import Company, Problem
        from listing.timeutil import system_clock

        actions = ["rectify", "verify", "reopen"]
        first = self.rng.choices(actions, weights=(45, 45, 10))[0]
        for action in [first] + [a for a in actions if a != first]:
            query = (select(Problem.id).join(Company, Company.id == Problem.company_id)
                     .where(Problem.state.in_(PROBLEM_ACTIONS[action])).order_by(Problem.id))
            if action == "verify":
                query = query.where(Problem.rectified_by != self.me.name)
            ids = self._ids(query)
            if ids:
                pid = self.rng.choice(ids)

                def work(s, pid=pid, action=action):
                    problems.change(s, self.actor, pid, action, now=system_clock(), note="负载测试")
                    return {"id": pid}

                return self._write(f"problem.{action}", pid, work)
        return None

    def loop(self, end_at: float) -> None:
        weights = (30, 40, 30) if self.me.role == "police" else (40, 0, 60)
        while time.time() < end_at:
            kind = self.rng.choices(("inspection", "finding", "problem"), weights=weights)[0]
            if kind == "inspection":
                self.inspection()
            elif (self.finding() if kind == "finding" else self.problem()) is None:
                self.inspection()  # nothing left on that list: go and inspect


def officer_main(url: str, officer: dict, plan: dict, out: str, run_id: str, ready, go, end_at) -> None:
    record = Recorder(Path(out))
    try:
        from listing.store.db import open_store

        store = open_store(with_timeouts(url), migrate=False)
        me = Officer(**officer)
        work = _OfficerAtWork(store, me, random.Random(f"{plan['seed']}:{me.name}"), record, plan["hot"], run_id)
        ready.put(me.name)
        if not go.wait(plan["start_timeout"]):
            record(t="crash", error="never told to start")
            raise SystemExit(2)
        record(t="start", at=time.time())
        work.loop(end_at.value)
        record(t="done", at=time.time())
        store.engine.dispose()
    except SystemExit:
        raise
    except BaseException as exc:  # noqa: BLE001 - recorded for the report, then the process fails
        record(t="crash", error="".join(traceback.format_exception(exc))[-3000:])
        raise SystemExit(1)


def with_timeouts(url: str) -> str:
    """The URL with a statement timeout, so a hang surfaces as an error (SQLSTATE 57014)."""
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-c%20statement_timeout%3D{STATEMENT_TIMEOUT_MS}"
