"""The engine keeps freed working memory in the process (rules/trajectory/allocator.py): a second
scan of the same day reuses the first one's freed blocks instead of faulting fresh pages in."""
import subprocess
import sys
from pathlib import Path

import pytest

from rules.trajectory.allocator import keep_freed_memory

ROOT = Path(__file__).resolve().parents[2]
SECOND_SCAN_FAULTS = """
import datetime as dt, resource, sys
import polars as pl
from rules.trajectory import allocator, engine, load_rules, simulated_vehicle_day
if sys.argv[1] == "default":
    allocator._state["done"] = True  # the C library's defaults left alone
frames = [simulated_vehicle_day(3, f"V{i:03d}", dt.date(2026, 11, 23), "truck", [])[0] for i in range(300)]
points, rules = pl.concat(frames).sort("vehicle", "time"), load_rules()
engine.scan(points, vehicle_class="truck", rules=rules)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
engine.scan(points, vehicle_class="truck", rules=rules)
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def faults(mode: str) -> int:
    out = subprocess.run([sys.executable, "-c", SECOND_SCAN_FAULTS, mode], cwd=ROOT, capture_output=True, text=True, check=True)
    return int(out.stdout.split()[-1])


def test_a_second_scan_reuses_freed_memory_instead_of_faulting_it_in():
    if not keep_freed_memory():
        pytest.skip("not glibc: the C library's own allocator is left as it is")
    assert keep_freed_memory()  # idempotent
    tuned, default = faults("tuned"), faults("default")
    assert tuned * 2 < default, (tuned, default)
