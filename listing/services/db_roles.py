"""Officers' own PostgreSQL roles (the multi-user deployment): map a guapai user to a login
role, grant that role its group's privileges, take them away again. Audited like every write.

Run by the administrator on the owner's connection (a role with CREATEROLE that owns the
tables). The officer then connects as their role — `--db postgresql+psycopg://wang@host/guapai`
— and the database says who is acting: `--as` cannot claim anyone else.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import text
from sqlmodel import Session, select

from listing.domain.policy import Actor, authorize
from listing.services import audit
from listing.store.grants import WRITES, group_of, group_statements, quote
from listing.store.tables import User
from messages.errors import Conflict, GuapaiError, NotFound, ValidationError


def _require_postgres(session: Session) -> None:
    if session.connection().dialect.name != "postgresql":
        raise ValidationError("err.db_roles_pg_only")


def _user(session: Session, name: str) -> User:
    user = session.exec(select(User).where(User.name == name)).first()
    if user is None:
        raise NotFound("err.no_such_user", name=name)
    return user


def _execute(session: Session, statements: list[str]) -> None:
    from sqlalchemy.exc import DBAPIError

    try:
        with session.begin_nested():  # a refusal leaves the caller's transaction usable
            for sql in statements:
                session.connection().exec_driver_sql(sql)
    except DBAPIError as exc:
        reason = str(exc.orig).splitlines()[0] if exc.orig else str(exc)
        raise GuapaiError("err.db_grant_refused", reason=reason) from None


def _schema_and_db(session: Session) -> tuple[str, str]:
    row = session.execute(text("SELECT current_schema(), current_database()")).one()
    return row[0], row[1]


def grant(session: Session, actor: Actor, user_name: str, *, db_role: str | None = None,
          password: str | None = None, now: dt.datetime) -> dict:
    """Create (if missing) the login role `db_role` (default: the user's name), make it a member
    of exactly its user's group, map it to the user. Safe to run again (e.g. after an upgrade)."""
    authorize(actor, "db.grant")
    _require_postgres(session)
    user = _user(session, user_name)
    role = (db_role or user.name).strip()
    try:
        ident = quote(role)
    except ValueError:
        raise ValidationError("err.db_role_name", name=role) from None
    holder = session.exec(select(User).where(User.db_role == role, User.id != user.id)).first()
    if holder is not None:
        raise Conflict("err.db_role_taken", name=role, user=holder.name)
    schema, database = _schema_and_db(session)
    literal = role.replace("'", "''")
    statements = group_statements(schema, database)
    statements.append(f"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{literal}') THEN "
                      f"CREATE ROLE {ident} LOGIN; END IF; END $$")
    if password is not None:
        pw = password.replace("'", "''")
        statements.append(f"ALTER ROLE {ident} PASSWORD '{pw}'")
    statements += [f"REVOKE {quote(group_of(r))} FROM {ident}" for r in WRITES if r != user.role]
    statements.append(f"GRANT {quote(group_of(user.role))} TO {ident}")
    _execute(session, statements)
    before = user.db_role
    user.db_role = role
    session.add(user)
    session.flush()
    audit.record(session, actor, "db.grant", "user", user.id, before={"db_role": before},
                 after={"db_role": role, "group": group_of(user.role)}, at=now)  # never the password
    return {"user": user.name, "db_role": role, "group": group_of(user.role), "jurisdiction": user.jurisdiction}


def revoke(session: Session, actor: Actor, user_name: str, *, now: dt.datetime) -> dict:
    """Take the user's group membership away and unmap the role (the login role itself stays,
    owned objects and all; drop it with the database's own tools)."""
    authorize(actor, "db.grant")
    _require_postgres(session)
    user = _user(session, user_name)
    if not user.db_role:
        raise Conflict("err.db_role_none", user=user.name)
    ident = quote(user.db_role)
    _execute(session, [f"REVOKE {quote(group_of(r))} FROM {ident}" for r in WRITES])
    role, user.db_role = user.db_role, None
    session.add(user)
    session.flush()
    audit.record(session, actor, "db.revoke", "user", user.id, before={"db_role": role}, after={"db_role": None}, at=now)
    return {"user": user.name, "db_role": role}


def mapped_roles(session: Session, actor: Actor) -> list[dict]:
    authorize(actor, "users.list")
    rows = session.exec(select(User).where(User.db_role.is_not(None)).order_by(User.name)).all()
    return [{"user": u.name, "db_role": u.db_role, "group": group_of(u.role), "jurisdiction": u.jurisdiction,
             "active": u.active} for u in rows]
