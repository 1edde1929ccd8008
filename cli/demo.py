"""guapai demo — the whole mechanism on a SIMULATED city, end to end through the real services."""
from __future__ import annotations

import typer

from cli import context, output
from cli.options import JsonOption


def demo(
    seed: int = typer.Option(2026, "--seed", help="Seed of the simulated city and its days."),
    days: int = typer.Option(100, "--days", help="Simulated days to run the jobs and officers through."),
    out_dir: str = typer.Option(None, "--out", help="Folder for the report files (default: the data directory)."),
    as_json: JsonOption = False,
) -> None:
    """Build a SIMULATED city, list its worst companies, and run ~100 simulated days.

    Real jobs (sampling through the HTTP client against a simulated platform, reminders,
    misses, deadlines), simulated officers (inspections on time, late or missed; findings
    confirmed or dismissed; problems rectified and verified), acceptance reviews. Ends with
    the board and monthly reports (HTML and XLSX). Without --db it uses its own demo database
    (recreated each run), never your working one.
    """
    from pathlib import Path

    from platformdirs import user_data_dir

    from listing.services.demo import is_empty
    from listing.simulation.drill import run
    from listing.store.db import open_store
    from listing.timeutil import local_today
    from messages.errors import GuapaiError

    url = context.options().db_url
    data_dir = Path(user_data_dir("guapai", appauthor=False))
    if url is None:
        path = data_dir / "demo.sqlite"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    store = open_store(url)
    if not is_empty(store):
        raise GuapaiError("err.demo_not_empty", url=store.engine.url.render_as_string(hide_password=True))
    today = local_today(context.now)
    p, task = output.progress(days, output.tr("demo.step.city"))

    def step(key: str, i: int, n: int) -> None:
        p.update(task, description=output.tr(key, day=i, days=n), completed=i)

    try:
        result = run(store, seed=seed, today=today, days=days, step=step)
    finally:
        p.stop()
    folder = Path(out_dir) if out_dir else data_dir / "demo-reports"
    folder.mkdir(parents=True, exist_ok=True)
    summary = _finish(store, result, folder, store.engine.url.render_as_string(hide_password=True))
    if as_json:
        output.print_json(summary)
        return
    _print(summary)


def _finish(store, result, folder, url) -> dict:
    from listing.reports import monthly
    from listing.reports.effect import headline
    from listing.reports.render import write
    from listing.services import audit, board, effect
    from listing.services.users import resolve_actor

    with store.session(readonly=True) as s:
        reviewer = resolve_actor(s, "reviewer.zhao")
        rows = board.board(s, reviewer, result.end)
        month = (result.end.replace(day=1) - __import__("datetime").timedelta(days=1)).strftime("%Y-%m")
        report = monthly.gather(s, reviewer, month)
        measured = effect.effect(s, reviewer, result.end)  # the report's window (one Design for both)
        report["effect"] = measured
        verdict = audit.verify(s, resolve_actor(s, "admin"))
    files = [str(write(report, folder / f"monthly-{month}.html", output.lang())),
             str(write(report, folder / f"monthly-{month}.xlsx", output.lang()))]
    decisions = list(result.outcomes["decisions"].values())
    return {"database": url, "from": result.start, "to": result.end, "outcomes": result.outcomes,
            "delisted": decisions.count("delisted"), "continued": decisions.count("continued"),
            "escalated": decisions.count("escalated"), "board": rows, "reports": files,
            "effect": {k: headline(measured[k]) for k in ("violations", "accidents")},
            "audit_ok": verdict.ok, "audit_events": verdict.checked}


def _print(summary: dict) -> None:
    from rich.console import Console

    from cli.board import print_board
    from listing.simulation.city import PLANTED_EFFECT

    c = Console()
    tr = output.tr
    summary = output.scrub(summary)
    o = summary["outcomes"]
    c.print(f"[bold]{tr('demo.done', start=summary['from'], end=summary['to'])}[/bold]")
    c.print(tr("demo.outcomes", runs=o["job_runs"], inspections=o["inspections"], confirmed=o["findings_confirmed"],
               dismissed=o["findings_dismissed"], verified=o["problems_verified"], imported=o["imports"]))
    c.print(tr("demo.decisions", delisted=summary["delisted"], continued=summary["continued"], escalated=summary["escalated"]))
    print_board(summary["board"])
    v = summary["effect"]["violations"]
    if v["relative"] is not None:
        ci = v["relative_ci95"]
        c.print(tr("demo.effect", did=f"{v['relative']:+.0%}", lo=f"{ci[0]:+.0%}" if ci else "-",
                   hi=f"{ci[1]:+.0%}" if ci else "-", raw=f"{v['raw']:+.0%}" if v["raw"] is not None else "-", n=v["listings"],
                   planted=f"{PLANTED_EFFECT:+.0%}"))
    c.print(tr("audit.ok", n=summary["audit_events"]) if summary["audit_ok"] else "[red]audit chain broken[/red]")
    for path in summary["reports"]:
        c.print(tr("demo.report", path=path))
    c.print(tr("demo.next", db=summary["database"]))
