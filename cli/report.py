"""guapai report — monthly report (XLSX/HTML) and the effect of listing."""
from __future__ import annotations

from pathlib import Path

import typer

from cli import context, output
from cli.options import JsonOption

app = typer.Typer(help="Reports: monthly (XLSX/HTML) and the effect of listing. 报表。", no_args_is_help=True)


@app.command("effect")
def effect(
    months: int = typer.Option(6, "--months", help="Event window: months before and after the listing month (1-24)."),
    controls: int = typer.Option(5, "--controls", help="Matched never-listed companies per listing."),
    caliper: float = typer.Option(0.25, "--caliper", help="Largest pre-period rate difference to a control, in SDs."),
    listing_month: str = typer.Option("drop", "--listing-month", help="drop: leave the listing month out; weight: count it by its days under listing."),
    out: Path = typer.Option(None, "--out", help="Also write the report with the event-study chart: FILE.xlsx or FILE.html."),
    as_json: JsonOption = False,
) -> None:
    """Accidents and violations per vehicle-month before vs after listing, each listing against
    matched never-listed companies (stacked difference in differences: OLS and Poisson, intervals
    clustered by company), next to the raw before/after, with the event study around listing."""
    from listing.reports.effect import check_path
    from listing.services.effect import effect as measure
    from listing.timeutil import local_today

    if out is not None:
        check_path(out)
    with context.session(readonly=True) as session:
        data = measure(session, context.actor(session), local_today(context.now), months=months, controls=controls,
                       caliper=caliper, listing_month=listing_month)
    if out is not None:
        from listing.reports.effect import write

        write(data, out, output.lang())
    if as_json:
        output.print_json(data)
        return
    _print_effect(data)
    if out is not None:
        output.message(output.tr("msg.effect_written", path=str(out)))


def _print_effect(data: dict) -> None:
    from listing.reports.effect import SUMMARY_HEADERS, summary_rows

    keys = [h.split(".", 1)[1] for h in SUMMARY_HEADERS]
    output.show([dict(zip(keys, row)) for row in summary_rows(data, output.lang())], list(zip(keys, SUMMARY_HEADERS)),
                as_json=False, title_key="title.effect")
    es = data["violations"]["event_study"]
    if es:
        output.show([{"month": e["month"], "treated": e["treated_rate"], "controls": e["control_rate"], "effect": e["effect"],
                      "ci": "" if not e["ci95"] else f"[{e['ci95'][0]:+.3f}, {e['ci95'][1]:+.3f}]"} for e in es],
                    [("month", "col.event_month"), ("treated", "col.treated_rate"), ("controls", "col.control_rate"),
                     ("effect", "col.did"), ("ci", "col.ci95")], as_json=False, title_key="title.event_study")
    for metric in ("violations", "accidents"):
        why = data[metric].get("why")
        if why:
            output.message(output.tr(f"effect.why.{why}", metric=output.tr(f"metric.{metric}"),
                                     n=data[metric]["listings"], min=data["design"]["min_listings"]))
        if data[metric]["excluded"]:
            output.message(output.tr("msg.effect_excluded", metric=output.tr(f"metric.{metric}"), n=len(data[metric]["excluded"])))
    output.message(output.tr("msg.effect_note"))


@app.command("monthly")
def monthly(
    month: str = typer.Option(..., "--month", help="YYYY-MM"),
    out: Path = typer.Option(..., "--out", help="FILE.xlsx (native Excel charts) or FILE.html"),
    as_json: JsonOption = False,
    with_effect: bool = typer.Option(True, "--effect/--no-effect", help="Add the effect of listing with its event-study chart (data up to that month)."),
) -> None:
    """The monthly report: a city summary first, then listed companies, inspections, sampling,
    problems, decisions, charts. The same data and clock give the same file."""
    from listing.reports import monthly as report
    from listing.reports.render import write

    with context.session(readonly=True) as session:
        data = report.gather(session, context.actor(session), context.month_option(month), now=context.now())
        if with_effect:
            from listing.services.effect import effect_for_month

            data["effect"] = effect_for_month(session, context.actor(session), context.month_option(month))
    write(data, out, output.lang())
    if as_json:
        output.print_json({"file": str(out), "month": month, "as_of": data["as_of"], "generated_at": data["generated_at"],
                           "companies": len(data["companies"]), "summary": data["summary"]})
    output.message(output.tr("msg.report_written", path=str(out), n=len(data["companies"])))
