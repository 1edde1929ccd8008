"""guapai board — the listed companies at a glance (挂牌企业看板)."""
from __future__ import annotations

import typer

from cli import context, output
from cli.options import JsonOption


def board(
    jurisdiction: str = typer.Option(None, "--jurisdiction", help="Only this county/district."),
    colour: str = typer.Option(None, "--colour", "--color", help="Only red | yellow | green rows."),
    state: str = typer.Option(None, "--state", help="Only listed | under_review."),
    search: str = typer.Option(None, "--search", help="Only companies whose name or credit code contains this."),
    sort: str = typer.Option("jurisdiction", "--sort", help="jurisdiction | days | name | colour | problems | coverage"),
    wide: bool = typer.Option(False, "--wide", help="One line per company, as wide as it needs (no wrapping)."),
    as_json: JsonOption = False,
) -> None:
    """One row per listed company: full name and code, cycle, each month's inspection marks per
    department, days to the review date, sampling, trend, problems, readiness; a legend below."""
    from cli.options import check_choice, check_jurisdiction
    from listing.services.board import COLOURS, SORTS
    from listing.services.board import board as build
    from listing.timeutil import local_today

    colour = check_choice(colour, COLOURS, "--colour")
    state = check_choice(state, ("listed", "under_review"), "--state", aliases=_state_aliases())
    sort = check_choice(sort, SORTS, "--sort")
    with context.session(readonly=True) as session:
        jurisdiction = check_jurisdiction(session, jurisdiction)
        rows = build(session, context.actor(session), local_today(context.now), jurisdiction, colour=colour,
                     state=state, search=search, sort=sort)
    if as_json:
        output.print_json(rows)
        return
    print_board(rows, wide=wide)


def _state_aliases() -> dict[str, str]:
    from messages import t

    return {t(f"state.{s}", "zh"): s for s in ("listed", "under_review")}


def month_cell(entry: dict) -> str:
    from listing.services.month_marks import compact

    labels = {"transport": output.tr("dept.short.transport"), "police": output.tr("dept.short.police")}
    return compact(entry, labels)


def print_board(rows: list[dict], wide: bool = False, console=None) -> None:
    from rich.console import Console

    console = console or Console()
    table = board_table(rows, wide)
    if wide:  # as wide as the longest name needs, whatever the terminal
        needed = table.__rich_measure__(console, console.options.update(max_width=10_000)).maximum
        console = Console(width=max(console.width, needed))
    console.print(table)
    console.print(legend(), style="dim")
    output.message(output.tr("msg.board", n=len(rows), red=sum(r["colour"] == "red" for r in rows),
                             yellow=sum(r["colour"] == "yellow" for r in rows),
                             green=sum(r["colour"] == "green" for r in rows)))


def board_table(rows: list[dict], wide: bool = False):
    """Full names: wrapped (with the code below) to fit the terminal, or one line each with --wide.
    The months of the cycle share one column (M1 M2 M3 M4), so a thousand rows render quickly."""
    from rich.table import Table
    from rich.text import Text

    tr = output.tr
    safe = output.scrub([{"company": r["company"], "uscc": r["uscc"]} for r in rows])
    table = Table(title=tr("title.board"), box=None, pad_edge=False, show_edge=False, collapse_padding=True)
    table.add_column(tr("col.company"), overflow="fold", no_wrap=wide, min_width=18)
    if wide:
        table.add_column(tr("col.code"), no_wrap=True)
    table.add_column(tr("col.cycle_short"), justify="right", no_wrap=True, min_width=3)
    months = max((len(r["months"]) for r in rows), default=3)
    table.add_column(" ".join(f"{tr('col.month_n', n=n + 1):^4}" for n in range(months)), no_wrap=True)
    for key, justify, width in (("col.review_in", "right", 5), ("col.sampled_short", "right", 4),
                                ("col.trend_short", "left", 8), ("col.problems_short", "right", 5),
                                ("col.ready_short", "center", 2)):
        table.add_column(tr(key), justify=justify, no_wrap=True, min_width=width)
    for r, names in zip(rows, safe):
        name = Text(("⚑" if r["escalated"] else "") + names["company"], style=r["colour"])
        if not wide:
            name.append("\n" + names["uscc"], style="dim")
        days = "" if r["days_to_review"] is None else str(r["days_to_review"])
        review = tr("board.review_days", days=days) if r["state"] == "under_review" else days
        table.add_row(*([name, Text(names["uscc"])] if wide else [name]), Text(str(r["cycle"])),
                      Text(" ".join(month_cell(m) for m in r["months"])), Text(review),
                      Text(f"{r['sampling_coverage']:.0%}"), Text(r["trend"]),
                      Text(f"{r['open_problems']}/{r['overdue_problems']}"),
                      Text("✔" if r["ready_for_acceptance"] else ""))
    return table


def legend() -> str:
    from listing.services.month_marks import MARKS, SYMBOL

    tr = output.tr
    marks = "  ".join(f"{SYMBOL[m]} {tr('mark.' + m)}" for m in MARKS)
    return "\n".join([
        tr("legend.months", transport=tr("dept.short.transport"), police=tr("dept.short.police"), marks=marks),
        tr("legend.colours"),
        tr("legend.columns"),
    ])
