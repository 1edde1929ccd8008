"""guapai screen — screen every vehicle of a day (全量筛查), not only the 10% sample."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer

from cli import output
from cli.options import JsonOption


def screen(
    source: Path = typer.Argument(..., help="Parquet positions: a file, a folder, or a hive folder with day=YYYY-MM-DD/."),
    day: str = typer.Option(..., "--date", help="The local day (Beijing) to screen, YYYY-MM-DD."),
    out: Path = typer.Option(None, "--out", help="Write findings as Parquet under this folder (day=.../part-*.parquet)."),
    store: bool = typer.Option(False, "--store", help="Write findings to the store (--db) for review, marked as screening."),
    partitions: int = typer.Option(None, "--partitions", help="Vehicle-hash partitions (default: one per 2 M rows)."),
    scheduler: str = typer.Option(None, "--scheduler", help="A Dask scheduler, e.g. tcp://10.0.0.5:8786 (default: this process)."),
    vehicle_class: str = typer.Option("other", "--vehicle-class", help="Class of vehicles the data and the store do not name."),
    rules_file: Path = typer.Option(None, "--rules", help="A TOML file overriding the default trajectory rules."),
    tz: str = typer.Option("Asia/Shanghai", "--tz", help="Time zone of times written without an offset."),
    as_json: JsonOption = False,
) -> None:
    """Screen every vehicle of a day with the trajectory rules, in bounded memory, and write the findings."""
    from listing.services import screening
    from messages.errors import ValidationError

    try:
        when = dt.date.fromisoformat(day)
    except ValueError:
        raise ValidationError("err.bad_date", value=day) from None
    if not source.exists():
        raise ValidationError("err.file_missing", path=str(source))
    on_partition = None
    classes = None
    if store:
        from cli import context
        from listing.services import screening_store

        with context.session(readonly=True) as session:
            actor = context.actor(session)
            classes = screening_store.vehicle_classes(session, actor)
        writer = screening_store.Writer(context.open_store(), actor, when)
        on_partition = writer.write
    p, task = output.progress(None, output.tr("progress.screen"))
    try:
        summary = screening.screen(source, when, out=out, partitions=partitions, vehicle_class=vehicle_class,
                                   classes=classes, rules_file=rules_file, naive_tz=tz, scheduler=scheduler, on_partition=on_partition,
                                   progress=lambda done, total: p.update(task, completed=done, total=total))
    finally:
        p.stop()
    if store:
        summary["stored"] = writer.summary()
    if as_json:
        output.print_json(summary)
        return
    output.message(output.tr("msg.screened", day=summary["day"], vehicles=f"{summary['vehicles']:,}", points=f"{summary['points']:,}",
                             partitions=summary["partitions"], findings=summary["findings"]))
    output.show([{"rule": k, "what": output.tr(f"rule.{k}"), "n": v} for k, v in summary["by_rule"].items()],
                [("what", "col.rule"), ("n", "col.findings")], as_json=False)
