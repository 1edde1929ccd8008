"""guapai rules — listing criteria: show, load, check, apply, backtest."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer

from cli import context, output
from cli.options import JsonOption

app = typer.Typer(help="Listing criteria (挂牌整治标准): show, load, check, apply, backtest.", no_args_is_help=True)


def _date(value: str | None, option: str = "--as-of") -> dt.date:
    return context.date_option(value, option, default_today=True)


@app.command("show")
def show(
    version: str = typer.Option(None, "--version", help="A stored version (default: the one in force today)."),
    as_json: JsonOption = False,
) -> None:
    """Print the rules in force (or an older version) and the stored versions."""
    from listing.services.read import rulesets as svc

    with context.reader() as db:
        context.actor(db)
        rules = svc.rules_version(db, version) if version else svc.active_rules(db, _date(None))
        stored = [{"version": v.version, "effective_from": v.effective_from, "loaded_by": v.loaded_by,
                   "loaded_at": v.loaded_at, "sha256": v.sha256[:12]} for v in svc.stored_versions(db)]
    if as_json:
        output.print_json({"version": rules.version, "effective_from": rules.effective_from, "source": rules.source,
                           "thresholds": rules.thresholds, "window_months": rules.window_months,
                           "at_fault": rules.at_fault, "min_fleet": rules.min_fleet,
                           "relist_lookback": rules.relist_lookback, "stored_versions": stored})
        return
    output.message(output.tr("msg.rules_in_force", version=rules.version, effective=rules.effective_from))
    output.message(output.tr(f"msg.relist_lookback.{rules.relist_lookback}"))
    print(rules.source)
    if stored:
        output.show(stored, [("version", "col.version"), ("effective_from", "col.effective_from"),
                             ("loaded_by", "col.actor"), ("loaded_at", "col.at")], as_json=False)


@app.command("load")
def load(file: Path = typer.Argument(..., help="A rules TOML file with a new `version`.")) -> None:
    """Store a rules file as a new version (reviewer)."""
    from listing.services import rules as svc

    with context.session() as session:
        rules, new = svc.load_rules(session, context.actor(session), file, now=context.now())
    key = "msg.rules_loaded" if new else "msg.rules_unchanged"
    output.message(output.tr(key, version=rules.version, effective=rules.effective_from))


@app.command("check")
def check(
    as_of: str = typer.Option(None, "--as-of", help="YYYY-MM-DD (default: today, Beijing time)."),
    rules_file: Path = typer.Option(None, "--rules", help="Try a rules file instead of the version in force (dry run)."),
    as_json: JsonOption = False,
) -> None:
    """List the companies that meet the criteria, with their explanations (a dry run: nothing is written)."""
    from listing.services import rules as svc
    from rules.criteria import config

    day = _date(as_of)
    with context.session(readonly=True) as session:
        result = svc.check(session, context.actor(session), day, config.load(rules_file) if rules_file else None)
    if as_json:
        output.print_json(result)
        return
    rows = []
    for c in result["flagged"]:
        why = "; ".join(f"{output.tr('criterion.' + r['criterion'])} {r['value']:.3g} ≥ {r['threshold']:g}" for r in c["explanation"])
        rows.append({**c, "why": why, "listed_mark": output.tr("yes") if c["listed"] else ""})
    output.show(rows, [("name", "col.company"), ("jurisdiction", "col.jurisdiction"), ("avg_vehicles", "col.avg_vehicles"),
                       ("why", "col.why"), ("listed_mark", "col.listed")], as_json=False, title_key="title.rules_check")
    output.message(output.tr("msg.rules_checked", n=len(rows), total=result["companies_evaluated"],
                             version=result["rules_version"], start=result["window"]["start"], end=result["window"]["end"]))


@app.command("apply")
def apply(
    as_of: str = typer.Option(None, "--as-of", help="YYYY-MM-DD (default: today)."),
    as_json: JsonOption = False,
) -> None:
    """Turn new flags into proposed listings for a reviewer to confirm or reject."""
    from listing.services import rules as svc

    with context.session() as session:
        result = svc.apply(session, context.actor(session), _date(as_of), now=context.now())
    if as_json:
        output.print_json(result)
    else:
        output.show(result["proposed"], [("listing_id", "col.id"), ("name", "col.company"), ("uscc", "col.uscc")],
                    as_json=False, title_key="title.proposed")
    output.message(output.tr("msg.rules_applied", n=len(result["proposed"]), skipped=len(result["skipped"])))


@app.command("backtest")
def backtest(
    start: str = typer.Option(..., "--from", help="First month, YYYY-MM-DD."),
    end: str = typer.Option(..., "--to", help="Last day, YYYY-MM-DD."),
    rules_file: Path = typer.Option(None, "--rules", help="Also replay this rules file."),
    as_json: JsonOption = False,
) -> None:
    """Replay the rule versions month by month: how many companies each would have listed."""
    from listing.services import rules as svc
    from rules.criteria import config

    with context.session(readonly=True) as session:
        result = svc.backtest(session, context.actor(session), _date(start, "--from"), _date(end, "--to"),
                              config.load(rules_file) if rules_file else None)
    if as_json:
        output.print_json(result)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=output.tr("title.backtest"))
    table.add_column(output.tr("col.as_of"))
    for v in result["versions"]:
        table.add_column(v, justify="right")
    for row in result["months"]:
        table.add_row(str(row["as_of"]), *(str(row[v]) for v in result["versions"]))
    Console().print(table)


@app.command("score")
def score(
    as_of: str = typer.Option(None, "--as-of", help="YYYY-MM-DD (default: today)."),
    limit: int = typer.Option(30, "--limit", help="How many companies, worst first."),
    as_json: JsonOption = False,
) -> None:
    """Peer scoring (optional mode, FMCSA SMS style): time- and severity-weighted measures per
    vehicle and percentiles within peer groups of similar size."""
    import polars as pl

    from listing.services import rules as svc

    with context.session(readonly=True) as session:
        table = svc.scores(session, context.actor(session), _date(as_of))
    table = table.sort(["violation_percentile", "violation_measure"], descending=True, nulls_last=True)
    rows = table.to_dicts() if as_json else table.head(limit).with_columns(
        pl.col("avg_vehicles", "violation_measure", "accident_measure", "violation_percentile", "accident_percentile").round(1)).to_dicts()
    output.show(rows, [("name", "col.company"), ("peer_group", "col.peer_group"), ("avg_vehicles", "col.avg_vehicles"),
                       ("violation_measure", "col.violation_measure"), ("violation_percentile", "col.violation_percentile"),
                       ("accident_measure", "col.accident_measure"), ("accident_percentile", "col.accident_percentile")],
                as_json=as_json, title_key="title.scores")
