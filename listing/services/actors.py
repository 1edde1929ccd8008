"""The acting user, read without the ORM (every command resolves it first; see listing.store.reader)."""
from __future__ import annotations

from listing.domain.policy import Actor, Role
from listing.store.reader import BOOL, Reader, Row, query
from messages.errors import PermissionDenied

_COLUMNS = 'id, name, role, department, jurisdiction, active, db_role FROM "user"'
_CONNECTED = query(f"SELECT {_COLUMNS} WHERE db_role = current_user", active=BOOL)
_NAMED = query(f"SELECT {_COLUMNS} WHERE name = :name AND active = :active", active=BOOL)


def actor_of(user) -> Actor:
    """The Actor of a user (an ORM row or a Row)."""
    return Actor(name=user.name, role=Role(user.role), department=user.department, jurisdiction=user.jurisdiction)


def connected_row(db) -> Row | None:
    """On PostgreSQL, the user whose own database role this connection logged in as (None on
    SQLite and on the owner's or scheduler's connection, which map to no user)."""
    reader = Reader.of(db)
    return reader.first(_CONNECTED) if reader.dialect == "postgresql" else None


def resolve_actor(db, name: str | None) -> Actor:
    """The acting user: on an officer's own PostgreSQL role, the database says who it is and
    --as may only repeat it; otherwise the user named by --as / GUAPAI_USER. `db`: a Reader or
    an ORM session."""
    reader = Reader.of(db)
    connected = connected_row(reader)
    if connected is not None:
        if name and name != connected.name:
            raise PermissionDenied("err.as_mismatch", db_role=connected.db_role, user=connected.name, claimed=name)
        if not connected.active:
            raise PermissionDenied("err.unknown_user", name=connected.name)
        return actor_of(connected)
    if not name:
        raise PermissionDenied("err.no_user")
    user = reader.first(_NAMED, name=name, active=True)
    if user is None:
        raise PermissionDenied("err.unknown_user", name=name)
    return actor_of(user)
