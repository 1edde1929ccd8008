"""Writing the monthly report: XLSX with native Excel charts (XlsxWriter; opens in Excel and WPS)
or a self-contained HTML page with SVG charts (matplotlib, offline)."""
from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

from listing.errors import ValidationError
from listing.i18n import register, t

register(
    {
        "report.title": ("运输企业挂牌整治月度报告 {month}", "Listed rectification monthly report {month}"),
        "report.companies": ("挂牌企业", "Listed companies"),
        "report.decisions": ("验收决定", "Acceptance decisions"),
        "report.rate_chart": ("抽查违法率(每车日线索数,按周期内周)", "Sampled violation rate (findings per vehicle-day, by week of cycle)"),
        "report.accident_chart": ("挂牌前/中/后事故数", "Accidents before / during / after listing"),
        "report.before": ("挂牌前", "before"),
        "report.during": ("挂牌中", "during"),
        "report.after": ("摘牌后", "after"),
        "err.report_format": ("报告文件应为 .xlsx 或 .html", "the report file must be .xlsx or .html"),
    }
)

COLUMNS = [("company", "col.company"), ("jurisdiction", "col.jurisdiction"), ("state", "col.state"), ("cycle", "col.cycle"),
           ("cycle_due", "col.cycle_due"), ("inspections_transport", "dept.transport"), ("inspections_police", "dept.police"),
           ("missed", "col.missed"), ("sampled_vehicle_days", "col.sampled"), ("findings_confirmed", "col.confirmed"),
           ("findings_suspected", "col.suspected"), ("problems_open", "col.problems_open")]
register({"col.missed": ("缺检", "missed"), "col.sampled": ("抽查车日", "sampled"), "col.confirmed": ("确认线索", "confirmed"),
          "col.suspected": ("待审线索", "to review"), "col.problems_open": ("未结问题", "open problems")})


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


def _cell(value):
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()[:16]
    return value


def _xlsx(data: dict, path: Path, lang: str) -> Path:
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path))
    bold = book.add_format({"bold": True, "bg_color": "#DDEBF7"})
    sheet = book.add_worksheet(t("report.companies", lang)[:31])
    sheet.write(0, 0, t("report.title", lang, month=data["month"]), book.add_format({"bold": True, "font_size": 14}))
    for j, (_, key) in enumerate(COLUMNS):
        sheet.write(2, j, t(key, lang), bold)
    for i, row in enumerate(data["companies"], start=3):
        for j, (key, _) in enumerate(COLUMNS):
            sheet.write(i, j, _cell(row[key]))
    sheet.set_column(0, 0, 28)
    sheet.set_column(1, len(COLUMNS), 12)
    dec = book.add_worksheet(t("report.decisions", lang)[:31])
    for j, key in enumerate(("company", "cycle", "outcome", "by", "at", "reason")):
        dec.write(0, j, key, bold)
    for i, d in enumerate(data["decisions"], start=1):
        for j, key in enumerate(("company", "cycle", "outcome", "by", "at", "reason")):
            dec.write(i, j, _cell(d[key]))
    charts = book.add_worksheet("charts")
    series = data["rate_series"]
    weeks = sorted({w for s in series.values() for w, _ in s}, key=lambda w: int(w[1:]))
    charts.write_column(1, 0, weeks)
    line = book.add_chart({"type": "line"})
    for j, (name, points) in enumerate(series.items(), start=1):
        values = dict(points)
        charts.write(0, j, name)
        charts.write_column(1, j, [values.get(w) if values.get(w) is not None else "" for w in weeks])
        line.add_series({"name": ["charts", 0, j], "categories": ["charts", 1, 0, len(weeks), 0],
                         "values": ["charts", 1, j, len(weeks), j]})
    line.set_title({"name": t("report.rate_chart", lang)})
    if series:  # a district with nothing listed this month: no chart rather than a crash
        charts.insert_chart(1, len(series) + 2, line, {"x_scale": 1.6, "y_scale": 1.3})
    acc = data["accidents"]
    base = max(len(weeks), 1) + 30
    charts.write_row(base, 0, ["company", t("report.before", lang), t("report.during", lang), t("report.after", lang)])
    for i, a in enumerate(acc, start=1):
        charts.write_row(base + i, 0, [a["company"], a["before"], a["during"], a["after"]])
    bar = book.add_chart({"type": "column"})
    for j, key in enumerate(("before", "during", "after"), start=1):
        bar.add_series({"name": ["charts", base, j], "categories": ["charts", base + 1, 0, base + len(acc), 0],
                        "values": ["charts", base + 1, j, base + len(acc), j]})
    bar.set_title({"name": t("report.accident_chart", lang)})
    if acc:
        charts.insert_chart(base, 6, bar, {"x_scale": 1.6, "y_scale": 1.3})
    if data.get("effect"):  # the effect of listing with its event-study chart (listing/reports/effect.py)
        from listing.reports.effect import xlsx_sheet

        xlsx_sheet(book, data["effect"], lang)
    book.close()
    return path


def _svg(fig) -> str:
    import warnings

    buf = io.StringIO()
    with warnings.catch_warnings():  # text stays text in the SVG: the browser's fonts draw the Chinese
        warnings.filterwarnings("ignore", message="Glyph .* missing")
        fig.savefig(buf, format="svg", bbox_inches="tight")
    return buf.getvalue()[buf.getvalue().find("<svg"):]


def _html(data: dict, path: Path, lang: str) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from jinja2 import Environment

    plt.rcParams["font.sans-serif"] = ["Noto Sans CJK SC", "WenQuanYi Zen Hei", "SimHei", "DejaVu Sans"]
    plt.rcParams["svg.fonttype"] = "none"  # text stays text: the browser renders Chinese with its fonts
    fig, ax = plt.subplots(figsize=(8, 3.5))
    for name, points in data["rate_series"].items():
        xs = [int(w[1:]) for w, v in points if v is not None]
        ax.plot(xs, [v for _, v in points if v is not None], marker="o", label=name)
    ax.set_xlabel("week")
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
    ax.set_title(t("report.accident_chart", lang))
    ax.legend()
    acc_svg = _svg(fig)
    plt.close(fig)
    effect_html = ""
    if data.get("effect"):  # the effect of listing with its event-study chart (listing/reports/effect.py)
        from listing.reports.effect import html_section

        effect_html = html_section(data["effect"], lang)
    template = Environment(autoescape=True).from_string(TEMPLATE)
    html = template.render(title=t("report.title", lang, month=data["month"]), columns=[(k, t(h, lang)) for k, h in COLUMNS],
                           rows=[{k: _cell(v) for k, v in r.items()} for r in data["companies"]], decisions=data["decisions"],
                           rate_svg=rate_svg, acc_svg=acc_svg, companies_title=t("report.companies", lang),
                           decisions_title=t("report.decisions", lang), lang=lang, effect_html=effect_html)
    path.write_text(html, encoding="utf-8")
    return path


TEMPLATE = """<!doctype html>
<html lang="{{ lang }}"><head><meta charset="utf-8"><title>{{ title }}</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;font-size:12px}
td,th{border:1px solid #ccc;padding:3px 6px}th{background:#ddebf7}</style></head><body>
<h1>{{ title }}</h1>
<h2>{{ companies_title }}</h2>
<table><tr>{% for k, h in columns %}<th>{{ h }}</th>{% endfor %}</tr>
{% for r in rows %}<tr>{% for k, h in columns %}<td>{{ r[k] if r[k] is not none else "" }}</td>{% endfor %}</tr>{% endfor %}
</table>
<div>{{ rate_svg | safe }}</div>
<div>{{ acc_svg | safe }}</div>
<h2>{{ decisions_title }}</h2>
<table><tr><th>company</th><th>cycle</th><th>outcome</th><th>by</th><th>at</th><th>reason</th></tr>
{% for d in decisions %}<tr><td>{{ d.company }}</td><td>{{ d.cycle }}</td><td>{{ d.outcome }}</td><td>{{ d.by }}</td><td>{{ d.at }}</td><td>{{ d.reason }}</td></tr>{% endfor %}
</table>
{{ effect_html | safe }}</body></html>
"""

register({"msg.report_written": ("已生成报告 {path}({n} 家企业)", "report written to {path} ({n} companies)")})
