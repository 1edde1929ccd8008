"""The monthly report officers forward: it opens with the city summary (checked figure by figure
on a small hand-built month), the same data and clock give the same bytes (HTML and XLSX), the
workbook's dates are Excel dates, and a zh report holds no English state, department or axis word."""
from __future__ import annotations

import datetime as dt
import io
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from sqlmodel import select

from listing.reports.summary import ListingFact, MonthFacts, ProblemFact, summarise
from listing.store import tables
from tests.conftest import NOW, actor
from tests.scenario import listed_company, local

OCT = (dt.date(2026, 10, 1), dt.date(2026, 10, 31))


def test_city_summary_counts_each_figure_from_the_months_facts():
    first, last = OCT
    facts = MonthFacts(first=first, last=last, as_of=last, listings=[
        ListingFact(1, 10, dt.date(2026, 7, 1), dt.date(2026, 10, 5), False),  # delisted on the 5th: owes nothing in October
        ListingFact(2, 20, dt.date(2026, 9, 1), None, True),  # listed all month, escalated
        ListingFact(3, 30, dt.date(2026, 10, 25), None, False),  # new on the 25th: listed 7 days, owes nothing yet
        ListingFact(4, 40, dt.date(2026, 11, 2), None, False),  # after the month: not in it
        ListingFact(5, 50, dt.date(2026, 3, 1), dt.date(2026, 9, 1), False),  # before it
        ListingFact(6, 60, dt.date(2026, 8, 1), None, False),  # listed all month, failed its review
    ])
    facts.decisions = [(1, "pass", dt.date(2026, 10, 5)), (6, "fail", dt.date(2026, 10, 31))]
    facts.inspections = [(20, "transport", dt.date(2026, 10, 3)), (20, "transport", dt.date(2026, 10, 9)),
                         (20, "police", dt.date(2026, 10, 9)), (60, "police", dt.date(2026, 10, 20)),
                         (10, "police", dt.date(2026, 10, 2))]  # a visit not owed still counts as an inspection
    facts.misses = [(6, "transport")]
    facts.problems = [ProblemFact(dt.date(2026, 9, 1), dt.date(2026, 10, 2), dt.date(2026, 9, 20)),  # closed in October
                      ProblemFact(dt.date(2026, 10, 3), None, dt.date(2026, 10, 20)),  # opened, overdue at month end
                      ProblemFact(dt.date(2026, 10, 30), None, dt.date(2026, 11, 15)),  # opened, not yet due
                      ProblemFact(dt.date(2026, 8, 1), dt.date(2026, 8, 20), dt.date(2026, 8, 30))]  # history
    facts.findings = [("overspeed", "confirmed"), ("overspeed", "dismissed"), ("no_data", "suspected"),
                      ("overspeed", "confirmed")]
    facts.samples = [(20, 201, dt.date(2026, 10, d), "scanned") for d in range(1, 32)] + \
                    [(60, 601, dt.date(2026, 10, 1), "no_data"), (60, 602, dt.date(2026, 10, 2), "partial")]
    facts.active_vehicles = {10: 3, 20: 5, 30: 2, 40: 9, 60: 4}
    s = summarise(facts)
    assert s["listings"] == {"listed": 4, "newly_listed": 1, "delisted": 1, "kept": 1, "escalated": 1, "listed_at_end": 3}
    assert s["inspections"]["transport"] == {"done": 1, "owed": 2, "missed": 1, "inspections": 2}
    assert s["inspections"]["police"] == {"done": 2, "owed": 2, "missed": 0, "inspections": 3}
    assert s["problems"] == {"opened": 2, "closed": 1, "open_at_end": 2, "overdue": 1}
    assert s["findings"] == [{"rule": "overspeed", "total": 3, "confirmed": 2, "dismissed": 1, "suspected": 0},
                             {"rule": "no_data", "total": 1, "confirmed": 0, "dismissed": 0, "suspected": 1}]
    # listed company-days: 5 (1st-5th) + 31 + 7 (25th-31st) + 31 = 74; sampled company-days 31 + 2
    assert s["sampling"] == {"vehicle_days": 33, "with_data": 32, "without_data": 1, "company_days_sampled": 33,
                             "company_days_listed": 74, "coverage": round(33 / 74, 3), "vehicles_sampled": 3,
                             "vehicles_active": 14}


def test_inside_the_current_month_figures_run_to_today():
    first, last = OCT
    facts = MonthFacts(first=first, last=last, as_of=dt.date(2026, 10, 10),
                       listings=[ListingFact(1, 10, dt.date(2026, 9, 1), None, False)],
                       problems=[ProblemFact(dt.date(2026, 10, 3), None, dt.date(2026, 10, 20))])
    s = summarise(facts)
    assert s["problems"]["overdue"] == 0 and s["problems"]["open_at_end"] == 1  # due on the 20th: not overdue on the 10th
    assert s["sampling"]["company_days_listed"] == 10


@pytest.fixture
def month(people):
    """October 2026 in a small city: A delisted on 5 Oct, B listed all month (inspected, sampled,
    a confirmed overspeed, an overdue problem), C listed on 25 Oct."""
    store = people
    a, la, va = listed_company(store, local(2026, 7, 1), vehicles=3)
    b, lb, vb = listed_company(store, local(2026, 9, 1), vehicles=5, jurisdiction="上城区")
    c, lc, vc = listed_company(store, local(2026, 10, 25), vehicles=2)
    with store.session() as s:
        listing = s.get(tables.Listing, la)
        listing.state, listing.closed_at = "delisted", local(2026, 10, 5, 15)
        cycle = s.exec(select(tables.Cycle).where(tables.Cycle.listing_id == la)).one()
        cycle.outcome, cycle.decided_by, cycle.decided_at, cycle.reason = "pass", "reviewer", local(2026, 10, 5, 15), "整改到位"
        s.add(cycle)
        for dept in ("transport", "police"):
            s.add(tables.Inspection(company_id=b, listing_id=lb, department=dept, inspector="x", day=dt.date(2026, 10, 9),
                                    recorded_at=local(2026, 10, 9)))
        for day in range(1, 32):
            s.add(tables.Sample(day=dt.date(2026, 10, day), company_id=b, listing_id=lb, vehicle_id=vb[day % 5], rank=0,
                                status="scanned", points=100))
        s.flush()
        sample = s.exec(select(tables.Sample).where(tables.Sample.company_id == b)).first()
        s.add(tables.Finding(sample_id=sample.id, day=sample.day, company_id=b, vehicle_id=sample.vehicle_id, rule="overspeed",
                             start=local(2026, 10, 1, 9), end=local(2026, 10, 1, 9, 5), state="confirmed"))
        s.add(tables.Problem(company_id=b, listing_id=lb, source="inspection", description="台账不全", due=dt.date(2026, 10, 20),
                             created_at=local(2026, 10, 9)))
    return store


def _report(store, tmp_path: Path, lang: str, suffix: str, name: str = "r", now=NOW) -> Path:
    from listing.reports import monthly
    from listing.reports.render import write

    with store.session(readonly=True) as s:
        data = monthly.gather(s, actor(store, "reviewer"), "2026-10", now=now)
    return write(data, tmp_path / f"{name}-{lang}.{suffix}", lang)


def test_the_report_opens_with_the_city_summary(month, tmp_path):
    from listing.reports import monthly

    with month.session(readonly=True) as s:
        data = monthly.gather(s, actor(month, "reviewer"), "2026-10", now=NOW)
    s = data["summary"]
    assert s["listings"] == {"listed": 3, "newly_listed": 1, "delisted": 1, "kept": 0, "escalated": 0, "listed_at_end": 2}
    assert s["inspections"]["police"] == {"done": 1, "owed": 1, "missed": 0, "inspections": 1}
    assert s["problems"] == {"opened": 1, "closed": 0, "open_at_end": 1, "overdue": 1}
    assert s["findings"] == [{"rule": "overspeed", "total": 1, "confirmed": 1, "dismissed": 0, "suspected": 0}]
    assert s["sampling"]["vehicle_days"] == 31 and s["sampling"]["company_days_listed"] == 5 + 31 + 7
    html = _report(month, tmp_path, "zh", "html").read_text(encoding="utf-8")
    assert html.index("全市概况") < html.index("挂牌企业</h2>") < html.index("<svg")
    assert "生成于 2026-11-24 10:00+08:00" in html and "2026-10-05 23:00+08:00" not in html
    assert "2026-10-05 15:00+08:00" in html  # the decision, in Beijing time with its offset
    import openpyxl

    book = openpyxl.load_workbook(_report(month, tmp_path, "zh", "xlsx"))
    assert book.sheetnames[0] == "全市概况"
    first = [c for row in book["全市概况"].iter_rows(values_only=True) for c in row if c is not None]
    assert "本月挂牌企业" in first and "其中逾期" in first and "超速" in first


def test_workbook_dates_are_excel_dates(month, tmp_path):
    import openpyxl

    book = openpyxl.load_workbook(_report(month, tmp_path, "en", "xlsx"))
    sheet = book["Listed companies"]
    header = [c.value for c in sheet[3]]
    since = sheet.cell(4, header.index("listed since") + 1)
    assert since.is_date and isinstance(since.value, dt.datetime)
    decisions = book["Acceptance decisions"]
    at = decisions.cell(2, [c.value for c in decisions[1]].index("decided at") + 1)
    assert at.is_date and at.value == dt.datetime(2026, 10, 5, 15, 0)  # Beijing time


@pytest.mark.parametrize("suffix", ["html", "xlsx"])
def test_the_same_data_and_clock_give_the_same_bytes(month, tmp_path, suffix):
    one = _report(month, tmp_path, "zh", suffix, "one").read_bytes()
    two = _report(month, tmp_path, "zh", suffix, "two").read_bytes()
    assert one == two
    later = _report(month, tmp_path, "zh", suffix, "later", now=NOW + dt.timedelta(hours=1)).read_bytes()
    assert later != one  # the clock passed in is the report's only time
    if suffix == "xlsx":
        core = zipfile.ZipFile(io.BytesIO(one)).read("docProps/core.xml").decode()
        assert "2026-11-24T02:00:00Z" in core  # the workbook's own time is the report's


def test_two_processes_write_the_same_bytes(month, tmp_path):
    """matplotlib salts SVG ids with a random value per process unless told otherwise."""
    script = ("import sys, datetime as dt; from listing.store.db import open_store; from listing.services.users import resolve_actor;"
              "from listing.reports import monthly; from listing.reports.render import write; from pathlib import Path;"
              "store = open_store(sys.argv[1]); s = store.session(readonly=True).__enter__();"
              "data = monthly.gather(s, resolve_actor(s, 'reviewer'), '2026-10', now=dt.datetime(2026, 11, 24, 2, tzinfo=dt.timezone.utc));"
              "write(data, Path(sys.argv[2]), 'zh')")
    outs = []
    for i in (1, 2):
        path = tmp_path / f"p{i}.html"
        subprocess.run([sys.executable, "-c", script, str(month.url), str(path)], check=True, cwd=Path(__file__).parents[2])
        outs.append(path.read_bytes())
    assert outs[0] == outs[1]


ALLOWED = {"UTC", "reviewer"}  # units, codes and names (the deciding officer's user name) a zh report may show


def _words(text: str) -> set[str]:
    return set(re.findall(r"[A-Za-z]{2,}", text)) - ALLOWED


def test_a_zh_report_has_no_english_words(month, tmp_path):
    html = _report(month, tmp_path, "zh", "html").read_text(encoding="utf-8")
    visible = re.sub(r"<style.*?</style>|<metadata>.*?</metadata>", "", html, flags=re.S)  # not shown
    text = " ".join(re.findall(r">([^<]+)<", visible))  # text nodes, the SVG charts' labels among them
    assert _words(text) == set(), _words(text)
    book = zipfile.ZipFile(_report(month, tmp_path, "zh", "xlsx"))
    strings = book.read("xl/sharedStrings.xml").decode() if "xl/sharedStrings.xml" in book.namelist() else ""
    charts = " ".join(book.read(n).decode() for n in book.namelist() if n.startswith("xl/charts/chart"))
    sheets = book.read("xl/workbook.xml").decode()
    cells = " ".join(re.findall(r"<t[^>]*>([^<]*)</t>", strings) + re.findall(r"<a:t>([^<]*)</a:t>", charts)
                     + re.findall(r'<sheet name="([^"]+)"', sheets))
    assert "挂牌整治中" in cells and "已摘牌" in cells
    assert _words(cells) == set(), _words(cells)
