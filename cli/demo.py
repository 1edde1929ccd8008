"""guapai demo — a simulated city, end to end through the real services."""
from __future__ import annotations

import typer

from cli import context, output


def demo(
    seed: int = typer.Option(2026, "--seed", help="Seed of the simulated city."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Build a fresh SIMULATED city through the real services and print a summary.

    Companies, vehicles, drivers and a year of accidents and violations. Without --db it uses
    its own demo database (recreated each run), never your working one.
    """
    from pathlib import Path

    from listing.errors import GuapaiError
    from listing.services.demo import build_city, is_empty
    from listing.store.db import open_store
    from listing.timeutil import local_today

    url = context.settings().db_url
    if url is None:
        from platformdirs import user_data_dir

        path = Path(user_data_dir("guapai", appauthor=False)) / "demo.sqlite"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    store = open_store(url)
    if not is_empty(store):
        raise GuapaiError("err.demo_not_empty", url=store.engine.url.render_as_string(hide_password=True))
    p, task = output.progress(9, "demo")

    def step(key: str) -> None:
        p.update(task, description=output.tr(key, kind=""), advance=1)

    try:
        summary = build_city(store, seed=seed, as_of=local_today(), now=context.now(), step=step)
    finally:
        p.stop()
    summary["database"] = url
    if as_json:
        output.print_json(summary)
        return
    _print(summary)


def _print(summary: dict) -> None:
    from rich.console import Console

    c = Console()
    tr = output.tr
    c.print(f"[bold]{tr('demo.title')}[/bold]  ({tr('demo.seed')} {summary['seed']}, {tr('demo.as_of')} {summary['as_of']})")
    counts = summary["counts"]
    c.print(tr("demo.counts", companies=counts["company"], vehicles=counts["vehicle"], drivers=counts["driver"],
               accidents=counts["accident"], violations=counts["violation"], deaths=summary["deaths"]))
    c.print(tr("demo.types") + ", ".join(f"{k} {v}" for k, v in sorted(summary["business_types"].items())))
    output.show(summary["worst_by_violations"], [("name", "col.company"), ("jurisdiction", "col.jurisdiction"),
                ("vehicles", "col.vehicles"), ("violations", "col.violations"), ("per_vehicle", "col.per_vehicle")],
                as_json=False, title_key="demo.worst")
    ok = summary["audit_ok"]
    c.print(tr("audit.ok", n=summary["audit_events"]) if ok else "[red]audit chain broken[/red]")
    c.print(tr("demo.next", db=summary["database"]))
