"""guapai board — the listed companies at a glance (挂牌企业看板)."""
from __future__ import annotations

import typer

from cli import context, output


def board(
    jurisdiction: str = typer.Option(None, "--jurisdiction", help="Only this county/district."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """One row per listed company: cycle, inspections, sampling, trend, problems, readiness."""
    from listing.services.board import board as build
    from listing.timeutil import local_today

    with context.session(readonly=True) as session:
        rows = build(session, context.actor(session), local_today(context.now), jurisdiction)
    if as_json:
        output.print_json(rows)
        return
    print_board(rows)


def print_board(rows: list[dict]) -> None:
    from rich.console import Console
    from rich.table import Table

    tr = output.tr
    rows = output.scrub(rows)
    table = Table(title=tr("title.board"), box=None, pad_edge=False, show_edge=False)
    for key, justify in (("col.company", "left"), ("col.cycle_short", "right"), ("col.days_left", "right"),
                         ("col.inspected", "center"), ("col.coverage", "right"), ("col.trend", "left"),
                         ("col.problems", "right"), ("col.ready", "center")):
        table.add_column(tr(key), justify=justify, overflow="ellipsis", no_wrap=True)
    for r in rows:
        mark = "⚑" if r["escalated"] else ""
        state = tr("board.review") if r["state"] == "under_review" else str(r["days_left"])
        table.add_row(
            f"[{r['colour']}]{mark}{r['company'][:12]}[/]", str(r["cycle"]), state,
            f"{'运' if r['inspections_transport'] else '·'}{'警' if r['inspections_police'] else '·'}",
            f"{r['sampling_coverage']:.0%}", r["trend"],
            f"{r['open_problems']}/{r['overdue_problems']}", tr("yes") if r["ready_for_acceptance"] else "")
    Console(width=max(80, min(Console().width, 100))).print(table)
    output.message(tr("msg.board", n=len(rows), red=sum(r["colour"] == "red" for r in rows),
                      yellow=sum(r["colour"] == "yellow" for r in rows), green=sum(r["colour"] == "green" for r in rows)))
