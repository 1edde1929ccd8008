"""Data safety: a database made by the first released schema (alembic 0001) upgrades to the
current head, whatever head is, with every row intact, the audit chain still verifying, and the
store working as usual afterwards. The fixture (tests/data/guapai_first_release.sqlite) was built
once by tests/data/make_first_release_db.py; on PostgreSQL its rows are copied into a database
created at 0001, then upgraded the same way."""
from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
from pathlib import Path

import sqlalchemy as sa

from listing.store.db import current_revision, head_revision, make_engine, open_store, upgrade
from tests.conftest import NOW

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "guapai_first_release.sqlite"
TABLES = ["company", "vehicle", "driver", "assignment", "accident", "violation", "user", "listing", "cycle",
          "deadline", "inspection", "problem", "audit_event", "audit_head"]
UTC = dt.timezone.utc


def raw_dump(path: Path, columns: dict[str, list[str]] | None = None) -> dict[str, list[tuple]]:
    """Every row of the first release's tables, as SQLite holds them (only the 0001 columns)."""
    with sqlite3.connect(path) as conn:
        if columns is None:
            columns = {t: [r[1] for r in conn.execute(f'PRAGMA table_info("{t}")')] for t in TABLES}
        return {t: conn.execute(f'SELECT {", ".join(chr(34) + c + chr(34) for c in cols)} FROM "{t}" ORDER BY id').fetchall()
                for t, cols in columns.items()}


def _plain(value):
    if isinstance(value, dt.datetime):  # naive UTC on SQLite, aware on PostgreSQL: compare as UTC
        return value if value.tzinfo is None else value.astimezone(UTC).replace(tzinfo=None)
    return value


def typed_dump(engine, columns: dict[str, list[str]]) -> dict[str, list[tuple]]:
    """Every row through SQLAlchemy's types (dates, times, booleans, JSON), any dialect."""
    meta = sa.MetaData()
    out = {}
    with engine.connect() as conn:
        for name, cols in columns.items():
            table = sa.Table(name, meta, autoload_with=conn)
            rows = conn.execute(sa.select(*(table.c[c] for c in cols)).order_by(table.c.id)).all()
            out[name] = [tuple(_plain(v) for v in r) for r in rows]
    return out


def first_release_copy(tmp_path: Path) -> tuple[Path, dict, dict]:
    path = tmp_path / "first_release.sqlite"
    shutil.copyfile(FIXTURE, path)
    before = raw_dump(path)
    assert all(before[t] for t in TABLES), "the fixture has rows in every table"
    columns = {t: [r[1] for r in sqlite3.connect(path).execute(f'PRAGMA table_info("{t}")')] for t in TABLES}
    return path, before, columns


def works_as_usual(store) -> None:
    """Audit chain verifies, and the ordinary work goes on: a new user, an inspection, listings."""
    from listing.services import audit, inspections, listings
    from listing.services.users import add_user, resolve_actor

    with store.session() as s:
        verdict = audit.verify(s, resolve_actor(s, "admin"))
        assert (verdict.ok, verdict.checked) == (True, 12), verdict
    with store.session() as s:
        add_user(s, "admin", "sun", "police", "交警西湖大队", "西湖区", now=NOW)
    with store.session() as s:
        row = inspections.record(s, resolve_actor(s, "li"), "91330102MA2AAAAA1B", "transport", dt.date(2026, 11, 20),
                                 now=NOW, findings=["动态监控未全覆盖"], problems=[("补装终端", dt.date(2026, 12, 1))])
        assert row.listing_id == 1 and row.id == 4  # attached to the open listing; ids continue after the old rows
    with store.session(readonly=True) as s:
        shown = listings.list_listings(s, resolve_actor(s, "zhao"))
        assert [(x["id"], x["state"], x["cycle"], x["uscc"]) for x in shown] == [
            (1, "listed", 2, "91330102MA2AAAAA1B"), (2, "delisted", 1, "91330106MA27Y5XH8W"), (3, "proposed", 0, "91330109MA2BBBBB2U")]
        assert [x["state"] for x in listings.list_listings(s, resolve_actor(s, "sun"))] == ["delisted"]  # 西湖区 only
    with store.session() as s:
        verdict = audit.verify(s, resolve_actor(s, "admin"))
        assert (verdict.ok, verdict.checked) == (True, 14), verdict  # + users.add, inspection.record


def test_the_fixture_is_the_first_release():
    engine = make_engine(f"sqlite:///{FIXTURE}")
    try:
        assert current_revision(engine) == "0001"
    finally:
        engine.dispose()
    assert FIXTURE.stat().st_size < 500_000


def test_first_release_sqlite_upgrades_to_head_with_every_row_intact(tmp_path):
    path, before, columns = first_release_copy(tmp_path)
    typed_before = typed_dump(make_engine(f"sqlite:///{path}"), columns)
    store = open_store(f"sqlite:///{path}")  # migrates to head
    try:
        assert current_revision(store.engine) == head_revision() != "0001"
        assert raw_dump(path, columns) == before  # byte for byte, every row of every table
        assert typed_dump(store.engine, columns) == typed_before
        works_as_usual(store)
    finally:
        store.engine.dispose()


def test_first_release_rows_on_postgres_upgrade_to_head_intact(tmp_path, pg_url):
    path, _, columns = first_release_copy(tmp_path)
    source = make_engine(f"sqlite:///{path}")
    rows = typed_dump(source, columns)
    source.dispose()
    target = make_engine(pg_url)
    assert upgrade(target, "0001") == "0001"
    meta = sa.MetaData()
    with target.begin() as conn:
        conn.execute(sa.text("DELETE FROM audit_head"))  # 0001's genesis row: the fixture's head replaces it
        for name in TABLES:  # parents before children, as listed
            table = sa.Table(name, meta, autoload_with=conn)
            values = [{c: (v.replace(tzinfo=UTC) if isinstance(v, dt.datetime) else v) for c, v in zip(columns[name], r)}
                      for r in rows[name]]
            conn.execute(table.insert(), values)
            if name != "audit_head":  # as pg_restore would: sequences continue after the copied ids
                conn.execute(sa.text(f"SELECT setval(pg_get_serial_sequence('\"{name}\"', 'id'), (SELECT max(id) FROM \"{name}\"))"))
    target.dispose()
    store = open_store(pg_url)
    try:
        assert current_revision(store.engine) == head_revision() != "0001"
        assert typed_dump(store.engine, columns) == rows
        works_as_usual(store)
    finally:
        store.engine.dispose()
