"""The effect of listing in reports: a summary table (raw before/after next to the matched
estimate and its interval), the balance table, and the event-study chart (months around listing:
the treated and control rates, where the pre-listing spike shows, and the estimate per month with
its interval). As its own file (`report effect --out`) or as a section of the monthly report."""
from __future__ import annotations

from pathlib import Path

from listing.errors import ValidationError
from listing.i18n import register, t

register(
    {
        "title.event_study": ("挂牌前后逐月对比(事件研究)", "Months around listing (event study)"),
        "effect.chart.rates": ("每车每月违法:挂牌企业与匹配对照", "Violations per vehicle-month: listed companies and matched controls"),
        "effect.chart.effect": ("逐月效果及95%区间(以挂牌前一月为基准)", "Effect by month with 95% interval (month -1 = 0)"),
        "effect.treated": ("挂牌企业", "listed"),
        "effect.controls": ("匹配对照", "matched controls"),
        "effect.month": ("距挂牌月数", "months from listing"),
        "effect.balance": ("挂牌前平衡性(挂牌企业 vs 对照)", "Balance before listing (listed vs controls)"),
        "effect.listings": ("各案件及其对照", "Listings and their controls"),
        "effect.excluded": ("未纳入估计的案件", "Listings left out of the estimate"),
        "col.method": ("区间方法", "interval"),
        "col.verdict": ("结论", "verdict"),
        "col.event_month": ("距挂牌月", "month"),
        "col.treated_rate": ("挂牌企业率", "listed rate"),
        "col.control_rate": ("对照率", "control rate"),
        "col.variable": ("变量", "variable"),
        "col.std_diff": ("标准化差", "std. difference"),
        "col.reason": ("原因", "reason"),
        "effect.var.rate_lookback": ("回看期车均率(匹配依据)", "rate over the look-back (matched on)"),
        "effect.var.rate_before": ("窗口内挂牌前车均率", "rate in the window before listing"),
        "effect.var.fleet": ("车辆数", "vehicles"),
        "effect.method.crv1": ("按企业聚类", "clustered by company"),
        "effect.method.wild_bootstrap": ("野聚类自助法", "wild cluster bootstrap"),
        "effect.method.none": ("无(案件过少)", "none (too few listings)"),
        "effect.verdict.reduced": ("下降", "reduced"),
        "effect.verdict.increased": ("上升", "increased"),
        "effect.verdict.no_clear_change": ("无明确变化", "no clear change"),
        "effect.verdict.cannot_tell": ("数据不足以判断", "the data cannot tell"),
        "effect.verdict.no_interval": ("仅有估计值", "estimate only"),
        "effect.why.too_few_listings": ("{metric}:仅 {n} 个可比案件(少于 {min} 个),只给估计值,不给区间",
                                        "{metric}: only {n} comparable listings (fewer than {min}): an estimate without an interval"),
        "effect.why.no_listing": ("{metric}:没有可比案件", "{metric}: no comparable listing"),
        "effect.reason.no_control_within_caliper": ("卡尺内无对照企业", "no control within the caliper"),
        "effect.reason.no_before_period": ("无挂牌前数据期", "no before-period"),
        "effect.reason.no_after_period": ("挂牌后尚无完整月份", "no complete month after listing yet"),
        "effect.reason.incomplete_data": ("窗口内数据不全", "incomplete data in the window"),
        "msg.effect_excluded": ("{metric}:{n} 个案件未纳入(原因见 --json 或报告)", "{metric}: {n} listings left out (reasons in --json or the report)"),
        "msg.effect_written": ("已生成效果报告 {path}", "effect report written to {path}"),
        "err.effect_months": ("--months 应在 1 至 24 之间,而非 {value}", "--months must be between 1 and 24, not {value}"),
        "err.effect_controls": ("--controls 至少为 1,而非 {value}", "--controls must be at least 1, not {value}"),
        "err.effect_caliper": ("--caliper 应大于 0,而非 {value}", "--caliper must be above 0, not {value}"),
        "err.effect_listing_month": ("--listing-month 应为 drop 或 weight,而非 {value}", "--listing-month must be drop or weight, not {value}"),
        "err.effect_report_format": ("效果报告文件应为 .xlsx 或 .html", "the effect report file must be .xlsx or .html"),
    }
)

METRICS = ("violations", "accidents")


def headline(result: dict) -> dict:
    """The one line a reader takes away for a measure: raw before/after, the headline estimate
    (OLS for violations, Poisson for the rare accidents), its interval, how, and the verdict."""
    model = result.get("headline", "ols")
    h = result.get(model) or {}
    method = result.get("inference") or "none"
    if model == "poisson" and h.get("relative_ci95"):
        method = h.get("interval") or method
    if not h.get("relative_ci95"):
        method = "none"
    return {"listings": result.get("listings", 0), "raw": (result.get("raw") or {}).get("relative"),
            "relative": h.get("relative"), "relative_ci95": h.get("relative_ci95"), "method": method,
            "verdict": result.get("verdict", "cannot_tell"), "model": model}


def _pct(value) -> str:
    return "" if value is None else f"{value:+.0%}"


def summary_rows(data: dict, lang: str) -> list[list]:
    rows = []
    for metric in METRICS:
        h = headline(data[metric])
        ci = h["relative_ci95"]
        rows.append([t(f"metric.{metric}", lang), h["listings"], _pct(h["raw"]), _pct(h["relative"]),
                     f"[{_pct(ci[0])}, {_pct(ci[1])}]" if ci else "", t(f"effect.method.{h['method']}", lang),
                     t(f"effect.verdict.{h['verdict']}", lang)])
    return rows


SUMMARY_HEADERS = ("col.metric", "col.listings", "col.raw_change", "col.did", "col.ci95", "col.method", "col.verdict")


def event_chart_svg(data: dict, lang: str, metric: str = "violations") -> str:
    """Two panels on one SVG: the rates (the spike before listing is selection) and the effect
    per month with its interval."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from listing.reports.render import _svg

    es = data[metric]["event_study"]
    plt.rcParams["font.sans-serif"] = ["Noto Sans CJK SC", "WenQuanYi Zen Hei", "SimHei", "DejaVu Sans"]
    plt.rcParams["svg.fonttype"] = "none"
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 6), sharex=True)
    months = [e["month"] for e in es]
    top.plot(months, [e["treated_rate"] for e in es], marker="o", label=t("effect.treated", lang))
    top.plot(months, [e["control_rate"] for e in es], marker="s", label=t("effect.controls", lang))
    top.axvline(0, color="grey", linestyle=":")
    top.set_title(t("effect.chart.rates", lang))
    top.legend(fontsize=8)
    xs = [e["month"] for e in es if e["effect"] is not None]
    ys = [e["effect"] for e in es if e["effect"] is not None]
    lo = [e["effect"] - e["ci95"][0] if e["ci95"] else 0 for e in es if e["effect"] is not None]
    hi = [e["ci95"][1] - e["effect"] if e["ci95"] else 0 for e in es if e["effect"] is not None]
    bottom.errorbar(xs, ys, yerr=[lo, hi], fmt="o", capsize=3)
    bottom.axhline(0, color="black", linewidth=0.8)
    bottom.axvline(0, color="grey", linestyle=":")
    bottom.set_title(t("effect.chart.effect", lang))
    bottom.set_xlabel(t("effect.month", lang))
    svg = _svg(fig)
    plt.close(fig)
    return svg


HTML = """<section id="effect">
<h2>{{ title }}</h2>
<table><tr>{% for h in headers %}<th>{{ h }}</th>{% endfor %}</tr>
{% for r in summary %}<tr>{% for c in r %}<td>{{ c }}</td>{% endfor %}</tr>{% endfor %}</table>
<p>{{ note }}</p>
<h3>{{ es_title }}</h3>
{% if chart %}<div>{{ chart | safe }}</div>{% endif %}
<table><tr>{% for h in es_headers %}<th>{{ h }}</th>{% endfor %}</tr>
{% for e in events %}<tr><td>{{ e.month }}</td><td>{{ e.treated }}</td><td>{{ e.controls }}</td><td>{{ e.effect }}</td><td>{{ e.ci }}</td></tr>{% endfor %}</table>
<h3>{{ balance_title }}</h3>
<table><tr>{% for h in balance_headers %}<th>{{ h }}</th>{% endfor %}</tr>
{% for b in balance %}<tr>{% for c in b %}<td>{{ c }}</td>{% endfor %}</tr>{% endfor %}</table>
<h3>{{ listings_title }}</h3>
<table>{% for l in listings %}<tr><td>{{ l.month }}</td><td>{{ l.company }}</td><td>{{ l.controls }}</td></tr>{% endfor %}</table>
{% if excluded %}<h3>{{ excluded_title }}</h3>
<table>{% for x in excluded %}<tr><td>{{ x.month }}</td><td>{{ x.company }}</td><td>{{ x.reason }}</td></tr>{% endfor %}</table>{% endif %}
</section>
"""


def _num(value, digits: int = 3) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def _tables(data: dict, lang: str, metric: str = "violations") -> dict:
    r = data[metric]
    events = [{"month": e["month"], "treated": _num(e["treated_rate"]), "controls": _num(e["control_rate"]),
               "effect": _num(e["effect"]), "ci": f"[{e['ci95'][0]:+.3f}, {e['ci95'][1]:+.3f}]" if e["ci95"] else ""}
              for e in r["event_study"]]
    balance = [[t(f"effect.var.{b['variable']}", lang), _num(b["treated"]),
                _num(b["controls"]), _num(b["std_diff"], 2)] for b in r["balance"]]
    listings = [{"month": l["month"], "company": l.get("company", ""),
                 "controls": ", ".join(f"{c['company']} ({c['distance']:.2f})" for c in l["controls"])}
                for l in r.get("per_listing", [])]
    excluded = [{"month": x.get("month", ""), "company": x.get("company", x["company_id"]),
                 "reason": t(f"effect.reason.{x['reason']}", lang)} for x in r["excluded"]]
    return {"events": events, "balance": balance, "listings": listings, "excluded": excluded}


def html_section(data: dict, lang: str) -> str:
    from jinja2 import Environment

    tables = _tables(data, lang)
    chart = event_chart_svg(data, lang) if data["violations"]["event_study"] else ""
    return Environment(autoescape=True).from_string(HTML).render(
        title=t("title.effect", lang), headers=[t(h, lang) for h in SUMMARY_HEADERS], summary=summary_rows(data, lang),
        note=t("msg.effect_note", lang), es_title=t("title.event_study", lang), chart=chart,
        es_headers=[t(k, lang) for k in ("col.event_month", "col.treated_rate", "col.control_rate", "col.did", "col.ci95")],
        balance_title=t("effect.balance", lang),
        balance_headers=[t(k, lang) for k in ("col.variable", "effect.treated", "effect.controls", "col.std_diff")],
        listings_title=t("effect.listings", lang), excluded_title=t("effect.excluded", lang), **tables)


def xlsx_sheet(book, data: dict, lang: str) -> None:
    """A sheet with the summary, the event study (data + native Excel charts: rates, and the
    effect per month with its interval as error bars), the balance table and the matches."""
    sheet = book.add_worksheet(t("title.event_study", lang)[:31].replace("(", " ").replace(")", " ").replace(":", " "))
    name = sheet.get_name()
    bold = book.add_format({"bold": True, "bg_color": "#DDEBF7"})
    sheet.write(0, 0, t("title.effect", lang), book.add_format({"bold": True, "font_size": 14}))
    sheet.write_row(2, 0, [t(h, lang) for h in SUMMARY_HEADERS], bold)
    for i, row in enumerate(summary_rows(data, lang), start=3):
        sheet.write_row(i, 0, row)
    sheet.write(6, 0, t("msg.effect_note", lang))
    es = data["violations"]["event_study"]
    top = 8
    sheet.write_row(top, 0, [t(k, lang) for k in ("col.event_month", "col.treated_rate", "col.control_rate", "col.did")]
                    + ["ci_low", "ci_high", "minus", "plus"], bold)
    for i, e in enumerate(es, start=top + 1):
        ci = e["ci95"] or [None, None]
        eff = e["effect"]
        sheet.write_row(i, 0, [e["month"], e["treated_rate"], e["control_rate"], eff, ci[0], ci[1],
                               eff - ci[0] if ci[0] is not None and eff is not None else 0,
                               ci[1] - eff if ci[1] is not None and eff is not None else 0])
    last = top + len(es)
    if es:
        rates = book.add_chart({"type": "line"})
        for col, key in ((1, "effect.treated"), (2, "effect.controls")):
            rates.add_series({"name": t(key, lang), "categories": [name, top + 1, 0, last, 0],
                              "values": [name, top + 1, col, last, col], "marker": {"type": "circle"}})
        rates.set_title({"name": t("effect.chart.rates", lang)})
        rates.set_x_axis({"name": t("effect.month", lang)})
        sheet.insert_chart(top, 10, rates, {"x_scale": 1.4, "y_scale": 1.1})
        coef = book.add_chart({"type": "line"})
        coef.add_series({"name": t("col.did", lang), "categories": [name, top + 1, 0, last, 0],
                         "values": [name, top + 1, 3, last, 3], "line": {"none": True}, "marker": {"type": "diamond"},
                         "y_error_bars": {"type": "custom", "plus_values": [name, top + 1, 7, last, 7],
                                          "minus_values": [name, top + 1, 6, last, 6]}})
        coef.set_title({"name": t("effect.chart.effect", lang)})
        coef.set_x_axis({"name": t("effect.month", lang)})
        coef.set_legend({"none": True})
        sheet.insert_chart(top + 18, 10, coef, {"x_scale": 1.4, "y_scale": 1.1})
    tables = _tables(data, lang)
    row = max(last, top + 36) + 2
    sheet.write(row, 0, t("effect.balance", lang), bold)
    sheet.write_row(row + 1, 0, [t(k, lang) for k in ("col.variable", "effect.treated", "effect.controls", "col.std_diff")], bold)
    for i, b in enumerate(tables["balance"], start=row + 2):
        sheet.write_row(i, 0, b)
    row += 3 + len(tables["balance"])
    sheet.write(row, 0, t("effect.listings", lang), bold)
    for i, l in enumerate(tables["listings"], start=row + 1):
        sheet.write_row(i, 0, [l["month"], l["company"], l["controls"]])
    row += 2 + len(tables["listings"])
    if tables["excluded"]:
        sheet.write(row, 0, t("effect.excluded", lang), bold)
        for i, x in enumerate(tables["excluded"], start=row + 1):
            sheet.write_row(i, 0, [x["month"], x["company"], x["reason"]])
    sheet.set_column(0, 0, 22)
    sheet.set_column(1, 8, 13)


def check_path(path: Path) -> None:
    if path.suffix.lower() not in (".xlsx", ".html", ".htm"):
        raise ValidationError("err.effect_report_format")


def write(data: dict, path: Path, lang: str) -> Path:
    """The effect report on its own: FILE.xlsx (native charts) or FILE.html (SVG chart)."""
    from listing.redact import scrub

    check_path(path)
    data = scrub(data)
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        import xlsxwriter

        book = xlsxwriter.Workbook(str(path))
        xlsx_sheet(book, data, lang)
        book.close()
        return path
    if suffix in (".html", ".htm"):
        body = html_section(data, lang)
        path.write_text(f"<!doctype html>\n<html lang=\"{lang}\"><head><meta charset=\"utf-8\"><title>{t('title.effect', lang)}</title>"
                        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;font-size:12px}"
                        "td,th{border:1px solid #ccc;padding:3px 6px}th{background:#ddebf7}</style></head><body>"
                        f"{body}</body></html>\n", encoding="utf-8")
    return path
