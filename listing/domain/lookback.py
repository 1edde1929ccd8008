"""Where the listing criteria's look-back starts for a company that was listed before.

A company just delisted must not be proposed again by the next monthly run on the very history
that listed it. Rule `after_last_listing` (the default): the look-back starts on the day its last
listing ended (the passed cycle's due date), so only what happened since counts, with per-vehicle
thresholds scaled to the shorter window. Rule `full_window`: the whole window counts, as for any
other company. A window shorter than `min_days` proposes nothing yet. Pure.
"""
from __future__ import annotations

import datetime as dt

RULES = ("after_last_listing", "full_window")
MIN_DAYS = 30


def window_start(start: dt.date, last_listing_ended: dt.date | None, rule: str) -> dt.date:
    """The first day that counts for a company whose window starts on `start`."""
    if rule == "after_last_listing" and last_listing_ended is not None and last_listing_ended > start:
        return last_listing_ended
    return start


def too_short(start: dt.date, end: dt.date, min_days: int = MIN_DAYS) -> bool:
    """Whether start <= day < end is too few days to judge a company on."""
    return (end - start).days < min_days
