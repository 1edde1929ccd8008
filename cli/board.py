"""guapai board — the listed companies at a glance (挂牌企业看板)."""
from __future__ import annotations

import sys

import typer

from cli import context, output
from cli.options import JsonOption


def board(
    jurisdiction: str = typer.Option(None, "--jurisdiction", help="Only this county/district."),
    colour: str = typer.Option(None, "--colour", "--color", help="Only red | yellow | green rows."),
    state: str = typer.Option(None, "--state", help="Only listed | under_review."),
    search: str = typer.Option(None, "--search", help="Only companies whose name or credit code contains this; if none does, whose name sounds so (a homophone, pinyin or initials: 路杰, lujie, ljwl)."),
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
    state = check_choice(state, ("listed", "under_review"), "--state", aliases=_state_aliases() if state else None)
    sort = check_choice(sort, SORTS, "--sort")
    with context.reader() as db:
        jurisdiction = check_jurisdiction(db, jurisdiction)
        rows = build(db, context.actor(db), local_today(context.now), jurisdiction, colour=colour,
                     state=state, search=search, sort=sort)
    if as_json:
        sys.stdout.write(output.dumps(board_json(rows)) + "\n")
        return
    print_board(rows, wide=wide)


def _state_aliases() -> dict[str, str]:
    from messages import t

    return {t(f"state.{s}", "zh"): s for s in ("listed", "under_review")}


# Of a board row only these come from what people typed; the rest are numbers, dates, and the
# service's own words (states, colours, marks, the trend's blocks).
TYPED = ("company", "uscc", "jurisdiction")


def board_json(rows: list[dict]) -> list[dict]:
    """The rows as --json prints them: the typed fields scrubbed like every output (secrets
    removed, ID and phone numbers masked), in one call for all rows."""
    typed = output.scrub([[r[k] for k in TYPED] for r in rows])
    return [{**r, **dict(zip(TYPED, clean))} for r, clean in zip(rows, typed)]


def month_cell(entry: dict) -> str:
    from listing.services.month_marks import compact

    labels = {"transport": output.tr("dept.short.transport"), "police": output.tr("dept.short.police")}
    return compact(entry, labels)


def print_board(rows: list[dict], wide: bool = False, console=None) -> None:
    """The board as a table, the legend below it, the count by colour on stderr. To a terminal
    with colours; piped, the same table in plain text (80 columns unless COLUMNS says otherwise)."""
    from rich.console import Console

    console = console or Console()
    console.print(BoardTable(rows, wide), crop=False)
    console.print(legend(), style="dim")
    output.message(output.tr("msg.board", n=len(rows), red=sum(r["colour"] == "red" for r in rows),
                             yellow=sum(r["colour"] == "yellow" for r in rows),
                             green=sum(r["colour"] == "green" for r in rows)))


class BoardTable:
    """The board's table, laid out here rather than by rich's Table: one pass measures the
    columns, one writes each line as a couple of segments (the name in its colour, the rest
    plain). A thousand rows render in tens of milliseconds where rich's Table (a measured,
    padded, styled cell per value) took half a second.

    Full names wrap (with the code on the line below) to fit the console, or stand on one line
    each with the code in its own column when `wide` (as wide as the longest name needs,
    whatever the terminal)."""

    GAP = " "
    NAME_MIN = 18  # the 18-character credit code fits under the name...
    NAME_NARROWEST = 8  # ...unless the console is too narrow for it: then both fold

    def __init__(self, rows: list[dict], wide: bool = False) -> None:
        self.rows, self.wide = rows, wide

    def columns(self) -> tuple[list[tuple[str, str, int]], list[list[str]]]:
        """[(header, justify, least width)] and each row's cells, the company column excluded. The months of
        the cycle share one column (M1 M2 M3 M4), each month as wide as its widest mark or label."""
        from rich.cells import cell_len

        tr = output.tr
        cell = _month_cells()
        months = [[cell(m) for m in r["months"]] for r in self.rows]
        labels = [tr("col.month_n", n=n + 1) for n in range(max((len(m) for m in months), default=3))]
        month_width = max([cell_len(x) for x in labels] + [cell_len(c) for c in {c for m in months for c in m}])
        heads = [(tr("col.cycle_short"), "right", 3), (" ".join(_fit(x, month_width, "center") for x in labels), "left", 0),
                 (tr("col.review_in"), "right", 5), (tr("col.sampled_short"), "right", 4),
                 (tr("col.trend_short"), "left", 8), (tr("col.problems_short"), "right", 5),
                 (tr("col.ready_short"), "center", 2)]
        cells = []
        for r, marks in zip(self.rows, months):
            days = "" if r["days_to_review"] is None else str(r["days_to_review"])
            cells.append([str(r["cycle"]), " ".join(_fit(c, month_width, "center") for c in marks),
                          tr("board.review_days", days=days) if r["state"] == "under_review" else days,
                          f"{r['sampling_coverage']:.0%}", r["trend"], f"{r['open_problems']}/{r['overdue_problems']}",
                          "✔" if r["ready_for_acceptance"] else ""])
        return heads, cells

    def __rich_console__(self, console, options):
        from rich.cells import cell_len, chop_cells
        from rich.segment import Segment

        tr, gap = output.tr, self.GAP
        heads, cells = self.columns()
        safe = output.scrub([[r["company"], r["uscc"]] for r in self.rows])
        names = [("⚑" if r["escalated"] else "") + name for r, (name, _) in zip(self.rows, safe)]
        widths = [max([cell_len(h), least] + [cell_len(c[i]) for c in cells]) for i, (h, _, least) in enumerate(heads)]
        if self.wide:
            heads = [(tr("col.code"), "left", 0)] + heads
            widths = [max([cell_len(tr("col.code"))] + [len(u) for _, u in safe])] + widths
            cells = [[u] + c for (_, u), c in zip(safe, cells)]
        rest = sum(widths) + len(gap) * len(widths)
        trend = next(i for i, (h, _, _) in enumerate(heads) if h == tr("col.trend_short"))
        if not self.wide and options.max_width - rest < self.NAME_MIN:  # the sparkline goes before the code folds
            rest -= widths[trend] + len(gap)
            heads, widths = heads[:trend] + heads[trend + 1:], widths[:trend] + widths[trend + 1:]
            cells = [c[:trend] + c[trend + 1:] for c in cells]
        longest = max([cell_len(tr("col.company"))] + [cell_len(n) for n in names] + ([] if self.wide else [self.NAME_MIN]))
        # as wide as the longest name (or the code below it) where the console allows; on a
        # narrow console names and codes fold to what is left, down to NAME_NARROWEST cells
        name_width = longest if self.wide else min(longest, max(options.max_width - rest, self.NAME_NARROWEST))

        def after_name(values: list[str]) -> str:
            return gap + gap.join(_fit(v, w, justify) for v, w, (_, justify, _) in zip(values, widths, heads))

        header = console.get_style("table.header")
        title = tr("title.board")
        total = name_width + rest
        yield Segment(" " * max(0, (total - cell_len(title)) // 2))
        yield Segment(title, console.get_style("table.title"))
        yield Segment.line()
        yield Segment((_fit(tr("col.company"), name_width, "left") + after_name([h for h, _, _ in heads])).rstrip(), header)
        yield Segment.line()
        dim = console.get_style("dim")
        styles = {c: console.get_style(c) for c in ("red", "yellow", "green")}
        for r, name, (_, code), values in zip(self.rows, names, safe, cells):
            chunks = [name] if self.wide else chop_cells(name, name_width)
            style = styles.get(r["colour"])
            yield Segment(chunks[0], style)
            yield Segment((" " * (name_width - cell_len(chunks[0])) + after_name(values)).rstrip() + "\n")
            for chunk in chunks[1:]:
                yield Segment(chunk, style)
                yield Segment.line()
            if not self.wide:
                for chunk in chop_cells(code, name_width):
                    yield Segment(chunk, dim)
                    yield Segment.line()


def _fit(text: str, width: int, justify: str) -> str:
    """`text` padded to `width` cells (CJK characters take two)."""
    from rich.cells import cell_len

    pad = width - cell_len(text)
    if pad <= 0:
        return text
    if justify == "right":
        return " " * pad + text
    if justify == "center":
        return " " * (pad // 2) + text + " " * (pad - pad // 2)
    return text + " " * pad


def _month_cells():
    """month entry -> its cell (运✓警!), each distinct pair of marks worked out once."""
    from listing.services.month_marks import compact

    labels = {"transport": output.tr("dept.short.transport"), "police": output.tr("dept.short.police")}
    done: dict[tuple, str] = {}

    def cell(entry: dict) -> str:
        key = (entry["transport"], entry["police"])
        if key not in done:
            done[key] = compact(entry, labels)
        return done[key]

    return cell


def legend() -> str:
    from listing.services.month_marks import MARKS, SYMBOL

    tr = output.tr
    marks = "  ".join(f"{SYMBOL[m]} {tr('mark.' + m)}" for m in MARKS)
    return "\n".join([
        tr("legend.months", transport=tr("dept.short.transport"), police=tr("dept.short.police"), marks=marks),
        tr("legend.colours"),
        tr("legend.columns"),
    ])
