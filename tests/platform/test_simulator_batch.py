"""The SIMULATED platform generates and encodes many vehicle-days at once: what it stores (and so
serves) is, day by day, what it stored generating each day alone, and the encoded rows are the
JSON the API's rows give (byte for byte what polars' JSON writer writes)."""
import datetime as dt
import threading

import numpy as np

from listing.simulation.platform import Faults, SimulatedPlatform, StoredDay, _wire

CLASSES = ["coach", "bus", "taxi", "truck", "tourist_coach", "other"]
VEHICLES = {f"浙A{i:05d}": CLASSES[i % len(CLASSES)] for i in range(36)}
DAYS = [dt.date(2026, 3, 1) + dt.timedelta(days=k) for k in range(3)]


def platform() -> SimulatedPlatform:  # planted violations on most days, some terminals cut off
    return SimulatedPlatform(VEHICLES, seed=9, faults=Faults(cut_off=0.2), plant_rate=0.7)


def same(a: StoredDay, b: StoredDay) -> bool:
    return a.rows == b.rows and np.array_equal(a.t, b.t) and np.array_equal(a.starts, b.starts) and a.planted == b.planted


def test_a_batch_stores_what_days_alone_store():
    keys = [(plate, day) for day in DAYS for plate in VEHICLES]
    together = platform()._stored(keys)
    alone = platform()
    assert all(same(t, alone._day(*key)) for t, key in zip(together, keys))
    assert {p.rule for s in together for p in s.planted} >= {"overspeed", "signal_gap", "fatigue_continuous"}


def test_rows_are_the_json_of_the_rows():
    p = platform()
    for plate in list(VEHICLES)[:8]:
        stored = p._day(plate, DAYS[0])
        assert len(stored.starts) == len(stored.t) + 1 and stored.starts[-1] == len(stored.rows) + 1
        rows = [stored.rows[a:b - 1] for a, b in zip(stored.starts[:-1], stored.starts[1:])]
        assert all(r.startswith(b'{"time":"') and r.endswith(b"}") for r in rows) and b",".join(rows) == stored.rows
    # the encoding against the JSON writer on the stored columns of several days at once
    days = [(_cols(p, plate), []) for plate in list(VEHICLES)[:6]]
    encoded = StoredDay.many(days)
    for (cols, _), stored in zip(days, encoded):
        assert stored.rows == _wire(cols).write_json().encode()[1:-1]


def _cols(p: SimulatedPlatform, plate: str) -> dict:
    """A day's columns with awkward numbers: whole, tiny, large."""
    rng = np.random.default_rng(len(plate))
    n = 50
    return {"t": np.sort(rng.integers(1_770_000_000_000_000, 1_770_080_000_000_000, n)),
            "lat": np.r_[30.0, 1e-7, rng.uniform(29, 31, n - 2)], "lon": np.r_[120.0, 120.5, rng.uniform(119, 121, n - 2)],
            "speed_kmh": np.r_[0.0, 100.0, np.round(rng.uniform(0, 120, n - 2), 1)], "heading": rng.uniform(0, 360, n),
            "status": np.full(n, 3, np.int64), "alarm": np.r_[np.zeros(n - 1, np.int64), 4096]}


def test_concurrent_requests_each_get_their_days():
    p = platform()
    keys = [(plate, DAYS[1]) for plate in VEHICLES]
    got = {}

    def ask(key):
        got[key] = p._stored([key, (key[0], DAYS[2])])

    threads = [threading.Thread(target=ask, args=(key,)) for key in keys]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    alone = platform()
    assert all(same(got[key][0], alone._day(*key)) and same(got[key][1], alone._day(key[0], DAYS[2])) for key in keys)
