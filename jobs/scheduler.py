"""Running jobs: by hand for one period, on a tick (what the scheduler calls), or as a service
with APScheduler (Asia/Shanghai). Every run goes through the same claim -> work -> finish path."""
from __future__ import annotations

import datetime as dt
import logging
import traceback
from dataclasses import dataclass
from typing import Callable

from jobs.definitions import JOBS, Job, JobContext, next_run  # noqa: F401 - next_run re-exported
from listing.services import job_runs
from listing.services.notifications import deliver
from listing.settings import Settings
from listing.store.db import Store
from listing.timeutil import LOCAL_TZ, Clock, system_clock

log = logging.getLogger("guapai.jobs")


@dataclass
class Outcome:
    job: str
    period: str
    status: str  # done / failed / skipped (already done, or someone else is on it)
    result: dict | None = None
    error: str | None = None
    resumed: bool = False
    exception: Exception | None = None

    def error_text(self, lang: str) -> str:
        """The failure in the reader's language: a service error's message, never its raw key."""
        from messages.errors import GuapaiError

        if isinstance(self.exception, GuapaiError):
            return self.exception.message(lang)
        return self.error or ""


def run_period(store: Store, settings: Settings, channel, job: Job, period: str, *, clock: Clock = system_clock,
               owner: str | None = None, progress=None, platform_transport=None) -> Outcome:
    # Claims live on the real clock: staleness is about workers alive now, whatever business
    # time (a simulated clock, a catch-up of past days) the work itself is done for.
    claim = job_runs.claim(store, job.name, period, now=system_clock(), owner=owner)
    if claim is None:
        return Outcome(job.name, period, "skipped")
    ctx = JobContext(store=store, settings=settings, channel=channel, now=clock(), progress=progress,
                     platform_transport=platform_transport,
                     heartbeat=lambda: job_runs.heartbeat(store, claim, system_clock()))
    try:
        result = job.work(ctx, period)
    except Exception as exc:  # a failed run is recorded and retried by the next tick
        from messages.errors import GuapaiError

        said = exc.message("en") if isinstance(exc, GuapaiError) else "".join(traceback.format_exception_only(exc)).strip()
        log.error("job %s %s failed: %s", job.name, period, said)
        job_runs.finish(store, claim, system_clock(), error=said[:2000])
        deliver(store, channel, now=clock())  # what the run committed before failing (a 'still waiting' notice)
        return Outcome(job.name, period, "failed", error=said if isinstance(exc, GuapaiError) else str(exc),
                       resumed=claim.resumed, exception=exc)
    job_runs.finish(store, claim, system_clock(), result=result)
    deliver(store, channel, now=clock())  # notices queued by the run, after its commit
    return Outcome(job.name, period, "done", result=result, resumed=claim.resumed)


def tick(store: Store, settings: Settings, channel, *, clock: Clock = system_clock, jobs: list[str] | None = None,
         owner: str | None = None, platform_transport=None) -> list[Outcome]:
    """Run every due period not yet done, oldest first (this is also the catch-up after downtime)."""
    outcomes = []
    with store.session() as s:
        done = {name: job_runs.done_periods(s, name) for name in (jobs or JOBS)}
        failed = {name: job_runs.failed_runs(s, name) for name in (jobs or JOBS) if JOBS[name].retry_after}
    for name in jobs or JOBS:
        job = JOBS[name]
        horizon = settings.catch_up_days
        if job.catch_up:  # sampling: back to the oldest day a listing in force is owed
            horizon = max(horizon, job.catch_up(store, settings, clock()))
        due = job.periods_due(settings, clock(), horizon)
        if job.retry_after:  # a failed period (a day the platform left unanswered) comes back however old
            due = sorted(set(due) | set(failed.get(name, {})))
        for period in due:
            if period in failed.get(name, {}):  # backoff: not before its retry time (claims are on the real clock)
                attempts, ended = failed[name][period]
                if system_clock() < ended + job.retry_after(settings, attempts):
                    continue
            if period not in done[name]:
                outcomes.append(run_period(store, settings, channel, job, period, clock=clock, owner=owner,
                                           platform_transport=platform_transport))
    deliver(store, channel, now=clock())  # and what an earlier failure left waiting for its retry
    return outcomes


def serve(store: Store, settings: Settings, channel, *, on_outcome: Callable[[Outcome], None] = lambda o: None) -> None:
    """Block, running each job at its time (Asia/Shanghai). Catches up missed periods first."""
    from apscheduler.schedulers.blocking import BlockingScheduler

    def run(names: list[str] | None = None) -> None:
        for outcome in tick(store, settings, channel, jobs=names):
            on_outcome(outcome)

    run()  # catch up after downtime, in order
    scheduler = BlockingScheduler(timezone=str(LOCAL_TZ))
    for job in JOBS.values():
        scheduler.add_job(run, job.trigger(settings), args=[[job.name]], id=job.name, max_instances=1, coalesce=True,
                          misfire_grace_time=3600)
    retried = [job.name for job in JOBS.values() if job.retry_after]
    if retried:  # failed periods come back on their backoff (tick decides when), not only at the next day's run
        from apscheduler.triggers.interval import IntervalTrigger

        scheduler.add_job(run, IntervalTrigger(minutes=5, timezone=str(LOCAL_TZ)), args=[retried], id="retries",
                          max_instances=1, coalesce=True)
    scheduler.start()


def simulated_clock(start: dt.datetime) -> tuple[Clock, Callable[[dt.timedelta], None]]:
    """A SIMULATED clock for accelerated runs and tests: (clock, advance)."""
    state = {"now": start}

    def clock() -> dt.datetime:
        return state["now"]

    def advance(delta: dt.timedelta) -> None:
        state["now"] = state["now"] + delta

    return clock, advance
