"""How long a read command takes, end to end (a new process, as an officer types it), on the
demo database; the same commands of an earlier revision side by side, on the same machine at
the same time, so a busy machine slows both alike.

    .venv/bin/python benchmarks/read_bench.py                      # builds /tmp/guapai-read-bench.sqlite once (a few minutes)
    .venv/bin/python benchmarks/read_bench.py --db sqlite:////tmp/officer-demo.sqlite --before 43c5d5f --runs 7

Prints, per command, the fastest and the median wall time and the median CPU time (user+sys of
the process: less disturbed than wall time when other programs share the cores), for this tree
and for `--before` (a git revision, exported with `git archive` into a temporary folder and run
with the same Python), and the ratio. Floors: `python -c pass` and importing SQLAlchemy and
SQLModel, which read commands needed before issue 16 (none does now). Target (issue 16): every read command
under 0.5 s on a quiet machine; `sample show` without a date under 1 s.

The earlier revision must expect the same schema as the database (it migrates a database it
finds behind, and cannot open one ahead of it): build the demo database with the older tree, or
compare revisions with the same migrations.

Measured on this 2-core machine shared with other sessions (load average 12; CPU medians, which a
busy machine inflates too), against 43c5d5f: listing list 1.53 -> 1.34 s CPU, findings list 1.86 ->
1.12, users list 2.27 -> 1.40, problems list 2.06 -> 1.63, sample show 3.87 -> 1.43 (wall 12.0 ->
4.0); the floor, importing SQLAlchemy and SQLModel, was 0.84 s CPU at that load.

Issue 16, against main 53edd9c on the demo database (load average 2.2-2.6, 5 runs interleaved; CPU
median in seconds, now vs before; the floor, importing SQLAlchemy and SQLModel, 0.40): sample show
0.97 vs 1.34 (wall median 0.99 vs 1.35), sample show --json 0.81 vs 1.13, findings list 0.68 vs
1.18, problems list 0.74 vs 1.31, board 0.77 vs 1.08, company show 0.95 vs 1.13, findings show 0.77
vs 0.91, listing list 0.68 vs 0.77, todo 0.59 vs 0.62, users list 0.83 vs 0.82, db status 0.68 vs
0.75. What went: polars and numpy on the read paths (the sampling rules imported them at the top,
and findings, board and sample commands import those rules), numpy for the speed sparkline, the
pydantic plugin scan at start, and framing long tables (over 200 rows print as plain columns).
What is left is the floor plus ~0.2-0.3 s (the 24 table classes, typer, rich, the first query's
compilation); `company show` and `review show` still import polars to evaluate the criteria.

Issue 16, second part: the read commands no longer import the ORM at all (listing.store.reader:
sqlite3 or psycopg and SQL next to each service; tests/startup/test_read_imports.py fails on any
ORM, alembic or dataframe import), the one-company criteria are evaluated in plain Python, and
typer stays below 0.29 (which imports pydantic to coerce every parameter). Against 08fdb0b on the
demo database, 5 runs interleaved, load average 1.9, wall median now vs before (CPU median now):
--help 0.35 vs 0.40 (0.33), listing list 0.27 vs 1.38 (0.24), listing list --json 0.19 vs 1.23,
board 0.31 vs 1.40 (0.28), findings list 0.25 vs 1.32, findings show 0.84 vs 1.31 (then 0.47
once the platform client was imported only when a platform is configured), todo 0.23 vs 1.32,
company show 0.42 vs 1.78 (0.40), jobs list 0.56 vs 1.36 (0.51), sample show 0.25 vs 1.36,
sample show --json 0.20 vs 1.23, problems list 0.27 vs 1.39, inspect list 0.34 vs 1.45, drivers
list 0.21 vs 1.27, audit log 0.31 vs 1.32, users list 0.23 vs 1.32, db status 0.24 vs 0.95; the
floor, importing SQLAlchemy and SQLModel, 0.81. Over 0.5 s at that load: jobs list, and findings
show when the evidence holds no speed profile: both read the configuration (pydantic-settings,
~0.2 s of CPU).

The same comparison on a quiet machine (load average 0.2, 15:08 UTC), median wall now vs before
(CPU now): --help 0.31 vs 0.33, listing list 0.24 vs 1.26 (0.24), listing list --json 0.19 vs 1.05,
board 0.27 vs 1.32, findings list 0.19 vs 1.08, findings show 0.42 vs 1.25 (0.41), todo 0.20 vs
1.04, company show 0.30 vs 1.50, jobs list 0.46 vs 1.31 (0.46), sample show 0.21 vs 1.15, sample
show --json 0.18 vs 1.24, problems list 0.17 vs 1.06, inspect list 0.27 vs 1.33, drivers list 0.20
vs 1.08, audit log 0.28 vs 1.19, users list 0.24 vs 1.20, db status 0.20 vs 0.82; floor 0.73.
Every read command under 0.5 s (target met); timed alone, `review show` 0.28-0.29 s and `rules
show` 0.23-0.26 s.
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DB = "sqlite:////tmp/guapai-read-bench.sqlite"

COMMANDS = [  # (user, arguments)
    (None, ["--help"]),
    ("reviewer.zhao", ["listing", "list"]),
    ("reviewer.zhao", ["listing", "list", "--json"]),
    ("reviewer.zhao", ["board"]),
    ("police.wang", ["findings", "list"]),
    ("police.wang", ["findings", "show", "1"]),
    ("reviewer.zhao", ["todo"]),
    ("reviewer.zhao", ["company", "show", "91330102ENXA04ND07"]),  # the demo's first listed company
    ("police.wang", ["jobs", "list"]),
    ("police.wang", ["sample", "show"]),
    ("police.wang", ["sample", "show", "--json"]),
    ("transport.li", ["problems", "list"]),
    ("police.wang", ["inspect", "list"]),
    ("police.wang", ["drivers", "list"]),
    ("admin", ["audit", "log"]),
    ("admin", ["users", "list"]),
    ("admin", ["db", "status"]),
]
FLOORS = [("python -c pass", ["-c", "pass"]),
          ("import sqlalchemy, sqlmodel", ["-c", "import sqlalchemy, sqlmodel"])]


def run_once(argv: list[str], cwd: Path) -> tuple[float, float, int]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          env={**os.environ, "GUAPAI_LANG": "en", "COLUMNS": "120"})
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), done.returncode


def measure(argvs: dict[str, tuple[list[str], Path]], runs: int) -> dict[str, dict]:
    """Each variant `runs` times, interleaved (a, b, a, b ...) so a change in the machine's load
    falls on both alike."""
    seen = {k: ([], [], set()) for k in argvs}
    for _ in range(runs):
        for k, (argv, cwd) in argvs.items():
            wall, cpu, code = run_once(argv, cwd)
            seen[k][0].append(wall)
            seen[k][1].append(cpu)
            seen[k][2].add(code)
    return {k: {"min": min(w), "median": statistics.median(w), "cpu": statistics.median(c), "codes": codes}
            for k, (w, c, codes) in seen.items()}


def guapai(tree: Path, db: str, user: str | None, args: list[str]) -> list[str]:
    who = ["--as", user] if user else []
    return [sys.executable, str(tree / "main.py"), "--db", db, *who, *args]


def export(revision: str, folder: Path) -> Path:
    """The tree at `revision` (its files only), run with this Python (same libraries)."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", revision], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


def ensure_demo(db: str) -> None:
    path = Path(db.removeprefix("sqlite:///"))
    if db.startswith("sqlite:///") and path.exists():
        return
    print(f"building the demo database {db} once (a few minutes) ...", file=sys.stderr)
    subprocess.run([sys.executable, str(ROOT / "main.py"), "--db", db, "demo", "--out", tempfile.mkdtemp()], check=True,
                   stdout=subprocess.DEVNULL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=DEFAULT_DB)
    parser.add_argument("--before", default=None, help="git revision to compare with (e.g. main)")
    parser.add_argument("--runs", type=int, default=5)
    opts = parser.parse_args()
    ensure_demo(opts.db)
    trees = {"now": ROOT}
    with tempfile.TemporaryDirectory(prefix="guapai-before-") as folder:
        if opts.before:
            trees["before"] = export(opts.before, Path(folder))
        print(f"{opts.runs} runs each; wall min / median and CPU median in seconds; {os.cpu_count()} cores, "
              f"load average {os.getloadavg()[0]:.1f}")
        for name, argv in FLOORS:
            m = measure({"floor": ([sys.executable, *argv], ROOT)}, opts.runs)["floor"]
            print(f"  {'(floor) ' + name:<40} {m['min']:6.2f} {m['median']:6.2f}  cpu {m['cpu']:5.2f}")
        header = "  {:<40} {:>20}".format("command", "now: min  med  cpu")
        if "before" in trees:
            header += "   before: min  med  cpu   median ratio"
        print(header)
        for user, args in COMMANDS:
            row = measure({k: (guapai(tree, opts.db, user, args), tree) for k, tree in trees.items()}, opts.runs)
            now = row["now"]
            line = f"  {' '.join(args):<40} {now['min']:9.2f} {now['median']:5.2f} {now['cpu']:5.2f}"
            if "before" in row:
                b = row["before"]
                line += f"   {b['min']:11.2f} {b['median']:5.2f} {b['cpu']:5.2f}   {b['median'] / now['median']:9.1f}x"
            if any(m["codes"] != {0} for m in row.values()):
                codes = ", ".join(f"{k}={sorted(m['codes'])}" for k, m in row.items())
                line += f"   (exit codes {codes})"
            print(line, flush=True)


if __name__ == "__main__":
    main()
