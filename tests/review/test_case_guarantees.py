"""Guarantees of the case engine through the services: the accident that caused a listing does
not fail its first cycle, and a company just delisted is not re-proposed on the same history."""
import datetime as dt

from sqlmodel import select

from listing.domain.policy import SYSTEM_ACTOR
from listing.domain.states import Event
from listing.services import listings, review, rules
from listing.store import tables
from tests.conftest import actor
from tests.rules.test_criteria import Builder
from tests.scenario import local

UTC = dt.timezone.utc


def _listed_by_rules(people, as_of, when_fatal):
    b = Builder(people)
    cid, vids = b.company(20)
    b.accident(cid, vids[0], fatalities=1, responsibility="main", when=when_fatal)
    b.violations(cid, vids[1], 30, when=when_fatal - dt.timedelta(days=20))
    with people.session() as s:
        result = rules.apply(s, SYSTEM_ACTOR, as_of, now=local(as_of.year, as_of.month, as_of.day))
    assert [p["uscc"] for p in result["proposed"]] != []
    lid = result["proposed"][0]["listing_id"]
    with people.session() as s:
        listings.apply(s, actor(people, "reviewer"), lid, Event.CONFIRM, now=local(as_of.year, as_of.month, as_of.day))
    return cid, lid, vids


def test_the_accident_that_caused_the_listing_does_not_fail_cycle_one(people):
    # the fatal accident on 30 January, the day before confirmation; cycle 1: 31 Jan .. 29 Apr (89 days),
    # which three months back from its last day would reach into
    cid, lid, _ = _listed_by_rules(people, dt.date(2026, 1, 31), dt.datetime(2026, 1, 30, 2, tzinfo=UTC))
    with people.session() as s:
        listings.apply(s, SYSTEM_ACTOR, lid, Event.END_CYCLE, now=local(2026, 4, 30, 1))
    with people.session() as s:
        items = {i["item"]: i for i in review.show(s, actor(people, "reviewer"), lid, today=dt.date(2026, 4, 30))["items"]}
    metrics = items["metrics_under_thresholds"]
    assert metrics["pass"] and metrics["evidence"]["fatal_accidents"] == 0 and metrics["evidence"]["days"] == 89
    assert items["no_fatal_at_fault_accident"]["pass"]
    # the thresholds are the rule window's scaled to the cycle's 89 days
    assert abs(metrics["evidence"]["thresholds"]["violations_per_vehicle"] - 4.0 * 89 / 365) < 1e-9


def test_a_company_just_delisted_is_not_reproposed_on_the_history_that_listed_it(people):
    cid, lid, vids = _listed_by_rules(people, dt.date(2026, 3, 1), dt.datetime(2026, 2, 20, 2, tzinfo=UTC))
    with people.session() as s:
        listings.apply(s, SYSTEM_ACTOR, lid, Event.END_CYCLE, now=local(2026, 6, 1, 1))
    with people.session() as s:
        review.decide(s, actor(people, "reviewer"), lid, True, reason="整改到位", now=local(2026, 6, 3))
    with people.session() as s:  # the fatal accident of February is still inside the 12-month window
        again = rules.apply(s, SYSTEM_ACTOR, dt.date(2026, 7, 1), now=local(2026, 7, 1))
        assert again["proposed"] == [] and len(again["recently_delisted"]) == 1
    # what happens after the delisting counts: a new fatal accident lists it again
    Builder(people).accident(cid, vids[2], fatalities=1, when=dt.datetime(2026, 7, 20, 2, tzinfo=UTC))
    with people.session() as s:
        later = rules.apply(s, SYSTEM_ACTOR, dt.date(2026, 8, 1), now=local(2026, 8, 1))
        assert [p["listing_id"] for p in later["proposed"]] != []
        proposed = s.exec(select(tables.Listing).where(tables.Listing.company_id == cid, tables.Listing.state == "proposed")).all()
        assert len(proposed) == 1
