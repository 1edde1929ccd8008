"""A listing's cycles, read without the ORM."""
from __future__ import annotations

import datetime as dt

from listing.store.reader import DATE, Reader, query

_CONFIRMED = query("SELECT start FROM cycle WHERE listing_id = :listing AND number = 1", start=DATE)


def confirmed_on(db, listing_id: int) -> dt.date | None:
    """The listing's confirmation day: the start of its cycle 1 (None: never confirmed)."""
    return Reader.of(db).scalar(_CONFIRMED, listing=listing_id)
