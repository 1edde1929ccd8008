"""Read commands start fast: the schema check on a current database is one query and does not
import alembic (with mako and pygments, a third of a read command's start-up); a database that is
not current still migrates; `sample show` without a date shows the most recent sampled day, not
every sample ever taken. (Timings are in benchmarks/read_bench.py, not here.)"""
from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

from sqlmodel import select

from listing.store import tables
from listing.store.db import alembic_head, declared_head, head_revision, open_store
from tests.conftest import actor
from tests.cli.world import world  # noqa: F401 - the fixture (a small city with a finding and a review)
from tests.scenario import listed_company, local

ROOT = Path(__file__).resolve().parents[2]


def test_the_declared_head_is_alembics_head():
    assert declared_head() == alembic_head() == head_revision()


def test_opening_a_current_store_does_not_import_alembic(tmp_path):
    url = f"sqlite:///{tmp_path / 'g.sqlite'}"
    open_store(url).engine.dispose()  # created and migrated (alembic runs here)
    probe = "import sys; from listing.store.db import open_store; open_store(sys.argv[1]); print('alembic' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe, url], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_a_store_behind_the_files_is_still_migrated(tmp_path):
    from listing.store.db import current_revision, upgrade

    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    store = open_store(url, migrate=False)
    upgrade(store.engine, "0002")
    assert current_revision(store.engine) == "0002"
    store.engine.dispose()
    store = open_store(url)
    assert current_revision(store.engine) == head_revision()
    store.engine.dispose()


def test_sample_show_without_a_date_is_the_most_recent_sampled_day(people):
    from listing.services import sampling

    cid, lid, vids = listed_company(people, local(2026, 10, 1), vehicles=4)
    with people.session() as s:
        for day in range(1, 31):
            for rank, vid in enumerate(vids[:2]):
                s.add(tables.Sample(day=dt.date(2026, 10, day), company_id=cid, listing_id=lid, vehicle_id=vid, rank=rank,
                                    status="scanned"))
    with people.session(readonly=True) as s:
        police = actor(people, "police")
        latest = sampling.show(s, police, None, None)
        two = sampling.show(s, police, None, None, days=2)
        one_day = sampling.show(s, police, dt.date(2026, 10, 7), None)
        total = len(s.exec(select(tables.Sample.id)).all())
    assert total == 60
    assert [r["day"] for r in latest] == [dt.date(2026, 10, 30)] * 2
    assert {r["day"] for r in two} == {dt.date(2026, 10, 30), dt.date(2026, 10, 29)} and len(two) == 4
    assert {r["day"] for r in one_day} == {dt.date(2026, 10, 7)}


def test_a_header_registered_beside_heavy_code_does_not_import_it():
    """col.vehicle is registered in rules/trajectory (polars, numpy): `findings list` and
    `users list` used to import every module of the product to find their headers."""
    probe = ("import sys; from messages import t; print(t('col.vehicle', 'zh'), t('col.db_role', 'en'),"
             " 'polars' in sys.modules, 'numpy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    from messages import t

    assert out.stdout.split() == [t("col.vehicle", "zh"), *t("col.db_role", "en").split(), "False", "False"]


def test_users_list_imports_neither_polars_nor_alembic(tmp_path):
    url = f"sqlite:///{tmp_path / 'u.sqlite'}"
    probe = ("import sys, main; from typer.testing import CliRunner; r = CliRunner();"
             "r.invoke(main.app, ['--db', sys.argv[1], 'users', 'add', 'admin', '--role', 'admin', '--department', 'x', '--jurisdiction', '*']);"
             "[m for m in list(sys.modules) if m.startswith(('polars', 'alembic')) and sys.modules.pop(m)];"
             "out = r.invoke(main.app, ['--db', sys.argv[1], '--as', 'admin', 'users', 'list']);"
             "print(out.exit_code, sorted({m.split('.')[0] for m in sys.modules} & {'polars', 'numpy', 'alembic', 'httpx'}))")
    out = subprocess.run([sys.executable, "-c", probe, url], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "0 []", out.stdout + out.stderr


HEAVY = {"polars", "numpy", "pyarrow", "pandas", "matplotlib", "numba", "textual", "alembic", "jinja2", "xlsxwriter",
         "openpyxl", "shapely", "dask", "duckdb"}


def _read_commands(ids: dict) -> list[tuple[str, list[str]]]:
    """What officers read every day, with the user who reads it (each runs in a fresh process).
    Not here: `review show` and `company show`, which evaluate the listing criteria over the cycle
    (rules/criteria/evaluate.py, in polars: one implementation for one company and for a province)."""
    return [
        ("reviewer", ["listing", "list"]), ("reviewer", ["listing", "list", "--json"]), ("reviewer", ["board"]),
        ("reviewer", ["todo"]),
        ("police", ["findings", "list"]), ("police", ["findings", "show", str(ids["finding"])]),
        ("police", ["sample", "show"]), ("police", ["sample", "show", "--json"]), ("police", ["sample", "show", "--date", "2026-11-22"]),
        ("transport", ["problems", "list"]), ("transport", ["inspect", "list"]), ("admin", ["users", "list"]),
        ("admin", ["audit", "log"]), ("admin", ["db", "status"]), ("police", ["drivers", "list"]),
    ]


def test_read_commands_import_nothing_heavy(world, sqlite_url):
    """Each read command, in a process of its own as an officer runs it, in Chinese and English:
    no dataframe, plotting, compiler, terminal-app, template, spreadsheet or migration library
    (they are what made `sample show` take seconds). What each command imports beyond that is
    measured in benchmarks/read_bench.py."""
    probe = ("import sys, json, main; from typer.testing import CliRunner;"
             "out = CliRunner().invoke(main.app, json.loads(sys.argv[1]));"
             "print(json.dumps([out.exit_code, sorted({m.split('.')[0] for m in sys.modules} & set(json.loads(sys.argv[2])))]))")
    import json

    seen = {}
    for n, (user, args) in enumerate(_read_commands(world)):
        lang = "zh" if n % 2 else "en"
        argv = ["--db", sqlite_url, "--as", user, "--lang", lang, *args]
        done = subprocess.run([sys.executable, "-c", probe, json.dumps(argv), json.dumps(sorted(HEAVY))], cwd=ROOT,
                              capture_output=True, text=True, env={"PATH": "/usr/bin:/bin", "COLUMNS": "120"})
        code, heavy = json.loads(done.stdout.strip().splitlines()[-1])
        seen[" ".join(args)] = (code, heavy)
    assert {k: v for k, v in seen.items() if v != (0, [])} == {}
