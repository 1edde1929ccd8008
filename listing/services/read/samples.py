"""The vehicles of the daily sample, their status and findings (`guapai sample show`)."""
from __future__ import annotations

import datetime as dt

from listing.domain.policy import Actor, authorize
from listing.services.read.sql import where
from listing.store.reader import DATE, Reader, query

LIMIT = 5000  # rows at most: every sample ever taken is no one's question


def _samples(day: bool, company: bool, everywhere: bool):
    scope = [company and "c.uscc = :company", not everywhere and "c.jurisdiction = :jurisdiction"]
    # without a day: the `days` most recent days sampled in the actor's scope
    days = "s.day = :day" if day else f"""s.day IN (
        SELECT DISTINCT s.day FROM sample s JOIN company c ON c.id = s.company_id {where(*scope)}
        ORDER BY s.day DESC LIMIT :days)"""
    return query(f"""
        SELECT s.day, c.name AS company, c.uscc, v.plate, s.rank, s.status, s.points,
               (SELECT count(*) FROM finding f WHERE f.sample_id = s.id) AS findings, s.attempts, s.last_error
        FROM sample s JOIN vehicle v ON v.id = s.vehicle_id JOIN company c ON c.id = s.company_id
        {where(days, *scope)}
        ORDER BY s.day DESC, c.uscc, s.rank
        LIMIT {LIMIT}""", day=DATE)


def show(db, actor: Actor, day: dt.date | None, company_ref: str | None, days: int = 1) -> list[dict]:
    """The samples of `day`, or without one of the `days` most recent sampled days. `db`: a
    Reader or an ORM session."""
    authorize(actor, "data.read")
    q = _samples(bool(day), bool(company_ref), actor.city_level)
    return [dict(r) for r in Reader.of(db).rows(q, day=day, days=days, company=company_ref,
                                                  jurisdiction=actor.jurisdiction)]
