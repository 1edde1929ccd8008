"""The board's table as people read it (cli/board.py lays it out itself, not through rich's Table):
full names wrapped to the console with the code below, or one line each with --wide; columns
aligned in cells (Chinese characters take two); colours on a terminal, plain text piped; typed
text scrubbed in the table and in --json."""
import datetime as dt
import io
import json

import pytest
from rich.cells import cell_len
from rich.console import Console

from cli import output
from cli.board import BoardTable, board_json, legend, print_board

LONG = "杭州某某某某某某某某某某某某某某某某某某某某某某运输有限公司"


def row(name: str, uscc: str, *, colour="green", state="listed", months=None, days=30, escalated=False) -> dict:
    months = months if months is not None else [
        {"month": "2026-10", "transport": "done", "police": "missed", "transport_count": 1, "police_count": 0},
        {"month": "2026-11", "transport": "owed", "police": "done", "transport_count": 0, "police_count": 2},
        {"month": "2026-12", "transport": "upcoming", "police": "upcoming", "transport_count": 0, "police_count": 0}]
    return {"listing_id": 1, "company": name, "uscc": uscc, "jurisdiction": "西湖区", "state": state, "cycle": 2,
            "cycle_start": dt.date(2026, 10, 20), "cycle_due": dt.date(2027, 1, 18), "days_left": days,
            "review_date": dt.date(2027, 1, 18), "days_to_review": days, "inspections_transport": 0,
            "inspections_police": 2, "months": months, "missed_inspection_months": 1, "sampling_coverage": 0.875,
            "violation_rate_weekly": [0.1] * 8, "trend": "▁▂▃▄▅▆▇█", "open_problems": 3, "overdue_problems": 1,
            "problems_awaiting_verification": 0, "escalated": escalated, "ready_for_acceptance": False, "colour": colour}


ROWS = [row(LONG, "91330106MA2B000001", colour="red", escalated=True),
        row("杭州乙客运有限公司", "91330109MA2B000002", state="under_review", days=-3, months=[]),
        row("ABC Logistics", "91330110MA2B000003", colour="yellow")]


@pytest.fixture(params=["en", "zh"])
def lang(request):
    before = output.lang()
    output.set_lang(request.param)
    yield request.param
    output.set_lang(before)


def render(rows, *, width=80, wide=False, terminal=False) -> str:
    out = io.StringIO()
    console = Console(file=out, width=width, force_terminal=terminal, color_system="standard" if terminal else None)
    print_board(rows, wide=wide, console=console)
    return out.getvalue()


def table_lines(text: str) -> list[str]:
    """The table's lines: from the header to the line before the legend."""
    lines = text.splitlines()
    start = legend().splitlines()[0][:8]
    return lines[1:next(i for i, line in enumerate(lines) if line.startswith(start))]


def test_narrow_names_wrap_to_the_console_with_the_code_below(lang):
    text = render(ROWS, width=80)
    lines = table_lines(text)
    assert all(cell_len(line) <= 80 for line in lines), lines
    assert "⚑" + LONG not in text  # too long for 80 columns: wrapped, every character kept
    first = next(i for i, line in enumerate(lines) if line.startswith("⚑杭州"))
    code = lines.index("91330106MA2B000001")
    assert code > first + 1  # the name took two lines or more, the code comes after it
    assert "".join(line.split(" ")[0] for line in lines[first:code]) == "⚑" + LONG
    assert lines[code + 1].startswith("杭州乙客运有限公司") and lines[code + 2] == "91330109MA2B000002"


def test_a_very_narrow_console_folds_names_and_codes_too(lang):
    lines = table_lines(render([row("HangzhouABCLogistics", "91330110MA2B000003")], width=64))
    assert all(cell_len(line) <= 64 for line in lines), lines
    assert "".join(line.split(" ")[0] for line in lines[1:]) == "HangzhouABCLogistics91330110MA2B000003"


def test_the_trend_gives_way_before_the_code_folds(lang):
    """A four-month cycle in Chinese (运✓警✗ is six cells a month) leaves an 80-column console too
    little room for the code under the name: the eight-week sparkline goes first."""
    four = [{"month": f"2026-{m:02d}", "transport": "done", "police": "missed", "transport_count": 1, "police_count": 0}
            for m in (9, 10, 11, 12)]
    rows = [row("杭州邦利客运有限公司078", "91330102ENXA04ND07", months=four)]
    narrow, roomy = table_lines(render(rows, width=80)), table_lines(render(rows, width=120))
    assert all(cell_len(line) <= 80 for line in narrow), narrow
    assert "91330102ENXA04ND07" in narrow and "91330102ENXA04ND07" in roomy  # whole, on its own line
    trend = output.tr("col.trend_short")
    assert trend in roomy[0] and "▁▂▃▄▅▆▇█" in roomy[1]
    assert (trend in narrow[0]) == (lang == "en")  # English marks are narrower: room for both


def test_wide_one_line_per_company_whatever_the_console(lang):
    lines = table_lines(render(ROWS, width=40, wide=True))
    [jia] = [line for line in lines if LONG in line]
    assert jia.startswith("⚑" + LONG) and "91330106MA2B000001" in jia
    assert not any(line.strip() == "91330106MA2B000001" for line in lines)  # no code line of its own
    assert len(lines) == 1 + len(ROWS)  # the header and one line per company


def test_columns_line_up_in_cells_with_chinese_labels(lang):
    lines = table_lines(render(ROWS, width=120, wide=True))
    header, rows = lines[0], lines[1:]
    assert all(line.rstrip().endswith("3/1") for line in rows)  # problems: not verified/overdue
    assert len({cell_len(line.rstrip()) for line in rows}) == 1  # right-aligned: every row ends at one cell
    m1 = output.tr("col.month_n", n=1)
    mark_at = cell_len(rows[0][:rows[0].index(output.tr("dept.short.transport") + "✓")])
    label_at = cell_len(header[:header.index(m1)])
    assert abs(mark_at - label_at) <= 1  # each month's label over its marks
    m3 = output.tr("col.month_n", n=3)
    third = cell_len(rows[0][:rows[0].index(output.tr("dept.short.transport") + "·")])
    assert abs(third - cell_len(header[:header.index(m3)])) <= 1


def test_review_days_months_and_problems_in_the_row(lang):
    lines = table_lines(render(ROWS, width=120, wide=True))
    [yi] = [line for line in lines if "杭州乙客运有限公司" in line]
    assert output.tr("board.review_days", days="-3") in yi and "88%" in yi and "3/1" in yi
    [jia] = [line for line in lines if LONG in line]
    t, p = output.tr("dept.short.transport"), output.tr("dept.short.police")
    assert f"{t}✓{p}✗" in jia and f"{t}!{p}✓" in jia and f"{t}·{p}·" in jia


def test_colours_on_a_terminal_plain_when_piped():
    terminal = render(ROWS, terminal=True)
    assert "\x1b[31m⚑杭州" in terminal and "\x1b[33mABC Logistics" in terminal  # red, yellow names
    assert "\x1b[" not in render(ROWS)


def test_typed_text_is_scrubbed_in_table_and_json():
    phone = "13812345678"
    rows = [row(f"某某运输公司 {phone}", "91330106MA2B000001")]
    assert phone not in render(rows) and phone not in render(rows, wide=True)
    printed = board_json(rows)
    assert phone not in json.dumps(printed, default=str) and "138****5678" in printed[0]["company"]
    assert printed[0]["months"] == rows[0]["months"] and rows[0]["company"].endswith(phone)  # a copy


def test_an_empty_board_still_has_its_header():
    lines = table_lines(render([]))
    assert lines[0].startswith(output.tr("col.company")) and len(lines) == 1
    assert BoardTable([]).columns()[1] == []


def test_the_set_based_board_is_the_same_on_postgresql_and_sqlite(world, pg_url):
    """The grouped queries over the listings in scope (subqueries, CASE weeks, DISTINCT days) give
    PostgreSQL and SQLite the same rows: every filter and sort, a county officer's scope, a search."""
    from listing.services.board import board
    from listing.store.db import open_store
    from tests.cli.world import TODAY, build
    from tests.conftest import actor

    pg = open_store(pg_url)
    try:
        build(pg)
        for user, kwargs in (("reviewer", {}), ("reviewer", {"sort": "days"}), ("reviewer", {"state": "under_review"}),
                             ("reviewer", {"search": "乙客"}), ("reviewer", {"colour": "red"}), ("xihu", {})):
            results = []
            for store in (world["store"], pg):
                with store.session(readonly=True) as s:
                    results.append([{k: v for k, v in r.items() if k != "listing_id"}
                                    for r in board(s, actor(store, user), TODAY, **kwargs)])
            assert results[0] == results[1], (user, kwargs)
            assert results[0] or kwargs.get("colour"), (user, kwargs)  # the comparison compares rows
    finally:
        pg.engine.dispose()
