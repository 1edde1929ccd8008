"""Every read command answers without importing the ORM (SQLAlchemy, SQLModel), alembic or the
dataframe libraries: importing SQLAlchemy and SQLModel alone costs more than the half second a read
command may take (issue 16; timings are in benchmarks/read_bench.py, not here). Each command runs
in a new process on the small city of tests/cli/world.py, exits 0, and names what it imported."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.world import world  # noqa: F401 - the fixture

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("sqlalchemy", "sqlmodel", "alembic", "polars", "numpy", "pandas")
PROBE = f"""
import runpy, sys
sys.argv = ["guapai", *sys.argv[1:]]
code = 0
try:
    runpy.run_path("main.py", run_name="__main__")
except SystemExit as exit_:
    code = exit_.code or 0
print("HEAVY=" + ",".join(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)
sys.exit(code)
"""

READS = [
    ("reviewer", ["listing", "list"]),
    ("reviewer", ["listing", "list", "--json"]),
    ("reviewer", ["board"]),
    ("reviewer", ["board", "--json", "--jurisdiction", "西湖区", "--sort", "colour"]),
    ("xihu", ["board", "--search", "杭州"]),
    ("reviewer", ["todo"]),
    ("police", ["todo", "--json"]),
    ("xihu", ["todo"]),
    ("admin", ["users", "list"]),
    ("admin", ["db", "status", "--json"]),
    ("reviewer", ["company", "show", "杭州甲运输"]),
    ("police", ["company", "show", "杭州乙客运有限公司", "--json"]),
    ("reviewer", ["review", "show", "1"]),
    ("reviewer", ["review", "show", "1", "--json"]),
    ("admin", ["rules", "show"]),
    ("reviewer", ["rules", "show", "--json"]),
    ("police", ["listing", "list", "--state", "listed", "--json"]),
    ("police", ["findings", "list", "--state", "all"]),
    ("police", ["findings", "list", "--state", "all", "--company", "乙客运", "--json"]),
    ("police", ["findings", "show", "1"]),
    ("police", ["findings", "show", "1", "--json"]),
    ("police", ["sample", "show"]),
    ("police", ["sample", "show", "--days", "3", "--company", "乙客运", "--json"]),
    ("transport", ["problems", "list"]),
    ("police", ["problems", "list", "--state", "rectified", "--company", "甲运输", "--overdue", "--json"]),
    ("transport", ["inspect", "list"]),
    ("police", ["inspect", "list", "--month", "2026-10", "--voided", "--json"]),
    ("transport", ["inspect", "list", "--company", "甲运输", "--json"]),
    ("police", ["drivers", "list"]),
    ("transport", ["drivers", "list", "--company", "乙客运", "--limit", "5", "--json"]),
    ("admin", ["audit", "log"]),
    ("admin", ["audit", "log", "--action", "finding.confirm", "--limit", "5", "--json"]),
    ("admin", ["jobs", "list"]),
    ("police", ["jobs", "list", "--json"]),
]


def run_probe(url: str, user: str, args: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", PROBE, "--db", url, "--as", user, "--lang", "zh", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(("user", "args"), READS, ids=[" ".join(a) for _, a in READS])
def test_a_read_command_imports_no_orm(world, sqlite_url, user, args):
    done = run_probe(sqlite_url, user, args)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip(), "the command printed nothing"
    heavy = done.stderr.rsplit("HEAVY=", 1)[1].strip()
    assert heavy == "", f"{' '.join(args)} imported {heavy}"


def test_the_probe_sees_the_orm_when_a_command_uses_it(world, sqlite_url):
    """The check above can fail: a write command does import the ORM."""
    done = run_probe(sqlite_url, "admin", ["db", "upgrade"])
    assert done.returncode == 0, done.stderr
    assert "sqlalchemy" in done.stderr.rsplit("HEAVY=", 1)[1]


def test_a_database_behind_the_code_is_migrated_then_read(tmp_path):
    """A database at an older schema is not read directly: it is migrated through the ORM first."""
    from listing.store.db import current_revision, head_revision, open_store, upgrade

    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    store = open_store(url, migrate=False)
    upgrade(store.engine, "0002")
    store.engine.dispose()
    done = subprocess.run([sys.executable, "main.py", "--db", url, "--as", "nobody", "listing", "list"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "nobody" in done.stderr  # an unknown user, on a migrated database
    store = open_store(url, migrate=False)
    assert current_revision(store.engine) == head_revision()
    store.engine.dispose()


@pytest.mark.postgres
def test_read_commands_answer_alike_on_postgresql(world, sqlite_url, pg_url):
    """The same SQL runs on PostgreSQL (through psycopg, without the ORM there too): the city built
    on both stores reads the same in every read command's JSON."""
    from listing.store.db import open_store
    from tests.cli.world import build

    store = open_store(pg_url)
    build(store)
    store.engine.dispose()
    differ = []
    for user, args in [(u, a) for u, a in READS if "--json" in a]:
        on_sqlite, on_pg = run_probe(sqlite_url, user, args), run_probe(pg_url, user, args)
        assert on_pg.returncode == 0, on_pg.stderr
        assert on_pg.stderr.rsplit("HEAVY=", 1)[1].strip() == "", f"{' '.join(args)} imported the ORM on PostgreSQL"
        if on_pg.stdout != on_sqlite.stdout and args[:2] != ["db", "status"]:  # that one names the store
            differ.append(" ".join(args))
    assert differ == []
