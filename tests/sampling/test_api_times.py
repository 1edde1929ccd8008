"""The sampling job's one-pass parse of the API's times agrees with the trajectory reader's,
whatever offset, fraction or form the platform writes (other forms are left to the reader)."""
import polars as pl
import pytest

from listing.services.sampling import _api_times
from rules.trajectory.readers import from_frame

CASES = [
    ["2026-11-23T08:00:00+08:00", "2026-11-23T23:59:59+08:00"],
    ["2026-11-23T08:00:00-05:30", "2026-11-24T00:00:00-05:30"],
    ["2026-11-23T08:00:00.250+08:00", "2026-11-23T08:00:01+08:00"],
    ["2026-11-23T08:00:00Z", "2026-11-23T08:00:00+08:00"],
    ["2026-11-23 08:00:00", "2026-11-23T08:00:00"],  # no offset: Beijing time, by the reader
    ["2026-11-23T08:00:00+08:00", "not a time"],
]


@pytest.mark.parametrize("times", CASES)
def test_one_pass_times_equal_the_readers(times):
    raw = pl.DataFrame({"vehicle": "浙A1", "time": times, "lat": 30.0, "lon": 120.0})
    fast = from_frame(_api_times(raw), position_name="record", first_position=0)
    slow = from_frame(raw, position_name="record", first_position=0)
    assert fast.points["time"].to_list() == slow.points["time"].to_list() and fast.errors == slow.errors
