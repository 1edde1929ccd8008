"""What the terminal's keys do, through the same services, permission checks and audit as the
CLI: each function opens one unit of work as the acting user and returns a message, or raises
the service's error (the terminal shows its message)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Callable

from messages import t


@dataclass
class Desk:
    """The terminal's connection: the store, who is acting, the clock and the language."""

    store: object
    user: str | None
    clock: Callable[[], dt.datetime]
    lang: str = "en"

    def today(self) -> dt.date:
        from listing.timeutil import local_today

        return local_today(self.clock)

    def session(self, readonly: bool = False):
        return self.store.session(readonly=readonly)

    def actor(self, session):
        from listing.services.users import resolve_actor

        return resolve_actor(session, self.user)


def board(desk: Desk, **filters) -> list[dict]:
    from listing.services.board import board as build

    with desk.session(readonly=True) as s:
        return build(s, desk.actor(s), desk.today(), **filters)


def story(desk: Desk, uscc: str) -> dict:
    from listing.services.company_lookup import resolve_company
    from listing.services.company_story import story as build

    with desk.session(readonly=True) as s:
        who = desk.actor(s)
        return build(s, who, resolve_company(s, who, uscc), desk.today())


def department_of(desk: Desk) -> str | None:
    with desk.session(readonly=True) as s:
        role = desk.actor(s).role.value
    return role if role in ("transport", "police") else None


def record_inspection(desk: Desk, uscc: str, notes: str | None = None, problem: str | None = None,
                      due: dt.date | None = None) -> str:
    """An inspection today by the actor's department; with `problem`, a problem opened by it."""
    from listing.services import inspections

    with desk.session() as s:
        who = desk.actor(s)
        # an officer inspects for their own department; anyone else is asked for the transport one
        # so that the permission check, not a form error, refuses them (and audits the refusal)
        department = who.role.value if who.role.value in inspections.DEPARTMENTS else "transport"
        row = inspections.record(s, who, uscc, department, desk.today(), now=desk.clock(), notes=notes or None,
                                 problems=[(problem, due)] if problem else [])
        return t("msg.inspection_recorded", desk.lang, id=row.id, company=uscc, department=department, day=row.day)


def change_problem(desk: Desk, problem_id: int, action: str) -> str:
    from listing.services import problems

    with desk.session() as s:
        row = problems.change(s, desk.actor(s), problem_id, action, now=desk.clock())
        return t("msg.problem_changed", desk.lang, id=row.id, state=row.state)


def decide_finding(desk: Desk, finding_id: int, confirm: bool, reason: str | None = None) -> str:
    from listing.services import findings

    with desk.session() as s:
        who = desk.actor(s)
        row = (findings.confirm(s, who, finding_id, now=desk.clock(), lang=desk.lang) if confirm
               else findings.dismiss(s, who, finding_id, reason=reason or "", now=desk.clock()))
        return t("msg.finding_changed", desk.lang, id=row.id, state=row.state)


def decide_review(desk: Desk, listing_id: int, passed: bool, reason: str | None, sink=None) -> str:
    from jobs.channels import channel_for
    from listing.services import decision
    from listing.settings import load

    with desk.session() as s:
        result = decision.decide(s, desk.actor(s), listing_id, passed, reason=reason, now=desk.clock(),
                                 channel=channel_for(load(), sink=sink), lang=desk.lang)
        row = result["listing"]
        text = t("msg.listing_changed", desk.lang, listing=row.id, state=t(f"state.{row.state}", desk.lang),
                 cycle=row.cycle, due=row.cycle_due or "-")
    if result["against"]:
        text += " · " + t("msg.override", desk.lang, recommendation=t(result["recommendation"], desk.lang),
                          items=", ".join(t(f"check.{i}", desk.lang) for i in result["overridden"]))
    return text
