"""The acceptance checklist from plain facts: each item fails, then passes."""
import datetime as dt

from listing.domain import checklist as c
from listing.domain.cycles import Period

CYCLE = Period(2, dt.date(2026, 4, 10), dt.date(2026, 7, 10))  # April (21 days), May, June owed; July 9 days
CONFIRMED = dt.date(2026, 1, 10)
TODAY = dt.date(2026, 7, 12)
METRICS_OK = c.MetricsFact("2026.1", 91, {"fatal_accidents": 0}, {"fatal_accidents": 1}, False)


def facts(**kw):
    base = dict(listing_id=1, period=CYCLE, confirmed_on=CONFIRMED, today=TODAY, at_fault=("full", "main", "equal"),
                metrics=METRICS_OK)
    return c.CycleFacts(**(base | kw))


def item(f, name):
    return next(i for i in c.assemble(f)["items"] if i["item"] == name)


def every_month(days=(15,)):
    out, n = [], 0
    for month in (4, 5, 6):
        for d in days:
            for dept in ("transport", "police"):
                n += 1
                out.append(c.InspectionFact(n, dept, dt.date(2026, month, d)))
    return out


def test_inspections_need_both_departments_in_every_owed_month_of_the_cycle():
    assert item(facts(inspections=every_month()), "inspections")["pass"]
    missing = item(facts(inspections=every_month()[:-1]), "inspections")
    assert not missing["pass"] and missing["evidence"]["missing"] == ["2026-06/police"]
    # an inspection outside the cycle's days (the day it ended belongs to the next cycle) does not count
    late = every_month()[:-1] + [c.InspectionFact(99, "police", dt.date(2026, 7, 10))]
    assert not item(facts(inspections=late), "inspections")["pass"]


def test_inspections_before_confirmation_or_after_today_do_not_count():
    one = Period(1, dt.date(2026, 1, 10), dt.date(2026, 4, 10))
    early = [c.InspectionFact(1, d, dt.date(2026, 1, 9)) for d in ("transport", "police")]
    rest = [c.InspectionFact(10 + i, d, dt.date(2026, m, 3)) for i, (m, d) in
            enumerate([(2, "transport"), (2, "police"), (3, "transport"), (3, "police")])]
    f = facts(period=one, today=dt.date(2026, 4, 10), inspections=early + rest)
    assert item(f, "inspections")["evidence"]["missing"] == ["2026-01/transport", "2026-01/police"]
    future = [c.InspectionFact(20 + i, d, dt.date(2026, 6, 28)) for i, d in enumerate(("transport", "police"))]
    f = facts(today=dt.date(2026, 6, 20), inspections=every_month()[:4] + future)
    assert not item(f, "inspections")["pass"]


def test_all_unverified_problems_count_whenever_created():
    old = c.ProblemFact(7, "rectified", dt.date(2026, 1, 20))  # from cycle 1, never verified
    got = item(facts(unverified_problems=[old]), "problems_closed")
    assert not got["pass"] and got["evidence"]["problems"] == [7]
    assert item(facts(), "problems_closed")["pass"]


def _days(start, end):
    d = start
    while d < end:
        yield d
        d += dt.timedelta(days=1)


def test_sampling_coverage_and_rate_with_partial_days_never_clean():
    samples = [c.SampleFact(i, d, "scanned") for i, d in enumerate(_days(CYCLE.start, CYCLE.due))]
    april = [s for s in samples if s.day.month == 4]
    findings = [c.FindingFact(s.id, s.day, "overspeed") for s in april[:5]]
    f = facts(samples=samples, findings=findings)
    assert item(f, "sampling_coverage")["pass"]
    rate = item(f, "sampled_violation_rate")
    assert rate["pass"] and rate["evidence"]["by_month"][0]["findings"] == 5
    # June's days all had partial data: no clean vehicle-day, so June cannot show a low rate
    june_partial = [c.FindingFact(s.id, s.day, "partial_data") for s in samples if s.day.month == 6]
    f = facts(samples=samples, findings=findings + june_partial)
    june = item(f, "sampled_violation_rate")["evidence"]["by_month"][2]
    assert june["vehicle_days"] == 0 and june["rate"] is None
    assert not item(facts(samples=samples[:50]), "sampling_coverage")["pass"]


def test_fatal_at_fault_uses_the_rules_responsibilities_and_the_cycle_days():
    secondary = c.AccidentFact(1, dt.date(2026, 5, 1), 1, "secondary")
    assert item(facts(accidents=[secondary]), "no_fatal_at_fault_accident")["pass"]
    assert not item(facts(accidents=[secondary], at_fault=("full", "main", "equal", "secondary")),
                    "no_fatal_at_fault_accident")["pass"]
    before = c.AccidentFact(2, dt.date(2026, 4, 9), 2, "full")  # the day before the cycle
    assert item(facts(accidents=[before]), "no_fatal_at_fault_accident")["pass"]


def test_metrics_item_and_threshold_scaling():
    assert item(facts(), "metrics_under_thresholds")["pass"]
    flagged = c.MetricsFact("2026.1", 91, {}, {}, True)
    assert not item(facts(metrics=flagged), "metrics_under_thresholds")["pass"]
    scaled = c.scale_thresholds({"default": {"fatal_accidents": 1, "violations_per_vehicle": 4.0}}, 91, 365)
    assert scaled == {"default": {"fatal_accidents": 1, "violations_per_vehicle": 4.0 * 91 / 365}}


def test_recommendation_is_pass_only_when_every_item_passes():
    samples = [c.SampleFact(i, d, "scanned") for i, d in enumerate(_days(CYCLE.start, CYCLE.due))]
    f = facts(inspections=every_month(), samples=samples,
              findings=[c.FindingFact(samples[0].id, samples[0].day, "overspeed")])
    out = c.assemble(f)
    assert out["recommendation"] == "pass", [i for i in out["items"] if not i["pass"]]
    assert (out["from"], out["to"]) == ("2026-04-10", "2026-07-09")
