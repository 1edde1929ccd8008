"""guapai jobs — scheduled work: list, run one period by hand, serve."""
from __future__ import annotations

import typer

from cli import context, output
from cli.options import JsonOption

app = typer.Typer(help="Scheduled jobs (sampling, inspections, deadlines, rules). 定时任务。", no_args_is_help=True)


def _service_store():
    """The store for running jobs: never an officer's own PostgreSQL role, which sees only its
    jurisdiction and would yet mark the whole city's period done (the database refuses it too)."""
    from listing.services.users import connected_user
    from messages.errors import PermissionDenied

    store = context.open_store()
    with store.session(readonly=True) as session:
        who = connected_user(session)
    if who is not None:
        raise PermissionDenied("err.jobs_service_role", user=who.name, db_role=who.db_role)
    return store


def _channel():
    from jobs.channels import channel_for
    from listing.settings import load

    return channel_for(load(), sink=lambda text: output.message(text))


@app.command("list")
def list_(as_json: JsonOption = False) -> None:
    """Each job's schedule, last run and next run."""
    from jobs.definitions import JOBS, next_run
    from messages import t
    from listing.services.read.job_runs import runs
    from listing.settings import load

    settings = load()
    now = context.now()
    rows = []
    with context.reader() as db:
        context.actor(db)
        for job in JOBS.values():
            last = runs(db, job.name, limit=1)
            last = last[0] if last else None
            # scripts keep the schedule as it always read; people read it in their language
            lang = "en" if as_json else output.lang()
            schedule = (t("schedule.monthly", lang, day=settings.jobs.rules_day, at=job.at(settings)) if job.monthly
                        else t("schedule.daily", lang, at=job.at(settings)))
            rows.append({"job": job.name, "schedule": schedule,
                         "last_period": last.period if last else None, "last_state": last.state if last else None,
                         "last_finished": last.finished_at if last else None, "next_run": next_run(job, settings, now),
                         "result": last.result if last else None, "error": last.error if last else None, "doc": job.doc})
    output.show(rows, [("job", "col.job"), ("schedule", "col.schedule"), ("last_period", "col.last_period"),
                       ("last_state", "col.state"), ("next_run", "col.next_run")], as_json=as_json,
                labels={"last_state": "jobstate."})


@app.command("run")
def run(
    name: str = typer.Argument(..., help="deadlines | inspections | sampling | rules"),
    date: str = typer.Option(None, "--date", help="The period: a day YYYY-MM-DD (sampling: the day sampled) or month YYYY-MM."),
    as_json: JsonOption = False,
) -> None:
    """Run one period by hand, through the same claim as the scheduler (a done period is not redone)."""
    import logging

    from jobs.definitions import JOBS
    from jobs.scheduler import run_period
    from listing.settings import load
    from messages.errors import ValidationError

    job = JOBS.get(name)
    if job is None:
        raise ValidationError("err.job_unknown", name=name, jobs=", ".join(JOBS))
    settings = load()
    now = context.now()
    period = job.parse_period(date) if date else (job.periods_due(settings, now, 40)[-1:] or [None])[0]
    if period is None:
        raise ValidationError("err.job_nothing_due", job=name)
    job.check_over(settings, period, now)
    store = _service_store()
    with store.session(readonly=True) as session:
        job.authorize_run(context.actor(session))
    logging.getLogger("guapai.jobs").addHandler(logging.NullHandler())  # the outcome below says it, once
    p, task = output.progress(None, name)
    try:
        outcome = run_period(store, settings, _channel(), job, period, clock=context.now,
                             progress=lambda done, total: p.update(task, completed=done, total=total))
    finally:
        p.stop()
    error = outcome.error_text(output.lang()) if outcome.status == "failed" else None
    data = {"job": outcome.job, "period": outcome.period, "status": outcome.status, "result": outcome.result,
            "error": error, "resumed": outcome.resumed}
    if as_json:
        output.print_json(data)
    output.message(_sentence(outcome), soft_wrap=True)  # one line, however long
    if outcome.status == "failed":
        raise typer.Exit(1)


def _sentence(outcome) -> str:
    """One line a person reads: the job, its period and what it did (or why it failed)."""
    from jobs.definitions import describe

    said = outcome.error_text(output.lang()) if outcome.status == "failed" else describe(outcome.job, outcome.result, output.lang())
    return output.tr(f"msg.job_{outcome.status}", job=output.label(outcome.job, "job."), period=outcome.period, result=said)


@app.command("serve")
def serve() -> None:
    """Run the scheduler (Asia/Shanghai) until stopped; catches up missed periods first."""
    from jobs.scheduler import serve as run_forever
    from listing.settings import load

    def report(o) -> None:
        output.message(_sentence(o))

    run_forever(_service_store(), load(), _channel(), on_outcome=report)


@app.command("simulate")
def simulate(
    start: str = typer.Option(..., "--from", help="Simulated start, YYYY-MM-DD (local midnight)."),
    days: int = typer.Option(..., "--days", help="How many simulated days."),
    step_hours: float = typer.Option(1.0, "--step-hours", help="Simulated time between ticks."),
    as_json: JsonOption = False,
) -> None:
    """Run the scheduler's ticks on a SIMULATED, accelerated clock (for drills and tests)."""
    import datetime as dt

    from jobs.scheduler import simulated_clock, tick
    from listing.settings import load
    from listing.timeutil import LOCAL_TZ

    settings = load()
    clock, advance = simulated_clock(dt.datetime.combine(context.date_option(start, "--from"), dt.time(), tzinfo=LOCAL_TZ))
    store = _service_store()
    outcomes = []
    steps = int(days * 24 / step_hours)
    for _ in output.iter_progress(range(steps), steps, "simulate"):
        outcomes += tick(store, settings, _channel(), clock=clock)
        advance(dt.timedelta(hours=step_hours))
    done = [o for o in outcomes if o.status == "done"]
    if as_json:
        output.print_json([{"job": o.job, "period": o.period, "status": o.status, "error": o.error} for o in outcomes])
    output.message(output.tr("msg.simulated", days=days, runs=len(done), failed=sum(o.status == "failed" for o in outcomes)))
