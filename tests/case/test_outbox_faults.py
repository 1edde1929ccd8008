"""The outbox under faults: a robot down during a cycle end never blocks or rolls back the
transition, is retried with backoff on its own, and a working robot never posts twice."""
import datetime as dt

import httpx
from sqlmodel import select
from tenacity import wait_none

from jobs.notify import DingTalkRobot, Fanout, WeComRobot
from jobs.scheduler import simulated_clock, tick
from listing.services import notifications
from listing.services.notifications import LogChannel
from listing.settings import Settings
from listing.store import tables
from tests.scenario import listed_company, local

SETTINGS = Settings(catch_up_days=1)


def test_robot_down_during_a_cycle_end(people, monkeypatch):
    monkeypatch.setattr(notifications, "RETRY_WAIT", wait_none())
    monkeypatch.setattr("jobs.notify._Robot._post.retry.wait", wait_none())  # the robots' own quick retries
    cid, lid, _ = listed_company(people, local(2026, 1, 10))  # cycle 1 due 2026-04-10
    calls = {"dingtalk": [], "wecom": []}
    state = {"dingtalk_up": False}

    def dingtalk(request):
        calls["dingtalk"].append(request.content)
        return httpx.Response(200, json={"errcode": 0}) if state["dingtalk_up"] else httpx.Response(502)

    def wecom(request):
        calls["wecom"].append(request.content)
        return httpx.Response(200, json={"errcode": 0})

    log = LogChannel(sink=lambda text: None)
    channel = Fanout([log, DingTalkRobot("https://oapi.example/robot/send?access_token=T", "S",
                                         transport=httpx.MockTransport(dingtalk)),
                      WeComRobot("https://qyapi.example/cgi-bin/webhook/send?key=K", transport=httpx.MockTransport(wecom))])
    clock, advance = simulated_clock(local(2026, 4, 10, 9))
    out = tick(people, SETTINGS, channel, clock=clock, jobs=["deadlines"])
    assert [o.status for o in out] == ["done", "done"]  # the robot being down failed nothing
    with people.session(readonly=True) as s:
        assert s.get(tables.Listing, lid).state == "under_review"  # the transition committed
        rows = s.exec(select(tables.OutboxMessage).where(tables.OutboxMessage.key == f"review_due:{lid}:1")).all()
    by_channel = {r.channel: r for r in rows}
    assert by_channel["log"].sent_at and by_channel["wecom"].sent_at and by_channel["dingtalk"].sent_at is None
    assert by_channel["dingtalk"].attempts == 1 and "502" in by_channel["dingtalk"].last_error
    assert len(calls["wecom"]) == 1
    # the next ticks, robot still down: retried with backoff, the others are never posted again
    for _ in range(3):
        advance(dt.timedelta(hours=1))
        tick(people, SETTINGS, channel, clock=clock, jobs=["deadlines"])
    with people.session(readonly=True) as s:
        ding = s.exec(select(tables.OutboxMessage).where(tables.OutboxMessage.channel == "dingtalk")).one()
    assert 1 < ding.attempts <= 4 and ding.next_attempt_at.replace(tzinfo=dt.timezone.utc) > clock()
    state["dingtalk_up"] = True
    failed_posts = len(calls["dingtalk"])
    advance(dt.timedelta(hours=7))  # past the longest backoff
    tick(people, SETTINGS, channel, clock=clock, jobs=["deadlines"])
    tick(people, SETTINGS, channel, clock=clock, jobs=["deadlines"])
    with people.session(readonly=True) as s:
        assert s.exec(select(tables.OutboxMessage).where(tables.OutboxMessage.sent_at.is_(None))).all() == []
    assert len(calls["dingtalk"]) == failed_posts + 1  # back up: posted once, not again on the next tick
    assert len(calls["wecom"]) == 1 and [k for k, _, _ in log.sent] == [f"review_due:{lid}:1"]


def test_a_rolled_back_transaction_leaves_no_notice(people):
    channel = LogChannel(sink=lambda text: None)
    try:
        with people.session() as s:
            notifications.queue_notice(s, channel, "k:1", "t", "x", now=local(2026, 4, 10))
            raise RuntimeError("the transition failed")
    except RuntimeError:
        pass
    assert notifications.deliver(people, channel, now=local(2026, 4, 11)) == {"sent": 0, "failed": 0, "pending": 0}
    assert channel.sent == []
