"""How long `guapai demo` takes, end to end (process start to the reports written, each run in a
new SQLite database), and the same command of an earlier revision side by side, interleaved on
the same machine at the same time, so a busy machine slows both alike.

    .venv/bin/python benchmarks/demo_bench.py [--before main] [--runs 1]

Prints, per run, the wall time and the CPU time (user+sys of the demo process and of the
simulated platform's processes it starts and waits for: less disturbed than wall time when
other programs share the cores) with the load average. Both trees load their compiled kernels
(numba's cache) before the timed runs, as an installed copy has them after its first run.
Target (issue 13): well under a minute on this 2-core machine.

Measured 2026-12-02 (`--before main --runs 2`, main at a7ea07d), load average 3.0-5.9 on 2 cores:
now 50.2 / 50.6 s wall, 58.0 / 60.2 s CPU; main 69.1 / 65.3 s wall, 81.6 / 77.4 s CPU. The
simulated platform generates the vehicle-days concurrent requests wait for in one batch
(rules.trajectory.synthetic.simulated_vehicle_days), inspections.track reads set-based, the
drill's officers confirm a day's findings together (findings.confirm_many). Under a minute, not
well under: most of what is left is the demo process itself (decoding the platform's answers,
judging and storing samples, the officers' and reviewers' writes, the reports at the end).

2026-12-03 07:02-07:06 UTC on a faster machine, quiet (load 0.6-1.5): 22.5 and 23.7 s wall,
28.4 and 29.8 s CPU; `--before 6a066c5` 23.7 s and 29.8 s as well (the work since was on the
scan's end-to-end path, which the demo does not take). Well under a minute there; on the
slower second machine of 2026-12-02 it took 71.7 s.
"""
from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_once(tree: Path, folder: Path) -> tuple[float, float]:
    db = folder / "demo.sqlite"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    done = subprocess.run([sys.executable, "main.py", "--db", f"sqlite:///{db}", "demo", "--out", str(folder / "out")], cwd=tree,
                          env={**os.environ, "PYTHONPATH": str(tree)}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode:
        raise SystemExit(f"the demo failed in {tree}:\n{done.stderr[-2000:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def export(revision: str, folder: Path) -> Path:
    tree = folder / "tree"
    tree.mkdir()
    archive = subprocess.run(["git", "archive", revision], cwd=ROOT, check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    return tree


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", default=None, help="git revision to compare with (e.g. main)")
    parser.add_argument("--runs", type=int, default=1)
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="guapai-demo-bench-") as folder:
        trees = {"now": ROOT}
        if opts.before:
            trees["before"] = export(opts.before, Path(folder))
        for tree in trees.values():  # compiled kernels from numba's cache in both trees, as after a first run: not timed
            subprocess.run([sys.executable, "-c", "from rules.trajectory import engine; engine.warm()"], cwd=tree,
                           env={**os.environ, "PYTHONPATH": str(tree)}, check=True, capture_output=True)
        for i in range(opts.runs):
            for name, tree in trees.items():
                load = os.getloadavg()[0]
                wall, cpu = run_once(tree, Path(folder) / name)
                print(f"run {i + 1} {name:<6} guapai demo: {wall:6.1f} s wall, {cpu:6.1f} s CPU (demo and simulated platform); "
                      f"load average {load:.1f} -> {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", flush=True)


if __name__ == "__main__":
    main()
