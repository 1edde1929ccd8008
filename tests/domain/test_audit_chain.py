import dataclasses
import datetime as dt

import pytest

from listing.domain.audit_chain import GENESIS, ChainEvent, canonical, chain_hash, verify_chain

T0 = dt.datetime(2026, 11, 24, tzinfo=dt.timezone.utc)


def chain(n):
    events, prev = [], GENESIS
    for seq in range(1, n + 1):
        at = T0 + dt.timedelta(minutes=seq)
        after = {"n": seq}
        h = chain_hash(prev, canonical(seq, at, "u", "a", "e", str(seq), None, after))
        events.append(ChainEvent(seq, at, "u", "a", "e", str(seq), None, after, prev, h))
        prev = h
    return events


def test_intact_chain_verifies():
    events = chain(5)
    assert verify_chain(events, 5, events[-1].hash).ok


@pytest.mark.parametrize("tamper,bad_seq", [
    (lambda ev: [*ev[:2], dataclasses.replace(ev[2], after={"n": 99}), *ev[3:]], 3),  # edited
    (lambda ev: [*ev[:2], dataclasses.replace(ev[2], actor="someone else"), *ev[3:]], 3),
    (lambda ev: [*ev[:2], *ev[3:]], 3),  # deleted in the middle
    (lambda ev: [ev[0], ev[2], ev[1], *ev[3:]], 2),  # reordered
])
def test_tampering_names_the_first_bad_event(tamper, bad_seq):
    events = chain(5)
    verdict = verify_chain(tamper(events), 5, events[-1].hash)
    assert not verdict.ok and verdict.first_bad_seq == bad_seq


def test_deleted_tail_shows_against_the_head():
    events = chain(5)
    verdict = verify_chain(events[:4], 5, events[-1].hash)
    assert (verdict.ok, verdict.reason) == (False, "audit.bad.tail")


def test_inserted_event_with_renumbering_breaks_the_links():
    events = chain(4)
    forged = dataclasses.replace(events[1], seq=2, after={"n": "forged"})
    renumbered = [events[0], forged] + [dataclasses.replace(e, seq=e.seq + 1) for e in events[1:]]
    assert not verify_chain(renumbered, 5, events[-1].hash).ok
