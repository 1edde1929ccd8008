"""Deadlines as rows: cycles that have ended go to acceptance review; reviews left undecided
past their due date escalate. Run daily; safe to rerun (each deadline is closed when handled)."""
from __future__ import annotations

import datetime as dt

from sqlmodel import Session, select

from listing.domain.policy import SYSTEM_ACTOR
from listing.domain.states import Event, State
from listing.services import audit, listings
from listing.services.notifications import Channel, queue_notice
from listing.store.tables import Company, Deadline, Listing
from listing.timeutil import to_local
from messages import t

REVIEW_DAYS = 14  # how long reviewers have to decide after a cycle ends


def run(session: Session, channel: Channel, *, now: dt.datetime, lang: str = "zh", checklist=None) -> dict:
    """Handle every due deadline up to `now`. `checklist(session, listing, today) -> dict` assembles the
    acceptance checklist stored with the cycle (None: leave it to the review)."""
    ended = escalated = 0
    due = session.exec(select(Deadline).where(Deadline.done_at.is_(None), Deadline.due_at <= now)
                       .order_by(Deadline.due_at, Deadline.id)).all()
    for deadline in due:
        listing = session.get(Listing, deadline.listing_id)
        company = session.get(Company, listing.company_id)
        if deadline.kind == "cycle_end":
            if listing.state == State.LISTED.value:
                listings.apply(session, SYSTEM_ACTOR, listing.id, Event.END_CYCLE, now=now)
                review_due = deadline.due_at + dt.timedelta(days=REVIEW_DAYS)
                session.add(Deadline(kind="review_due", listing_id=listing.id, due_at=review_due))
                if checklist is not None:
                    listings.store_checklist(session, listing.id, checklist(session, listing, to_local(now).date()))
                queue_notice(session, channel, f"review_due:{listing.id}:{listing.cycle}", t("notify.review_due.title", lang),
                            t("notify.review_due.text", lang, company=company.name, cycle=listing.cycle,
                              due=review_due.date().isoformat()), now=now)
                ended += 1
            deadline.done_at = now  # END_CYCLE closes it too; a no-op then
        elif deadline.kind == "review_due":
            if listing.state == State.UNDER_REVIEW.value:
                audit.record(session, SYSTEM_ACTOR, "listing.review_overdue", "listing", listing.id, at=now,
                             after={"due": deadline.due_at.isoformat(), "cycle": listing.cycle})
                queue_notice(session, channel, f"review_overdue:{listing.id}:{listing.cycle}",
                            t("notify.review_overdue.title", lang),
                            t("notify.review_overdue.text", lang, company=company.name, due=deadline.due_at.date().isoformat()),
                            now=now)
                escalated += 1
            deadline.done_at = now
        session.add(deadline)
        session.flush()
    return {"cycles_ended": ended, "reviews_overdue": escalated}
