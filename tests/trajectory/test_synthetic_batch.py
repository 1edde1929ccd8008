"""Many SIMULATED vehicle-days generated in one call are, item by item, exactly the days
generated one by one: same rows, same values to the bit, same planted violations."""
import datetime as dt

from hypothesis import HealthCheck, given, settings, strategies as st

from rules.trajectory import load_rules
from rules.trajectory.synthetic import PLANTS, simulated_vehicle_day, simulated_vehicle_days

RULES = load_rules()
CLASSES = ["coach", "tourist_coach", "bus", "taxi", "truck", "dangerous_goods", "other"]

item = st.tuples(st.text("浙ABC0123456789", min_size=1, max_size=8),
                 st.dates(dt.date(2025, 1, 1), dt.date(2027, 12, 31)),
                 st.sampled_from(CLASSES),
                 st.lists(st.sampled_from(PLANTS), unique=True, max_size=len(PLANTS)))


def assert_same_as_alone(seed: int, items: list, interval_s: float = 30.0) -> None:
    frame, planted, bounds = simulated_vehicle_days(seed, items, rules=RULES, interval_s=interval_s)
    assert len(bounds) == len(items) + 1 and bounds[-1] == frame.height
    for i, (vehicle, day, cls, plant) in enumerate(items):
        alone, alone_planted = simulated_vehicle_day(seed, vehicle, day, cls, plant, rules=RULES, interval_s=interval_s)
        part = frame.slice(int(bounds[i]), int(bounds[i + 1] - bounds[i]))
        assert part.schema == alone.schema
        assert part.equals(alone), (vehicle, day, cls, plant)
        assert planted[i] == alone_planted


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**31), st.lists(item, min_size=1, max_size=12))
def test_a_batch_is_each_day_alone(seed, items):
    assert_same_as_alone(seed, items)


def test_every_plant_and_class_in_one_batch():
    day = dt.date(2026, 11, 23)
    items = [(f"浙A{i:05d}", day + dt.timedelta(days=i % 3), cls, plant)
             for i, (cls, plant) in enumerate((cls, plant) for cls in CLASSES
                                              for plant in [[], list(PLANTS)] + [[p] for p in PLANTS])]
    items.append(items[0])  # the same vehicle-day twice: the same rows twice
    assert_same_as_alone(7, items)
    assert_same_as_alone(7, items[:5], interval_s=10.0)
    frame, planted, bounds = simulated_vehicle_days(7, items, rules=RULES)
    assert frame.slice(int(bounds[0]), int(bounds[1])).equals(frame.slice(int(bounds[-2]), int(bounds[-1] - bounds[-2])))
    assert {p.rule for days in planted for p in days} == set(PLANTS)


def test_an_empty_batch_and_an_unknown_plant():
    frame, planted, bounds = simulated_vehicle_days(1, [], rules=RULES)
    assert frame.height == 0 and planted == [] and list(bounds) == [0]
    assert frame.schema == simulated_vehicle_day(1, "x", dt.date(2026, 1, 1), "truck", rules=RULES)[0].schema
    try:
        simulated_vehicle_days(1, [("x", dt.date(2026, 1, 1), "truck", ["teleport"])], rules=RULES)
    except ValueError as exc:
        assert "teleport" in str(exc)
    else:
        raise AssertionError("an unknown plant must be refused")
