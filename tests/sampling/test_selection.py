"""The selection is reproducible, the right size, fair (rotation covers every vehicle within a
cycle), independent of input order, and unpredictable without the secret."""
import datetime as dt
import math

from hypothesis import given, settings, strategies as st

from rules.sampling import draw_key, sample_size, select_sample

SECRET = b"test-secret"
DAY = dt.date(2026, 11, 23)
plates = st.lists(st.from_regex(r"浙A[0-9]{5}", fullmatch=True), min_size=1, max_size=60, unique=True)


@settings(max_examples=100, deadline=None)
@given(vehicles=plates, fraction=st.sampled_from([0.1, 0.25]))
def test_size_and_determinism(vehicles, fraction):
    chosen = select_sample(vehicles, {}, DAY, "C1", SECRET, fraction)
    assert len(chosen) == max(1, math.ceil(len(vehicles) * fraction - 1e-9)) == sample_size(len(vehicles), fraction)
    assert len(set(chosen)) == len(chosen) and set(chosen) <= set(vehicles)
    assert select_sample(list(reversed(vehicles)), {}, DAY, "C1", SECRET, fraction) == chosen


@settings(max_examples=30, deadline=None)
@given(vehicles=plates, start=st.dates(dt.date(2025, 1, 1), dt.date(2027, 1, 1)))
def test_rotation_covers_every_vehicle_within_ceil_n_over_k_days(vehicles, start):
    history: dict[str, dt.date] = {}
    k = sample_size(len(vehicles))
    days = math.ceil(len(vehicles) / k)
    seen = set()
    for i in range(days):
        day = start + dt.timedelta(days=i)
        chosen = select_sample(vehicles, history, day, "C1", SECRET)
        unseen = set(vehicles) - seen
        assert len(set(chosen) & unseen) == min(k, len(unseen))  # the not-yet-sampled always come first
        seen |= set(chosen)
        history.update({v: day for v in chosen})
    assert seen == set(vehicles)


def test_the_draw_depends_on_the_secret_day_and_company():
    vehicles = [f"浙A{i:05d}" for i in range(100)]
    a = select_sample(vehicles, {}, DAY, "C1", SECRET)
    assert select_sample(vehicles, {}, DAY, "C1", b"other") != a
    assert select_sample(vehicles, {}, DAY + dt.timedelta(days=1), "C1", SECRET) != a
    assert select_sample(vehicles, {}, DAY, "C2", SECRET) != a
    assert draw_key(SECRET, DAY, "C1", "浙A00001") == draw_key(SECRET, DAY, "C1", "浙A00001")
