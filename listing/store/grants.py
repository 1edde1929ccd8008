"""What each officer role may write in PostgreSQL itself (the multi-user deployment).

The policy table (listing.domain.policy) says what a role may do; this says which tables those
actions write, so the database can refuse the rest even to a modified client. Rows are further
limited to the user's jurisdiction by row-level security (migration 0005).

Group roles, one per guapai role, all members of `guapai_officer`:

    guapai_police  guapai_transport  guapai_reviewer  guapai_admin   (NOLOGIN)

Every officer may read every table (row-level security decides which rows), append to the
audit log (never change it: migration 0004) and move its head. Each officer's login role is a
member of exactly one group: the one of their guapai role.
"""
from __future__ import annotations

OFFICER_GROUP = "guapai_officer"
GROUP_PREFIX = "guapai_"

_IMPORT_TRANSPORT = ("company", "vehicle", "vehicle_ownership", "driver", "assignment")
_IMPORT_POLICE = ("accident", "violation")
_MONTHS = ("inspection_obligation", "inspection_miss")

# guapai role -> tables it may INSERT into and UPDATE (beyond the audit log, which all append to).
WRITES: dict[str, tuple[str, ...]] = {
    # findings -> violations and problems, inspections. Not job_run: a scheduled job's period
    # is claimed only on the service connection, which sees every jurisdiction (an officer's
    # role would cover only theirs and yet mark the whole city's period done).
    # A voided or corrected inspection settles its month again: the obligation (and its miss).
    "police": _IMPORT_POLICE + ("sample", "finding", "problem", "inspection", "outbox") + _MONTHS,
    # imports of the register, inspections, problems
    "transport": _IMPORT_TRANSPORT + ("inspection", "problem", "outbox") + _MONTHS,
    # listings and their cycles and deadlines, rule versions, verification of problems
    "reviewer": ("listing", "cycle", "deadline", "rule_version", "problem", "outbox"),
    # users, and every import (the register is the administrator's too)
    "admin": ("user",) + _IMPORT_TRANSPORT + _IMPORT_POLICE,
}


def group_of(role: str) -> str:
    return GROUP_PREFIX + role


def quote(name: str) -> str:
    """A PostgreSQL identifier, quoted (role names may hold dots or Chinese)."""
    if not name or "\x00" in name or len(name.encode()) > 63:
        raise ValueError(f"not a usable role name: {name!r}")
    return '"' + name.replace('"', '""') + '"'


def group_statements(schema: str, database: str) -> list[str]:
    """SQL that creates (if missing) and grants the group roles; safe to run again, e.g. after
    an upgrade added tables. Needs a role with CREATEROLE that owns the tables."""
    s, db, officer = quote(schema), quote(database), quote(OFFICER_GROUP)
    out = [_create_group(OFFICER_GROUP)]
    out += [
        f"GRANT CONNECT, TEMPORARY ON DATABASE {db} TO {officer}",
        f"GRANT USAGE ON SCHEMA {s} TO {officer}",
        f"GRANT SELECT ON ALL TABLES IN SCHEMA {s} TO {officer}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {s} TO {officer}",
        f"GRANT INSERT ON {s}.audit_event TO {officer}",
        f"GRANT UPDATE ON {s}.audit_head TO {officer}",
    ]
    for role, tables in WRITES.items():
        group = quote(group_of(role))
        out.append(_create_group(group_of(role)))
        out.append(f"GRANT {officer} TO {group}")
        out += [f'GRANT INSERT, UPDATE ON {s}.{quote(t)} TO {group}' for t in tables]
    return out


def _create_group(name: str) -> str:
    literal = name.replace("'", "''")
    return (f"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{literal}') THEN "
            f"CREATE ROLE {quote(name)} NOLOGIN; END IF; END $$")
