"""guapai import KIND FILE — companies, vehicles, drivers, assignments, accidents, violations."""
from __future__ import annotations

from enum import Enum
from pathlib import Path

import typer

from cli import context, output
from cli.options import JsonOption

app = typer.Typer(help="Import CSV or XLSX files (Chinese or English headers). 导入数据。", no_args_is_help=True)


class Kind(str, Enum):
    companies = "companies"
    vehicles = "vehicles"
    drivers = "drivers"
    assignments = "assignments"
    accidents = "accidents"
    violations = "violations"


def _command(kind: Kind):
    def run(
        file: Path = typer.Argument(..., help="CSV or XLSX file"),
        dry_run: bool = typer.Option(False, "--dry-run", help="Validate only; write nothing."),
        as_json: JsonOption = False,
    ) -> None:
        from listing.services.imports import import_file

        with context.session() as session:
            who = context.actor(session)
            p, task = output.progress(None, output.tr("progress.import"))
            try:
                result = import_file(session, who, kind.value, file, now=context.now(), dry_run=dry_run,
                                     lang=output.lang(), on_progress=lambda n: p.advance(task, n))
            finally:
                p.stop()
        if as_json:
            output.print_json(result.as_dict())
        for warning in result.warnings(output.lang()):  # what was read differently from a plain table
            output.message(warning, style="yellow")
        if not result.ok:
            if not as_json:
                output.show(result.errors, [("row", "col.row"), ("column", "col.column"), ("value", "col.value"),
                                            ("message", "col.reason")], as_json=False)
            output.message(output.tr("msg.import_rejected", n=len(result.errors)), style="red")
            raise typer.Exit(2)
        key = "msg.import_dry" if dry_run else "msg.import_done"
        output.message(output.tr(key, kind=output.label(kind.value, "kind."), rows=result.rows, inserted=result.inserted,
                                 updated=result.updated, unchanged=result.unchanged))

    run.__doc__ = f"Import {kind.value} from a CSV or XLSX file."
    return run


for _kind in Kind:
    app.command(_kind.value)(_command(_kind))
