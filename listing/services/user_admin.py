"""Changing a user (用户变更): another role, department or jurisdiction, disabled or enabled again —
by an administrator, audited with the before and after. Users are never deleted: their name
stays on everything they did (and four eyes compares names), so a person who leaves is disabled.
"""
from __future__ import annotations

import datetime as dt

from sqlmodel import Session, func, select

from listing.domain.policy import CITY, Actor, Role, authorize
from listing.services import audit
from listing.store.tables import User
from messages.errors import Conflict, NotFound, ValidationError

_CITY_ALIASES = {"*", "city", "全市"}


def change_user(session: Session, actor: Actor, name: str, *, now: dt.datetime, role: str | None = None,
                department: str | None = None, jurisdiction: str | None = None, active: bool | None = None) -> dict:
    """Apply the given changes; returns {field: [before, after]} of what changed."""
    authorize(actor, "users.add")  # managing users is the administrator's
    user = session.exec(select(User).where(User.name == name)).first()
    if user is None:
        raise NotFound("err.user_not_found", name=name)
    if role is not None and role not in {r.value for r in Role} - {Role.SYSTEM.value}:
        raise ValidationError("err.bad_role", role=role)
    for field, value in (("department", department), ("jurisdiction", jurisdiction)):
        if value is not None and not value.strip():
            raise ValidationError("err.empty_field", field=field)
    wanted = {"role": role, "department": department and department.strip(), "active": active,
              "jurisdiction": None if jurisdiction is None else
              (CITY if jurisdiction.strip() in _CITY_ALIASES else jurisdiction.strip())}
    changes = {k: [getattr(user, k), v] for k, v in wanted.items() if v is not None and v != getattr(user, k)}
    if not changes:
        raise ValidationError("err.nothing_to_change")
    if "role" in changes and user.db_role:
        raise ValidationError("err.role_with_db_role", name=name, db_role=user.db_role)
    losing_admin = user.role == Role.ADMIN.value and user.active and (
        changes.get("active", [None, True])[1] is False or "role" in changes)
    if losing_admin:
        admins = session.exec(select(func.count()).select_from(User).where(
            User.role == Role.ADMIN.value, User.active == True)).one()  # noqa: E712
        if admins <= 1:
            raise Conflict("err.last_admin", name=name)
    for field, (_, after) in changes.items():
        setattr(user, field, after)
    session.add(user)
    session.flush()
    audit.record(session, actor, "users.change", "user", user.id, at=now,
                 before={k: v[0] for k, v in changes.items()} | {"name": name},
                 after={k: v[1] for k, v in changes.items()} | {"name": name})
    return changes


def _user_name_columns():
    """Every column that stores a user's name (who did what). A rename rewrites them all in one
    transaction, so four eyes (rectifier vs verifier) and "my own" still compare the same person.
    tests/security/test_user_rename.py fails when a new `*_by` column is not listed here."""
    from listing.store.tables import Cycle, Finding, Inspection, Problem, RuleVersion

    return (Inspection.inspector, Inspection.voided_by, Problem.rectified_by, Problem.verified_by, Problem.voided_by,
            Finding.decided_by, Finding.voided_by, Cycle.decided_by, RuleVersion.loaded_by)


def taken_names(session: Session) -> set[str]:
    """Names in use or used before (a former name stays on the audit log: nobody else may take it)."""
    names = set()
    for name, former in session.exec(select(User.name, User.former_names)).all():
        names.add(name)
        names.update(former or [])
    return names


def rename_user(session: Session, actor: Actor, old: str, new: str, *, now: dt.datetime) -> dict:
    """Rename a user (admin; audited). The login name is what every record stores, so the rename
    rewrites each reference (`_user_name_columns`) in the same transaction: four eyes keeps
    holding across it. The audit log is never rewritten (it is hash-chained): its events keep the
    old name, and the `users.rename` event links the two; the old name is kept in
    `former_names` and never given to anyone else. A PostgreSQL login role stays mapped
    (`db_role` is not the name)."""
    from sqlalchemy import update
    from sqlalchemy.exc import DBAPIError

    from messages.errors import GuapaiError

    authorize(actor, "users.rename")
    user = session.exec(select(User).where(User.name == old)).first()
    if user is None:
        raise NotFound("err.user_not_found", name=old)
    new = (new or "").strip()
    if not new:
        raise ValidationError("err.empty_field", field="name")
    if new == old:
        raise ValidationError("err.nothing_to_change")
    if new in taken_names(session) and new not in (user.former_names or []):
        raise Conflict("err.user_exists", name=new)
    rewritten = {}
    try:
        with session.begin_nested():  # a refusal (an admin's own PostgreSQL role) leaves nothing half-renamed
            for column in _user_name_columns():
                n = session.execute(update(column.class_).where(column == old).values({column.key: new})
                                    .execution_options(synchronize_session=False)).rowcount
                if n:
                    rewritten[f"{column.class_.__tablename__}.{column.key}"] = n
            user.name = new
            user.former_names = [*(user.former_names or []), old]
            session.add(user)
            session.flush()
    except DBAPIError as exc:
        reason = str(exc.orig).splitlines()[0] if exc.orig else str(exc)
        raise GuapaiError("err.rename_refused", reason=reason) from None
    audit.record(session, actor, "users.rename", "user", user.id, at=now, before={"name": old},
                 after={"name": new, "rewritten": rewritten})
    return {"old": old, "new": new, "rewritten": rewritten, "db_role": user.db_role}
