"""Writing the monthly report: XLSX with native Excel charts (XlsxWriter; opens in Excel and WPS)
or a self-contained HTML page with SVG charts (matplotlib, offline).

Officers forward these files and compare two exports, so the same data give the same bytes:
the only time in them is the report's own (gather's `now`), the workbook's metadata is fixed and
the SVG ids are seeded. Every label, state and axis is in the report's language; times are
Beijing time with their offset; dates in the workbook are Excel dates."""
from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

from messages import t
from messages.errors import ValidationError

COLUMNS = [("company", "col.company"), ("jurisdiction", "col.jurisdiction"), ("state", "col.state"), ("cycle", "col.cycle"),
           ("listed_since", "col.listed_since"), ("cycle_due", "col.cycle_due"), ("escalated", "col.escalated"),
           ("inspections_transport", "dept.transport"), ("inspections_police", "dept.police"),
           ("missed", "col.missed"), ("sampled_vehicle_days", "col.sampled"), ("findings_confirmed", "col.confirmed"),
           ("findings_suspected", "col.suspected"), ("problems_open", "col.problems_open")]
DECISION_COLUMNS = [("company", "col.company"), ("cycle", "col.cycle"), ("outcome", "col.outcome"), ("by", "col.decided_by"),
                    ("at", "col.decided_at"), ("reason", "col.decision_reason")]

EPOCH = dt.datetime(2000, 1, 1)  # workbook metadata time when the report carries none
SVG_SALT = "guapai-monthly"  # matplotlib's SVG ids are hashes salted with this (random by default)


def write(data: dict, path: Path, lang: str) -> Path:
    """Reports are read by leaders and passed on: personal data in any text (a reviewer's reason,
    a note) is always masked, and no secret is ever written."""
    from listing.redact import scrub

    data = scrub(data)
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return _xlsx(data, path, lang)
    if suffix in (".html", ".htm"):
        return _html(data, path, lang)
    raise ValidationError("err.report_format")


# -- shared: the report's words --------------------------------------------------------------

def stamp(value: dt.datetime) -> str:
    """A time as officers read it: Beijing time with its offset."""
    from listing.timeutil import to_local

    return to_local(value).isoformat(sep=" ", timespec="minutes")


def _label(key: str, value, lang: str):
    """A company-table value in the report's language (states, departments, yes/no)."""
    if key == "state":
        return t(f"state.{value}", lang)
    if key == "escalated":
        return t("yes" if value else "no", lang)
    if key == "missed":
        return "、".join(t(f"dept.{d}", lang) for d in value) if lang == "zh" else ", ".join(t(f"dept.{d}", lang) for d in value)
    return value


def _decision(d: dict, key: str, lang: str):
    if key == "outcome":
        return t(f"outcome.{d['outcome']}", lang) if d["outcome"] else ""
    return d[key]


def summary_rows(data: dict, lang: str) -> list[tuple[str, list[tuple[str, object]]]]:
    """The city summary as (section title, [(label, value)]) in the report's language; values
    are numbers (a share is a float in [0, 1]) or short text."""
    s = data["summary"]
    li, pr, sa = s["listings"], s["problems"], s["sampling"]
    sections = [(t("sum.listings", lang), [(t(f"sum.{k}", lang), li[k]) for k in
                                            ("listed", "newly_listed", "delisted", "kept", "escalated", "listed_at_end")])]
    for dept, figures in s["inspections"].items():
        sections.append((f"{t('sum.inspections', lang)} · {t(f'dept.{dept}', lang)}",
                         [(t(f"sum.{k}", lang), figures[k]) for k in ("done", "owed", "missed")]
                         + [(t("sum.inspection_count", lang), figures["inspections"])]))
    sections.append((t("sum.problems", lang), [(t(f"sum.{k}", lang), pr[k]) for k in ("opened", "closed", "open_at_end", "overdue")]))
    sections.append((t("sum.sampling", lang), [
        (t("sum.vehicle_days", lang), sa["vehicle_days"]), (t("sum.with_data", lang), sa["with_data"]),
        (t("sum.without_data", lang), sa["without_data"]),
        (t("sum.company_days", lang), f"{sa['company_days_sampled']} / {sa['company_days_listed']}"),
        (t("sum.coverage", lang), sa["coverage"]),
        (t("sum.vehicles", lang), f"{sa['vehicles_sampled']} / {sa['vehicles_active']}")]))
    return sections


def findings_rows(data: dict, lang: str) -> list[list]:
    return [[t(f"rule.{f['rule']}", lang), f["total"], f["confirmed"], f["dismissed"], f["suspected"]]
            for f in data["summary"]["findings"]]


FINDING_HEADERS = ("col.rule", "col.total", "col.confirmed", "col.dismissed", "col.suspected")


def _header_line(data: dict, lang: str) -> str:
    parts = [t("report.as_of", lang, day=data["as_of"].isoformat())]
    if data.get("generated_at") is not None:
        parts.append(t("report.generated", lang, at=stamp(data["generated_at"])))
    parts.append(t("report.times_note", lang))
    return ";".join(parts) if lang == "zh" else "; ".join(parts)


def _week(label: str, lang: str) -> str:
    return t("report.week_n", lang, n=int(label[1:]))


# -- XLSX ------------------------------------------------------------------------------------

def _xlsx(data: dict, path: Path, lang: str) -> Path:
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path))
    created = data.get("generated_at")
    book.set_properties({"title": t("report.title", lang, month=data["month"]), "author": "guapai",
                         "created": created.astimezone(dt.timezone.utc).replace(tzinfo=None) if created else EPOCH})
    fmt = {"title": book.add_format({"bold": True, "font_size": 14}), "head": book.add_format({"bold": True, "bg_color": "#DDEBF7"}),
           "section": book.add_format({"bold": True}), "date": book.add_format({"num_format": "yyyy-mm-dd"}),
           "time": book.add_format({"num_format": "yyyy-mm-dd hh:mm"}), "share": book.add_format({"num_format": "0.0%"})}
    _xlsx_summary(book, fmt, data, lang)
    _xlsx_companies(book, fmt, data, lang)
    _xlsx_decisions(book, fmt, data, lang)
    _xlsx_charts(book, data, lang)
    if data.get("effect"):  # the effect of listing with its event-study chart (listing/reports/effect.py)
        from listing.reports.effect import xlsx_sheet

        xlsx_sheet(book, data["effect"], lang)
    book.close()
    return path


def _xlsx_summary(book, fmt, data: dict, lang: str) -> None:
    sheet = book.add_worksheet(t("report.summary", lang)[:31])
    sheet.write(0, 0, t("report.title", lang, month=data["month"]), fmt["title"])
    sheet.write(1, 0, _header_line(data, lang))
    row = 3
    for title, items in summary_rows(data, lang):
        sheet.write(row, 0, title, fmt["section"])
        row += 1
        for label, value in items:
            sheet.write(row, 0, label)
            if isinstance(value, float):
                sheet.write_number(row, 1, value, fmt["share"])
            else:
                sheet.write(row, 1, value if value is not None else "")
            row += 1
        row += 1
    sheet.write(row, 0, t("sum.findings", lang), fmt["section"])
    sheet.write_row(row + 1, 0, [t(k, lang) for k in FINDING_HEADERS], fmt["head"])
    for i, values in enumerate(findings_rows(data, lang), start=row + 2):
        sheet.write_row(i, 0, values)
    sheet.set_column(0, 0, 30)
    sheet.set_column(1, 4, 14)


def _xlsx_value(sheet, fmt, i: int, j: int, value) -> None:
    """Dates and times as Excel dates (times in Beijing time; Excel has no offsets)."""
    from listing.timeutil import to_local

    if isinstance(value, dt.datetime):
        sheet.write_datetime(i, j, to_local(value).replace(tzinfo=None), fmt["time"])
    elif isinstance(value, dt.date):
        sheet.write_datetime(i, j, dt.datetime.combine(value, dt.time()), fmt["date"])
    elif value is None:
        sheet.write_blank(i, j, None)
    else:
        sheet.write(i, j, value)


def _xlsx_companies(book, fmt, data: dict, lang: str) -> None:
    sheet = book.add_worksheet(t("report.companies", lang)[:31])
    sheet.write(0, 0, t("report.title", lang, month=data["month"]), fmt["title"])
    for j, (_, key) in enumerate(COLUMNS):
        sheet.write(2, j, t(key, lang), fmt["head"])
    for i, row in enumerate(data["companies"], start=3):
        for j, (key, _) in enumerate(COLUMNS):
            _xlsx_value(sheet, fmt, i, j, _label(key, row[key], lang))
    sheet.set_column(0, 0, 28)
    sheet.set_column(1, len(COLUMNS), 12)


def _xlsx_decisions(book, fmt, data: dict, lang: str) -> None:
    sheet = book.add_worksheet(t("report.decisions", lang)[:31])
    for j, (_, key) in enumerate(DECISION_COLUMNS):
        sheet.write(0, j, t(key, lang), fmt["head"])
    for i, d in enumerate(data["decisions"], start=1):
        for j, (key, _) in enumerate(DECISION_COLUMNS):
            _xlsx_value(sheet, fmt, i, j, _decision(d, key, lang))
    sheet.set_column(0, 0, 28)
    sheet.set_column(1, len(DECISION_COLUMNS), 16)


def _xlsx_charts(book, data: dict, lang: str) -> None:
    name = t("report.charts", lang)[:31]
    charts = book.add_worksheet(name)
    series = data["rate_series"]
    weeks = sorted({w for s in series.values() for w, _ in s}, key=lambda w: int(w[1:]))
    charts.write(0, 0, t("report.week_axis", lang))
    charts.write_column(1, 0, [_week(w, lang) for w in weeks])
    line = book.add_chart({"type": "line"})
    for j, (company, points) in enumerate(series.items(), start=1):
        values = dict(points)
        charts.write(0, j, company)
        charts.write_column(1, j, [values.get(w) if values.get(w) is not None else "" for w in weeks])
        line.add_series({"name": [name, 0, j], "categories": [name, 1, 0, len(weeks), 0],
                         "values": [name, 1, j, len(weeks), j]})
    line.set_title({"name": t("report.rate_chart", lang)})
    line.set_x_axis({"name": t("report.week_axis", lang)})
    line.set_y_axis({"name": t("report.rate_axis", lang)})
    if series:  # a district with nothing listed this month: no chart rather than a crash
        charts.insert_chart(1, len(series) + 2, line, {"x_scale": 1.6, "y_scale": 1.3})
    acc = data["accidents"]
    base = max(len(weeks), 1) + 30
    charts.write_row(base, 0, [t("col.company", lang), t("report.before", lang), t("report.during", lang), t("report.after", lang)])
    for i, a in enumerate(acc, start=1):
        charts.write_row(base + i, 0, [a["company"], a["before"], a["during"], a["after"]])
    bar = book.add_chart({"type": "column"})
    for j, key in enumerate(("before", "during", "after"), start=1):
        bar.add_series({"name": [name, base, j], "categories": [name, base + 1, 0, base + len(acc), 0],
                        "values": [name, base + 1, j, base + len(acc), j]})
    bar.set_title({"name": t("report.accident_chart", lang)})
    bar.set_y_axis({"name": t("report.accident_axis", lang)})
    if acc:
        charts.insert_chart(base, 6, bar, {"x_scale": 1.6, "y_scale": 1.3})


# -- HTML ------------------------------------------------------------------------------------

def _svg(fig) -> str:
    import warnings

    import matplotlib

    buf = io.StringIO()
    with warnings.catch_warnings(), matplotlib.rc_context({"svg.hashsalt": SVG_SALT}):  # stable ids, whoever drew it
        warnings.filterwarnings("ignore", message="Glyph .* missing")  # text stays text: the browser draws the Chinese
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    return buf.getvalue()[buf.getvalue().find("<svg"):]


def _charts(data: dict, lang: str) -> tuple[str, str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    style = {"font.sans-serif": ["Noto Sans CJK SC", "WenQuanYi Zen Hei", "SimHei", "DejaVu Sans"],
             "svg.fonttype": "none",  # text stays text: the browser renders Chinese with its fonts
             "svg.hashsalt": SVG_SALT}  # stable ids: two runs give the same bytes
    with plt.rc_context(style):
        fig, ax = plt.subplots(figsize=(8, 3.5))
        for company, points in data["rate_series"].items():
            xs = [int(w[1:]) for w, v in points if v is not None]
            ax.plot(xs, [v for _, v in points if v is not None], marker="o", label=company)
        ax.set_xlabel(t("report.week_axis", lang))
        ax.set_ylabel(t("report.rate_axis", lang))
        ax.set_title(t("report.rate_chart", lang))
        if data["rate_series"]:
            ax.legend(fontsize=6)
        rate_svg = _svg(fig)
        plt.close(fig)
        fig, ax = plt.subplots(figsize=(8, 3.5))
        acc = data["accidents"]
        xs = range(len(acc))
        for k, key in enumerate(("before", "during", "after")):
            ax.bar([x + k * 0.27 for x in xs], [a[key] for a in acc], width=0.27, label=t(f"report.{key}", lang))
        ax.set_xticks([x + 0.27 for x in xs], [a["company"][-6:] for a in acc], rotation=45, fontsize=6)
        ax.set_ylabel(t("report.accident_axis", lang))
        ax.set_title(t("report.accident_chart", lang))
        ax.legend()
        acc_svg = _svg(fig)
        plt.close(fig)
    return rate_svg, acc_svg


def _html_value(value) -> str:
    if isinstance(value, dt.datetime):
        return stamp(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:.1%}"
    return "" if value is None else str(value)


def _effect_html(data: dict, lang: str) -> str:
    if not data.get("effect"):  # the effect of listing with its event-study chart (listing/reports/effect.py)
        return ""
    from listing.reports.effect import html_section

    return html_section(data["effect"], lang)


def _html(data: dict, path: Path, lang: str) -> Path:
    from jinja2 import Environment, PackageLoader

    rate_svg, acc_svg = _charts(data, lang)
    env = Environment(loader=PackageLoader("listing.reports", "templates"), autoescape=True, keep_trailing_newline=True)
    env.filters["cell"] = _html_value
    html = env.get_template("monthly.html").render(
        lang=lang, title=t("report.title", lang, month=data["month"]), header_line=_header_line(data, lang),
        summary_title=t("report.summary", lang), summary=summary_rows(data, lang),
        findings_title=t("sum.findings", lang), finding_headers=[t(k, lang) for k in FINDING_HEADERS],
        findings=findings_rows(data, lang),
        companies_title=t("report.companies", lang), columns=[t(h, lang) for _, h in COLUMNS],
        rows=[[_label(k, r[k], lang) for k, _ in COLUMNS] for r in data["companies"]],
        rate_svg=rate_svg, acc_svg=acc_svg,
        decisions_title=t("report.decisions", lang), decision_columns=[t(h, lang) for _, h in DECISION_COLUMNS],
        decisions=[[_decision(d, k, lang) for k, _ in DECISION_COLUMNS] for d in data["decisions"]],
        no_decisions=t("report.no_decisions", lang), effect_html=_effect_html(data, lang))
    path.write_text(html, encoding="utf-8")
    return path
