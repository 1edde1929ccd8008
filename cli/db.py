"""guapai db — schema migrations."""
from __future__ import annotations

from pathlib import Path

import typer

from cli import context, output
from cli.options import JsonOption

app = typer.Typer(help="Database schema. 数据库。", no_args_is_help=True)


@app.command("upgrade")
def upgrade() -> None:
    """Apply pending migrations (also done automatically on first use)."""
    from listing.store.db import current_revision, head_revision, open_store
    from listing.store.db import upgrade as do_upgrade

    store = open_store(context.options().db_url, migrate=False)
    if current_revision(store.engine) == head_revision():
        output.message(output.tr("msg.db_current", rev=head_revision()))
        return
    output.message(output.tr("msg.db_upgraded", rev=do_upgrade(store.engine)))


@app.command("status")
def status(as_json: JsonOption = False) -> None:
    """Show the database URL (password hidden) and schema revision."""
    from listing.store.location import declared_head
    from listing.store.reader import hide_password, reading, revision

    with reading(context.options().db_url, migrate=False) as db:
        current = revision(db)
    data = {"url": hide_password(db.url or ""), "dialect": db.dialect, "revision": current, "head": declared_head()}
    if data["head"] is None:  # the migration files do not say it plainly: alembic does
        from listing.store.db import alembic_head

        data["head"] = alembic_head()
    output.show([data], [("url", "col.db_url"), ("revision", "col.revision"), ("head", "col.head")], as_json=as_json,
                json_data=data)


@app.command("backup")
def backup(file: Path = typer.Argument(..., help="Backup file to write.")) -> None:
    """Back up the database (SQLite online backup; PostgreSQL via pg_dump)."""
    from listing.services import backup as svc

    path = svc.backup(context.open_store(), file)
    output.message(output.tr("msg.backup_done", path=str(path), size=path.stat().st_size // 1024))


@app.command("restore")
def restore(
    file: Path = typer.Argument(..., help="A backup made by `guapai db backup`."),
    force: bool = typer.Option(False, "--force", help="Overwrite a database that already holds data."),
) -> None:
    """Restore a backup (refuses a non-empty database unless --force)."""
    from listing.services import backup as svc
    from listing.store.db import open_store

    svc.restore(open_store(context.options().db_url), file, force=force)
    output.message(output.tr("msg.restore_done", path=str(file)))


@app.command("grant")
def grant(
    user: str = typer.Argument(..., help="The guapai user (用户名) who will connect with a role of their own."),
    db_role: str = typer.Option(None, "--db-role", help="PostgreSQL login role (default: the user's name)."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the role's password from stdin."),
    as_json: JsonOption = False,
) -> None:
    """PostgreSQL: give USER a login role of their own, in their role's group (admin, on the
    owner's connection). Re-run after an upgrade to refresh the groups' grants."""
    import sys

    from listing.services import db_roles

    password = sys.stdin.readline().rstrip("\n") if password_stdin else None
    with context.session() as session:
        row = db_roles.grant(session, context.actor(session), user, db_role=db_role, password=password, now=context.now())
    output.message(output.tr("msg.db_granted", user=row["user"], role=row["db_role"], group=row["group"]))
    if as_json:
        output.print_json(row)


@app.command("revoke")
def revoke(user: str = typer.Argument(..., help="The guapai user whose database role loses its grants.")) -> None:
    """PostgreSQL: take USER's group membership away and unmap their role."""
    from listing.services import db_roles

    with context.session() as session:
        row = db_roles.revoke(session, context.actor(session), user, now=context.now())
    output.message(output.tr("msg.db_revoked", user=row["user"], role=row["db_role"]))


@app.command("roles")
def roles(as_json: JsonOption = False) -> None:
    """Users mapped to PostgreSQL roles, with their group and jurisdiction."""
    from listing.services import db_roles

    with context.session(readonly=True) as session:
        rows = db_roles.mapped_roles(session, context.actor(session))
    output.show(rows, [("user", "col.user"), ("db_role", "col.db_role"), ("group", "col.group"),
                       ("jurisdiction", "col.jurisdiction"), ("active", "col.active")], as_json=as_json)
