"""guapai trajectory — scan a file of positions for driver violations (轨迹倒查)."""
from __future__ import annotations

from pathlib import Path

import typer

from cli import context, output
from cli.options import JsonOption

app = typer.Typer(help="Trajectory rules: scan positions for violations. 轨迹倒查。", no_args_is_help=True)


@app.command("scan")
def scan(
    file: Path = typer.Argument(..., help="Positions: CSV, Parquet, platform JSON or JT/T 808 frames."),
    fmt: str = typer.Option(None, "--format", help="csv | parquet | json | jt808 (default: from the file name; .txt and names without a known suffix by their first bytes)."),
    vehicle_class: str = typer.Option("other", "--vehicle-class", help="coach | tourist_coach | bus | taxi | truck | tanker | other"),
    rules_file: Path = typer.Option(None, "--rules", help="A TOML file overriding the default trajectory rules."),
    zones_file: Path = typer.Option(None, "--zones", help="GeoJSON polygons with a speed_limit property."),
    assignments: Path = typer.Option(None, "--assignments", help="CSV: vehicle, driver, start, end (Beijing time unless offset)."),
    tz: str = typer.Option("Asia/Shanghai", "--tz", help="Time zone of times written without an offset."),
    on_error: str = typer.Option("skip", "--on-error", help="skip | reject: what to do with malformed records."),
    as_json: JsonOption = False,
) -> None:
    """Print the findings of every trajectory rule, each citing its rule and regulation."""
    import os
    import threading

    import polars as pl

    from rules.trajectory.config import load as load_rules
    from rules.trajectory.readers import read

    engine = threading.Thread(target=_load_engine, daemon=True)  # the compiled kernels load while the file is read
    engine.start()
    rules = load_rules(rules_file)
    result = read(file, fmt, naive_tz=tz, on_error=on_error, coded_plates=True) if (fmt or file.suffix.lstrip(".")).lower() in ("csv", "txt", "parquet", "pq") \
        else read(file, fmt, on_error=on_error)
    table = pl.read_csv(assignments, infer_schema=False) if assignments else None
    if zones_file:
        from rules.trajectory.zones import Zones

        zones = Zones.load(zones_file)
    else:
        zones = None
    engine.join()
    from rules.trajectory.engine import scan as run_scan

    scanned = run_scan(result.points, vehicle_class=vehicle_class, rules=rules, assignments=table, zones=zones,
                       workers=min(os.cpu_count() or 1, 4))
    if as_json:
        output.print_json({**scanned.as_dict(), "read_errors": result.errors, "rules_version": rules.version})
        context.end_process_now()
        return
    rows = [{**f.to_dict(), "start": f.start, "what": output.tr(f"rule.{f.rule}")} for f in scanned.findings]
    output.show(rows, [("vehicle", "col.vehicle"), ("what", "col.rule"), ("start", "col.start"), ("duration_s", "col.duration_s"),
                       ("max_speed_kmh", "col.max_speed"), ("limit_kmh", "col.limit"), ("band", "col.band"),
                       ("driver", "col.driver")], as_json=False, title_key="title.trajectory")
    rep = scanned.report
    output.message(output.tr("msg.trajectory_scanned", points=rep.points_in, kept=rep.points_out, n=len(rows),
                             source=output.label(rep.speed_source, "speed_source."),
                             dropped=", ".join(f"{output.label(k, 'dropped.')} {v}" for k, v in rep.dropped.items() if v) or "-",
                             errors=len(result.errors)))
    context.end_process_now()


@app.command("compile")
def compile_kernels(
    remove: bool = typer.Option(False, "--remove", help="Delete the compiled kernels instead (scans then use numba's JIT)."),
    as_json: JsonOption = False,
) -> None:
    """Compile the trajectory kernels ahead of time (once per install; about 10 s, needs a C
    compiler): `trajectory scan` then starts without importing numba, about 0.3-0.7 s sooner.
    A changed kernel, numba, numpy, Python or CPU is noticed and the JIT used until this is run again."""
    from rules.trajectory import aot

    if remove:
        gone = aot.remove()
        if as_json:
            output.print_json({"removed": [str(p) for p in gone]})
        else:
            output.message(output.tr("msg.kernels_removed", n=len(gone)))
        return
    try:
        path, n, secs = aot.build()
    except Exception as exc:  # no C compiler, no setuptools, a read-only install: the JIT still works
        output.message(output.tr("err.kernels_not_compiled", error=f"{type(exc).__name__}: {exc}"), style="red")
        raise typer.Exit(1) from exc
    if as_json:
        output.print_json({"module": str(path), "signatures": n, "seconds": round(secs, 1)})
    else:
        output.message(output.tr("msg.kernels_compiled", n=n, seconds=f"{secs:.1f}", path=str(path)))


def _load_engine() -> None:
    """Import the engine and load its compiled kernels (`engine.warm`): the ahead-of-time build
    when there is one (rules/trajectory/compiled.py), else numba's JIT from its on-disk cache.
    Numba's optional linear algebra (scipy) and cffi support are kept out while it initialises:
    the kernels use neither, and importing them costs about a third of a second; they can be
    imported normally afterwards."""
    import sys

    blocked = [name for name in ("scipy.linalg.cython_blas", "cffi") if name not in sys.modules]
    for name in blocked:
        sys.modules[name] = None  # an import of it raises ImportError: numba goes without
    try:
        from rules.trajectory import engine

        engine.warm()
    finally:
        for name in blocked:
            if sys.modules.get(name, 0) is None:
                del sys.modules[name]
