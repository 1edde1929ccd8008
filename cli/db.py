"""guapai db — schema migrations."""
from __future__ import annotations

import typer

from cli import context, output

app = typer.Typer(help="Database schema. 数据库。", no_args_is_help=True)


@app.command("upgrade")
def upgrade() -> None:
    """Apply pending migrations (also done automatically on first use)."""
    from listing.store.db import current_revision, head_revision, open_store
    from listing.store.db import upgrade as do_upgrade

    store = open_store(context.settings().db_url, migrate=False)
    if current_revision(store.engine) == head_revision():
        output.message(output.tr("msg.db_current", rev=head_revision()))
        return
    output.message(output.tr("msg.db_upgraded", rev=do_upgrade(store.engine)))


@app.command("status")
def status(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Show the database URL (password hidden) and schema revision."""
    from listing.store.db import current_revision, head_revision, open_store

    store = open_store(context.settings().db_url, migrate=False)
    data = {"url": store.engine.url.render_as_string(hide_password=True), "dialect": store.dialect,
            "revision": current_revision(store.engine), "head": head_revision()}
    output.show([data], [("url", "col.db_url"), ("revision", "col.revision"), ("head", "col.head")], as_json=as_json,
                json_data=data)
