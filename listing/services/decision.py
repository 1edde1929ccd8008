"""Deciding an acceptance review against the evidence says so (验收决定与清单建议不一致):
a decision that goes against the checklist's recommendation needs a reason and names the items it
overrides. The record is the decision's own: its audit event carries the reason and the cycle keeps
the checklist with its recommendation, so the company story shows the override ever after. The CLI
and the terminal both decide here."""
from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING


from listing.domain.policy import Actor
from listing.services import review
from messages.errors import ValidationError

if TYPE_CHECKING:
    from sqlmodel import Session


def overrides(checklist: dict, passed: bool) -> list[str]:
    """Pure: the checklist items a decision goes against (none when it follows the recommendation).
    Passing overrides every failed item; failing a fully passing checklist overrides all of it."""
    recommended = checklist["recommendation"] == "pass"
    if passed == recommended:
        return []
    return [i["item"] for i in checklist["items"] if not i["pass"]] if passed else [i["item"] for i in checklist["items"]]


def decide(session: Session, actor: Actor, listing_id: int, passed: bool, *, reason: str | None, now: dt.datetime,
           channel=None, lang: str = "en", notify_lang: str = "zh") -> dict:
    """Decide; {listing, recommendation, against, overridden}. Refused (exit 2) when it goes against
    the recommendation without a reason."""
    from listing.timeutil import to_local
    from messages import t

    checklist = review.show(session, actor, listing_id, today=to_local(now).date())
    overridden = overrides(checklist, passed)
    reason = (reason or "").strip() or None
    if overridden and reason is None:
        raise ValidationError("err.override_reason", recommendation=t(checklist["recommendation"], lang),
                              items=", ".join(t(f"check.{i}", lang) for i in overridden))
    row = review.decide(session, actor, listing_id, passed, reason=reason or "", now=now, channel=channel,
                        lang=notify_lang)
    return {"listing": row, "recommendation": checklist["recommendation"], "against": bool(overridden),
            "overridden": overridden}
