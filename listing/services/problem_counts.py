"""How many problems a company still has (问题未销号): ONE count for the board, the company story,
the to-do list and the terminal, so no two screens disagree.

Every problem of the company that is not verified counts, whenever and in whichever cycle it
was created (issue 12: "all problems closed" means all).
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from listing.domain.problems import OPEN_STATES
from listing.store.reader import DATE, TIME, Reader, query


@dataclass
class ProblemCount:
    open: int = 0  # not verified: open, reopened or rectified
    overdue: int = 0  # of those, past their due date
    awaiting_verification: int = 0  # rectified, waiting for a second officer

    def to_dict(self) -> dict:
        return {"open": self.open, "overdue": self.overdue, "awaiting_verification": self.awaiting_verification}


def is_open(state: str) -> bool:
    """Not verified and not voided (a problem opened by mistake counts nowhere)."""
    return state in OPEN_STATES


def is_overdue(state: str, due: dt.date | None, today: dt.date) -> bool:
    return is_open(state) and due is not None and due < today


def count(rows, today: dt.date) -> ProblemCount:
    """Count (state, due) pairs: the pure part, usable on rows already loaded."""
    out = ProblemCount()
    for state, due in rows:
        if is_open(state):
            out.open += 1
            out.overdue += is_overdue(state, due, today)
            out.awaiting_verification += state == "rectified"
    return out


_UNVERIFIED = query("""
    SELECT id, company_id, state, due, created_at FROM problem
    WHERE company_id IN :companies AND state IN :states ORDER BY id""", due=DATE, created_at=TIME)


def unverified(db, company_ids: list[int]) -> list[tuple]:
    """Every problem of these companies not verified (nor voided), whenever created: rows (id,
    company_id, state, due, created_at). The acceptance checklist loads its problems here too.
    `db`: a Reader or an ORM session."""
    rows = Reader.of(db).rows(_UNVERIFIED, companies=list(company_ids), states=list(OPEN_STATES))
    return [(r.id, r.company_id, r.state, r.due, r.created_at) for r in rows]


def problem_counts(db, company_ids: list[int], today: dt.date) -> dict[int, ProblemCount]:
    """Per company id (every id given has an entry), in one query."""
    by_company: dict[int, list] = defaultdict(list)
    for _, cid, state, due, _ in unverified(db, company_ids):
        by_company[cid].append((state, due))
    return {cid: count(by_company.get(cid, []), today) for cid in company_ids}
