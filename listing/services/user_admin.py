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
