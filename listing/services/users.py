"""Users, roles and the acting user."""
from __future__ import annotations

import datetime as dt

from sqlmodel import Session, func, select

from listing.domain.policy import CITY, Role, authorize
from listing.services import audit
from listing.services.actors import actor_of, resolve_actor  # noqa: F401 - re-exported
from listing.services.read.users import list_users  # noqa: F401 - re-exported
from listing.store.tables import User
from messages.errors import Conflict, ValidationError

_CITY_ALIASES = {"*", "city", "全市"}


def connected_user(session: Session) -> User | None:
    """On PostgreSQL, the user whose own database role this connection logged in as (None on
    SQLite and on the owner's or scheduler's connection, which map to no user)."""
    if session.connection().dialect.name != "postgresql":
        return None
    return session.exec(select(User).where(User.db_role == func.current_user())).first()


def add_user(session: Session, actor_name: str | None, name: str, role: str, department: str,
             jurisdiction: str, *, now: dt.datetime) -> User:
    """Add a user. The very first user of an empty database must be an admin and needs no --as."""
    if role not in {r.value for r in Role} - {Role.SYSTEM.value}:
        raise ValidationError("err.bad_role", role=role)
    for field, value in (("name", name), ("department", department), ("jurisdiction", jurisdiction)):
        if not value or not value.strip():
            raise ValidationError("err.empty_field", field=field)
    jurisdiction = CITY if jurisdiction.strip() in _CITY_ALIASES else jurisdiction.strip()
    first = session.exec(select(func.count()).select_from(User)).one() == 0
    if first and role == Role.ADMIN.value:
        actor_label = actor_name or name  # bootstrap: the first admin adds themself
    else:
        actor = resolve_actor(session, actor_name)
        authorize(actor, "users.add")
        actor_label = actor.name
    from listing.services.user_admin import taken_names

    if name.strip() in taken_names(session):  # a former name too: the audit log still shows it
        raise Conflict("err.user_exists", name=name)
    user = User(name=name.strip(), role=role, department=department.strip(), jurisdiction=jurisdiction, created_at=now)
    session.add(user)
    session.flush()
    audit.record(session, actor_label, "users.add", "user", user.id,
                 after={"name": user.name, "role": role, "department": user.department, "jurisdiction": jurisdiction}, at=now)
    return user
