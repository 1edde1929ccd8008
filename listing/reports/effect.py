"""The effect of listing in reports: a summary table (raw before/after next to the matched
estimate and its interval), the balance table, and the event-study chart (months around listing:
the treated and control rates, where the pre-listing spike shows, and the estimate per month with
its interval). As its own file (`report effect --out`) or as a section of the monthly report."""
from __future__ import annotations

from pathlib import Path

from messages import t
from messages.errors import ValidationError

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

    from listing.reports.render import SVG_SALT, _svg

    es = data[metric]["event_study"]
    style = {"font.sans-serif": ["Noto Sans CJK SC", "WenQuanYi Zen Hei", "SimHei", "DejaVu Sans"],
             "svg.fonttype": "none", "svg.hashsalt": SVG_SALT}  # text stays text; the same bytes every run
    with plt.rc_context(style):
        return _event_chart(plt, es, lang, _svg)


def _event_chart(plt, es: list[dict], lang: str, svg_of) -> str:
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
    svg = svg_of(fig)
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
