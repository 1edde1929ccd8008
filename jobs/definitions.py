"""The jobs: what runs, when, and for which period. Work is done by services; this file wires."""
from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from listing.settings import Settings
from listing.timeutil import LOCAL_TZ

if TYPE_CHECKING:  # the ORM's store, imported only by the jobs that run (`jobs list` reads without it)
    from listing.store.db import Store


@dataclass
class JobContext:
    store: Store
    settings: Settings
    channel: object  # listing.services.notifications.Channel
    now: dt.datetime
    progress: Callable[[int, int], None] | None = None
    platform_transport: object = None  # an httpx transport for tests/demo (None: real HTTP)
    heartbeat: Callable[[], bool] = lambda: True  # long work calls it; False: another worker took over


@dataclass(frozen=True)
class Job:
    name: str
    monthly: bool
    at: Callable[[Settings], str]  # "HH:MM" local
    lag_days: int  # daily: the period is this many days before the run day (sampling: yesterday)
    work: Callable[[JobContext, str], dict]
    doc: str
    action: str = "jobs.run"  # the policy action that may also run it by hand (besides jobs.run)
    # a failed period is retried once this long has passed since its last attempt ended (given the
    # attempts so far); None: at every tick
    retry_after: Callable[[Settings, int], dt.timedelta] | None = None
    # how many days back a restarted scheduler runs missed periods (given the store, settings and
    # now), when more than catch_up_days; None: catch_up_days
    catch_up: Callable[[Store, Settings, dt.datetime], int] | None = None

    def trigger(self, settings: Settings):
        """The job's schedule as an APScheduler trigger (Asia/Shanghai). A monthly day past the
        28th runs on the month's last day in shorter months (rules_day=31: 28/29 Feb, 30 Apr)."""
        from apscheduler.triggers.combining import OrTrigger
        from apscheduler.triggers.cron import CronTrigger

        hour, minute = map(int, self.at(settings).split(":"))
        at = {"hour": hour, "minute": minute, "timezone": LOCAL_TZ}
        if not self.monthly:
            return CronTrigger(**at)
        day = settings.jobs.rules_day
        short = [m for m in range(1, 13) if calendar.monthrange(2023, m)[1] < day or (m == 2 and day >= 29)]
        if not short:
            return CronTrigger(day=day, **at)
        return OrTrigger([CronTrigger(day=day, **at), CronTrigger(month=",".join(map(str, short)), day="last", **at)])

    def due_time(self, settings: Settings, period: str) -> dt.datetime:
        """When the run for `period` is scheduled: the trigger's first time in that month (monthly)
        or on the period's day plus the lag (daily)."""
        if self.monthly:
            year, month = map(int, period.split("-"))
            first = dt.datetime(year, month, 1, tzinfo=LOCAL_TZ)
            return self.trigger(settings).get_next_fire_time(None, first)
        day = dt.date.fromisoformat(period) + dt.timedelta(days=self.lag_days)
        start = dt.datetime.combine(day, dt.time(), tzinfo=LOCAL_TZ)
        return self.trigger(settings).get_next_fire_time(None, start)

    def authorize_run(self, actor) -> None:
        """Running a period by hand: the roles of `jobs.run`, and for sampling the police."""
        from listing.domain.policy import authorize, can

        if not can(actor, "jobs.run"):
            authorize(actor, self.action)

    def check_over(self, settings: Settings, period: str, now: dt.datetime) -> None:
        """Refuse a period whose scheduled time has not come (Beijing time): a day or month not
        over yet is never run early, so a scheduler never finds a future period already taken."""
        from messages.errors import ValidationError

        due = self.due_time(settings, period)
        if due > now:
            raise ValidationError("err.job_not_due", job=self.name, period=period,
                                  due=due.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M"))

    def parse_period(self, text: str) -> str:
        """A period as typed by a person: YYYY-MM for a monthly job, a date for a daily one."""
        from listing.dates import parse_date, parse_month

        return parse_month(text, "--date") if self.monthly else parse_date(text, "--date").isoformat()

    def periods_due(self, settings: Settings, now: dt.datetime, catch_up_days: int) -> list[str]:
        """Every period whose run time has come, newest last, no further back than catch_up_days."""
        local = now.astimezone(LOCAL_TZ)
        if self.monthly:
            periods, year, month = [], local.year, local.month
            for _ in range(max(1, catch_up_days // 28 + 1)):
                periods.append(f"{year:04d}-{month:02d}")
                year, month = (year, month - 1) if month > 1 else (year - 1, 12)
            candidates = reversed(periods)
        else:
            first = local.date() - dt.timedelta(days=catch_up_days + self.lag_days)
            candidates = (str(first + dt.timedelta(days=i)) for i in range(catch_up_days + self.lag_days + 1))
        return [p for p in candidates if self.due_time(settings, p) <= local]


def _deadlines(ctx: JobContext, period: str) -> dict:
    from listing.services import deadlines
    from listing.services.review import checklist

    with ctx.store.session() as s:
        return deadlines.run(s, ctx.channel, now=ctx.now, lang=ctx.settings.notify_lang, checklist=checklist)


def _inspections(ctx: JobContext, period: str) -> dict:
    from listing.services import inspections

    with ctx.store.session() as s:
        out = inspections.track(s, dt.date.fromisoformat(period), ctx.channel, now=ctx.now,
                                remind_from_day=ctx.settings.remind_from_day, lang=ctx.settings.notify_lang)
    return {k: (str(v) if isinstance(v, dt.date) else v) for k, v in out.items()}


def _rules(ctx: JobContext, period: str) -> dict:
    from listing.domain.policy import SYSTEM_ACTOR
    from listing.services import rules
    from listing.services.notifications import queue_notice
    from messages import t

    as_of = JOBS["rules"].due_time(ctx.settings, period).date()
    with ctx.store.session() as s:
        result = rules.apply(s, SYSTEM_ACTOR, as_of, now=ctx.now)
        if result["proposed"]:
            names = "、".join(p["name"] for p in result["proposed"][:20])
            queue_notice(s, ctx.channel, f"proposals:{period}", t("notify.proposals.title", ctx.settings.notify_lang),
                        t("notify.proposals.text", ctx.settings.notify_lang, n=len(result["proposed"]), names=names), now=ctx.now)
    return {"as_of": str(as_of), "proposed": len(result["proposed"]), "skipped": len(result["skipped"])}


def _sampling(ctx: JobContext, period: str) -> dict:
    from listing.services import sampling

    return sampling.run_day(ctx, dt.date.fromisoformat(period))


def _sampling_retry(settings: Settings, attempts: int) -> dt.timedelta:
    """A day the platform left unanswered: retried after 15 min, 30 min, 1 h, ... up to 4 h (settings)."""
    from rules.sampling import retry_delay

    return retry_delay(attempts, dt.timedelta(minutes=settings.sampling_retry_minutes),
                       dt.timedelta(minutes=settings.sampling_retry_max_minutes))


def describe(name: str, result: dict | None, lang: str) -> str:
    """A job's result as a sentence (its own message when it has one, else 'key value' pairs)."""
    from messages import known, t

    if not result:
        return ""
    key = f"result.{name}"
    if known(key):
        try:
            return t(key, lang, **result)
        except (KeyError, IndexError):
            pass
    return ", ".join(f"{t('count.' + k, lang) if known('count.' + k) else k} {v}" for k, v in result.items()
                     if not isinstance(v, (dict, list)))


def _sampling_catch_up(store: Store, settings: Settings, now: dt.datetime) -> int:
    """Back to the confirmation of the oldest listing in force, at most sampling_catch_up_days: a
    day a stopped scheduler missed is sampled when it restarts, not lost to the company's record."""
    from listing.services.sampling import first_day_owed

    today = now.astimezone(LOCAL_TZ).date()
    with store.session(readonly=True) as s:
        first = first_day_owed(s, today - dt.timedelta(days=settings.sampling_catch_up_days))
    return 0 if first is None else (today - first).days


JOBS: dict[str, Job] = {
    job.name: job for job in (
        Job("deadlines", False, lambda s: s.jobs.deadlines, 0, _deadlines,
            "Cycles that ended go to acceptance review; overdue reviews escalate."),
        Job("inspections", False, lambda s: s.jobs.inspections, 0, _inspections,
            "Monthly inspections per department: reminders before month end, misses after."),
        Job("sampling", False, lambda s: s.jobs.sampling, 1, _sampling,
            "Daily 10% trajectory sampling of listed companies, for the previous day.", "sampling.run",
            retry_after=_sampling_retry, catch_up=_sampling_catch_up),
        Job("rules", True, lambda s: s.jobs.rules, 0, _rules,
            "Monthly rule evaluation: new proposals for reviewers."),
    )
}


def next_run(job: Job, settings: Settings, now: dt.datetime) -> dt.datetime:
    """The next scheduled time strictly after `now`, from the job's own APScheduler trigger."""
    return job.trigger(settings).get_next_fire_time(None, now.astimezone(LOCAL_TZ) + dt.timedelta(seconds=1))
