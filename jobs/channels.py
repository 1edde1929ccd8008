"""Which notification channel the jobs use: the group robots configured in settings (DingTalk,
WeCom), always with a copy to the log."""
from __future__ import annotations

from typing import Callable

from jobs.notify import DingTalkRobot, Fanout, WeComRobot
from listing.services.notifications import LogChannel
from listing.settings import Settings


def channel_for(settings: Settings, sink: Callable[[str], None] | None = None, transport=None):
    channels = [LogChannel(sink)]
    if settings.dingtalk_webhook:
        channels.append(DingTalkRobot(settings.dingtalk_webhook, settings.dingtalk_secret, transport=transport))
    if settings.wecom_webhook:
        channels.append(WeComRobot(settings.wecom_webhook, transport=transport))
    return channels[0] if len(channels) == 1 else Fanout(channels)
