"""Claiming a (job, period) before doing its work, so it is done exactly once.

claim() inserts the run row; when the row exists it is taken over only if the earlier attempt
failed or its worker stopped sending heartbeats (crashed), with a compare-and-set on the owner
so two schedulers cannot both take it. Work done under a claim must itself be idempotent
(unique keys on what it writes), so a resumed run completes without duplicates.
"""
from __future__ import annotations

import datetime as dt
import os
import socket
from dataclasses import dataclass
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from listing.services.read.job_runs import runs  # noqa: F401 - re-exported
from listing.store.db import Store
from listing.store.tables import JobRun

STALE_AFTER = dt.timedelta(minutes=10)  # no heartbeat for this long: the worker is gone
FINISH_ATTEMPTS = 6  # recording a run's end survives ~6 s of database restart (0.2 s .. 3.2 s apart)


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class Claim:
    run_id: int
    job: str
    period: str
    owner: str
    attempt: int
    resumed: bool  # an earlier attempt started this period and did not finish


def claim(store: Store, job: str, period: str, *, now: dt.datetime, owner: str | None = None,
          stale_after: dt.timedelta = STALE_AFTER) -> Claim | None:
    """The claim on (job, period), or None when it is done or someone alive is on it."""
    owner = owner or worker_id()
    try:
        with store.session() as s:
            run = JobRun(job=job, period=period, state="running", owner=owner, started_at=now, heartbeat_at=now)
            s.add(run)
            s.flush()
            return Claim(run.id, job, period, owner, 1, False)
    except IntegrityError:
        pass  # the row exists: decide below whether to take it over
    with store.session() as s:
        run = s.exec(select(JobRun).where(JobRun.job == job, JobRun.period == period)).one()
        if run.state == "done":
            return None
        if run.state == "running" and now - _aware(run.heartbeat_at) < stale_after:
            return None
        run_id, attempt = run.id, run.attempts + 1
        taken = s.execute(update(JobRun).where(JobRun.id == run_id, JobRun.owner == run.owner,
                                               JobRun.attempts == run.attempts, JobRun.state == run.state)
                          .values(owner=owner, state="running", attempts=attempt, heartbeat_at=now, error=None)
                          .execution_options(synchronize_session=False))
        if taken.rowcount != 1:
            return None  # another scheduler took it over first
        return Claim(run_id, job, period, owner, attempt, True)


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def heartbeat(store: Store, claim_: Claim, now: dt.datetime) -> bool:
    """Still ours? (False: someone took it over; stop working.)"""
    with store.session() as s:
        res = s.execute(update(JobRun).where(JobRun.id == claim_.run_id, JobRun.owner == claim_.owner)
                        .values(heartbeat_at=now))
        return res.rowcount == 1


def finish(store: Store, claim_: Claim, now: dt.datetime, *, result: Any = None, error: str | None = None) -> None:
    """Record the run's end. Retried while the database connection is lost (a restart): an
    unrecorded end would leave the run `running` with a fresh heartbeat, and every rerun would
    skip it until it went stale. The update is idempotent, so a retry after a lost ack is safe."""
    from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

    from listing.store.db import connection_lost

    for attempt in Retrying(stop=stop_after_attempt(FINISH_ATTEMPTS), wait=wait_exponential(multiplier=0.2, max=5),
                            retry=retry_if_exception(connection_lost), reraise=True):
        with attempt, store.session() as s:
            s.execute(update(JobRun).where(JobRun.id == claim_.run_id, JobRun.owner == claim_.owner).values(
                state="failed" if error else "done", finished_at=now, heartbeat_at=now, result=result, error=error))


def done_periods(session: Session, job: str) -> set[str]:
    return set(session.exec(select(JobRun.period).where(JobRun.job == job, JobRun.state == "done")).all())


def failed_runs(session: Session, job: str) -> dict[str, tuple[int, dt.datetime]]:
    """period -> (attempts, when the last attempt ended) of the job's failed runs."""
    rows = session.exec(select(JobRun.period, JobRun.attempts, JobRun.finished_at).where(JobRun.job == job, JobRun.state == "failed"))
    return {period: (attempts, _aware(finished)) for period, attempts, finished in rows.all() if finished is not None}
