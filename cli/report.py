"""guapai report — monthly report (XLSX/HTML) and the effect of listing."""
from __future__ import annotations

from pathlib import Path

import typer

from cli import context, output

app = typer.Typer(help="Reports: monthly (XLSX/HTML) and the effect of listing. 报表。", no_args_is_help=True)


@app.command("effect")
def effect(
    months: int = typer.Option(6, "--months", help="Months before and after the listing month."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Accidents and violations per vehicle-month before vs during/after listing, against comparable
    unlisted companies (matched difference in differences, 95% intervals), next to the raw drop."""
    from listing.services.effect import effect as measure
    from listing.timeutil import local_today

    with context.session(readonly=True) as session:
        data = measure(session, context.actor(session), local_today(context.now), months=months)
    if as_json:
        output.print_json(data)
        return
    rows = []
    for metric in ("violations", "accidents"):
        o = data[metric]["overall"]
        if o is None:
            continue
        rows.append({"metric": output.tr(f"metric.{metric}"), "listings": o["listings"],
                     "raw": f"{o['relative_raw']:+.0%}", "did": f"{o['relative_did']:+.0%}",
                     "ci": f"[{o['relative_ci95'][0]:+.0%}, {o['relative_ci95'][1]:+.0%}]"})
    output.show(rows, [("metric", "col.metric"), ("listings", "col.listings"), ("raw", "col.raw_change"),
                       ("did", "col.did"), ("ci", "col.ci95")], as_json=False, title_key="title.effect")
    output.message(output.tr("msg.effect_note"))


@app.command("monthly")
def monthly(
    month: str = typer.Option(..., "--month", help="YYYY-MM"),
    out: Path = typer.Option(..., "--out", help="FILE.xlsx (native Excel charts) or FILE.html"),
) -> None:
    """The monthly report: listed companies, inspections, sampling, problems, decisions, charts."""
    from listing.reports import monthly as report
    from listing.reports.render import write

    with context.session(readonly=True) as session:
        data = report.gather(session, context.actor(session), context.month_option(month))
    write(data, out, output.lang())
    output.message(output.tr("msg.report_written", path=str(out), n=len(data["companies"])))
