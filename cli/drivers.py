"""guapai drivers — drivers of the companies in your jurisdiction (personal data masked)."""
from __future__ import annotations

import typer

from cli import context, output
from cli.options import JsonOption

app = typer.Typer(help="Drivers (驾驶员); ID numbers and phones masked unless your role needs them.", no_args_is_help=True)


@app.command("list")
def list_(
    company: str = typer.Option(None, "--company", help="Any part of the name, or the credit code."),
    limit: int = typer.Option(500, "--limit"),
    as_json: JsonOption = False,
) -> None:
    """List drivers."""
    from listing.services.read.register import drivers

    with context.reader() as db:
        who = context.actor(db)
        rows = drivers(db, who, context.company(db, company, as_json).uscc if company else None, limit)
    output.show(rows, [("name", "col.name"), ("id_number", "col.id_number"), ("phone", "col.phone"),
                       ("company", "col.company")], as_json=as_json, reveal_for=who)
