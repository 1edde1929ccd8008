"""Who may do what (DESIGN section 2): one declared policy table, checked by every service.

A user acts within their jurisdiction (县市区); a city-level user (jurisdiction "*") sees all.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from messages.errors import PermissionDenied

CITY = "*"  # a city-level jurisdiction: sees every county/district


class Role(StrEnum):
    POLICE = "police"  # 交警
    TRANSPORT = "transport"  # 运管
    REVIEWER = "reviewer"  # 领导(审核)
    ADMIN = "admin"  # 系统管理员
    SYSTEM = "system"  # scheduled jobs acting on their own


_ALL = frozenset(Role)
_OFFICERS = frozenset({Role.POLICE, Role.TRANSPORT, Role.REVIEWER})

# action -> roles allowed. Case decisions are never the admin's (DESIGN section 2).
POLICY: dict[str, frozenset[Role]] = {
    "users.add": frozenset({Role.ADMIN}),
    "users.list": frozenset({Role.ADMIN, Role.REVIEWER}),
    "db.grant": frozenset({Role.ADMIN}),  # map a user to their own PostgreSQL login role
    "import.companies": frozenset({Role.ADMIN, Role.TRANSPORT}),
    "import.vehicles": frozenset({Role.ADMIN, Role.TRANSPORT}),
    "import.drivers": frozenset({Role.ADMIN, Role.TRANSPORT}),
    "import.assignments": frozenset({Role.ADMIN, Role.TRANSPORT}),
    "import.accidents": frozenset({Role.ADMIN, Role.POLICE}),
    "import.violations": frozenset({Role.ADMIN, Role.POLICE}),
    "data.read": _ALL,
    "driver.read_personal": frozenset({Role.POLICE}),  # unmasked ID numbers and phones
    "listing.propose": frozenset({Role.REVIEWER, Role.SYSTEM}),
    "listing.confirm": frozenset({Role.REVIEWER}),
    "listing.reject": frozenset({Role.REVIEWER}),
    "listing.end_cycle": frozenset({Role.SYSTEM, Role.REVIEWER}),
    "listing.pass": frozenset({Role.REVIEWER}),
    "listing.fail": frozenset({Role.REVIEWER}),
    "rules.change": frozenset({Role.REVIEWER}),
    "inspection.record.police": frozenset({Role.POLICE}),
    "inspection.record.transport": frozenset({Role.TRANSPORT}),
    "problem.rectify": frozenset({Role.TRANSPORT, Role.POLICE}),
    "problem.verify": frozenset({Role.TRANSPORT, Role.POLICE, Role.REVIEWER}),
    "problem.reopen": frozenset({Role.TRANSPORT, Role.POLICE, Role.REVIEWER}),
    "finding.confirm": frozenset({Role.POLICE}),
    "finding.dismiss": frozenset({Role.POLICE}),
    # corrections (作废/更正) of a record made by mistake: further limited to its recorder or a
    # supervisor (`authorize_correction`)
    "inspection.void": frozenset({Role.POLICE, Role.TRANSPORT, Role.ADMIN}),
    "inspection.correct": frozenset({Role.POLICE, Role.TRANSPORT, Role.ADMIN}),
    "problem.void": frozenset({Role.POLICE, Role.TRANSPORT, Role.ADMIN}),
    "finding.reopen": frozenset({Role.POLICE, Role.ADMIN}),
    "finding.void": frozenset({Role.POLICE, Role.ADMIN}),
    "users.rename": frozenset({Role.ADMIN}),
    "sampling.run": frozenset({Role.POLICE, Role.SYSTEM}),
    "jobs.run": frozenset({Role.ADMIN, Role.SYSTEM}),  # run a scheduled job's period by hand
    "audit.read": frozenset({Role.ADMIN, Role.REVIEWER}),
    "audit.verify": _ALL,
}


@dataclass(frozen=True)
class Actor:
    """The acting user, as the services see them."""

    name: str
    role: Role
    department: str
    jurisdiction: str

    @property
    def city_level(self) -> bool:
        return self.jurisdiction == CITY

    def covers(self, jurisdiction: str | None) -> bool:
        return self.city_level or jurisdiction is None or jurisdiction == self.jurisdiction


SYSTEM_ACTOR = Actor(name="system", role=Role.SYSTEM, department="system", jurisdiction=CITY)


def can(actor: Actor, action: str) -> bool:
    return actor.role in POLICY[action]


def authorize(actor: Actor, action: str, jurisdictions: set[str] | str | None = None) -> None:
    """Raise PermissionDenied unless `actor` may do `action` in every given jurisdiction."""
    if not can(actor, action):
        raise PermissionDenied("err.role_denied", user=actor.name, role=actor.role.value, action=action)
    targets = {jurisdictions} if isinstance(jurisdictions, str) else set(jurisdictions or ())
    outside = sorted(j for j in targets if not actor.covers(j))
    if outside:
        raise PermissionDenied(
            "err.jurisdiction_denied", user=actor.name, own=actor.jurisdiction, target=", ".join(outside[:5]), action=action
        )


def supervises(actor: Actor, department: str) -> bool:
    """A supervisor of a department's records: a city-level officer of that department (the
    record's department is its role: police / transport), or the administrator."""
    return actor.role is Role.ADMIN or (actor.city_level and actor.role.value == department)


def may_move_to(actor: Actor, department: str) -> bool:
    """An inspection moved to another department must still be one its department could have
    recorded: the actor records for that department or supervises it."""
    return actor.role in POLICY[f"inspection.record.{department}"] or supervises(actor, department)


def authorize_correction(actor: Actor, action: str, *, recorder: str | None, department: str,
                         jurisdiction: str | None) -> None:
    """Voiding or correcting a record is for the officer who recorded it or a supervisor of its
    department (`supervises`), within their jurisdiction."""
    authorize(actor, action, jurisdiction)
    if actor.name != recorder and not supervises(actor, department):
        raise PermissionDenied("err.not_recorder", user=actor.name, recorder=recorder or "-", action=action)
