"""guapai users — officers, their roles and jurisdictions."""
from __future__ import annotations

import typer

from cli import context, output
from cli.options import JsonOption

app = typer.Typer(help="Users, roles and jurisdictions. 用户管理。", no_args_is_help=True)


@app.command("add")
def add(
    name: str = typer.Argument(..., help="User name (login)."),
    role: str = typer.Option(..., "--role", help="police | transport | reviewer | admin"),
    department: str = typer.Option(..., "--department", help="Department, e.g. 交警支队 / 运管处"),
    jurisdiction: str = typer.Option(..., "--jurisdiction", help="County/district, or '*' for city level"),
) -> None:
    """Add a user. The first user of an empty database must be an admin (no --as needed)."""
    from cli.options import check_choice, role_aliases
    from listing.services.users import add_user

    role = check_choice(role, ("police", "transport", "reviewer", "admin"), "--role", aliases=role_aliases())
    with context.session() as session:
        user = add_user(session, context.options().user, name, role, department, jurisdiction, now=context.now())
    output.message(output.tr("msg.user_added", name=user.name, role=output.label(user.role, "role."),
                             jurisdiction=user.jurisdiction))


@app.command("list")
def list_(as_json: JsonOption = False) -> None:
    """List users."""
    from listing.services.read.users import list_users

    with context.reader() as db:
        rows = list_users(db, context.actor(db))
    output.show(rows, [("name", "col.name"), ("role", "col.role"), ("department", "col.department"),
                       ("jurisdiction", "col.jurisdiction"), ("active", "col.active"), ("db_role", "col.db_role")],
                as_json=as_json)


@app.command("rename")
def rename(
    old: str = typer.Argument(..., help="The user's name now."),
    new: str = typer.Argument(..., help="The new name (login)."),
) -> None:
    """Rename a user (admin; audited): every record naming them follows in one transaction, so four
    eyes still holds; the audit log keeps the old name, which nobody else may take."""
    from cli.options import check_user
    from listing.services.user_admin import rename_user

    with context.session() as session:
        old = check_user(session, old, "OLD")
        result = rename_user(session, context.actor(session), old, new, now=context.now())
    output.message(output.tr("msg.user_renamed", old=result["old"], new=result["new"],
                             n=sum(result["rewritten"].values())))


@app.command("set")
def set_(
    name: str = typer.Argument(..., help="The user to change."),
    role: str = typer.Option(None, "--role", help="police | transport | reviewer | admin"),
    department: str = typer.Option(None, "--department", help="Another department."),
    jurisdiction: str = typer.Option(None, "--jurisdiction", help="Another county/district, or '*' for city level."),
    active: bool = typer.Option(None, "--enable/--disable", help="Disable a user (they can no longer act) or enable again."),
) -> None:
    """Change a user's role, department or jurisdiction, or disable them (admin; audited). Users are
    never deleted: their name stays on what they did."""
    from cli.options import check_choice, check_user, role_aliases
    from listing.services.user_admin import change_user

    role = check_choice(role, ("police", "transport", "reviewer", "admin"), "--role", aliases=role_aliases())
    with context.session() as session:
        name = check_user(session, name, "USER")
        changes = change_user(session, context.actor(session), name, now=context.now(), role=role,
                              department=department, jurisdiction=jurisdiction, active=active)
    output.message(output.tr("msg.user_changed", name=name,
                             changes="; ".join(f"{output.label(k, 'field.')}: {output.label(a, output.LABELS.get(k, ''))} → "
                                               f"{output.label(b, output.LABELS.get(k, ''))}" for k, (a, b) in changes.items())))
