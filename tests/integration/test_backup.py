"""Backup and restore: every table's rows come back identical (SQLite, and PostgreSQL where
pg_dump is installed)."""
import shutil

import pytest
from sqlalchemy import inspect, text

from listing.services import backup
from listing.services.demo import build_city
from listing.simulation.city import CityPlan
from listing.store.db import open_store
from messages.errors import GuapaiError
from tests.conftest import NOW


def dump(store):
    with store.engine.connect() as conn:
        tables = [t for t in inspect(conn).get_table_names() if t != "alembic_version"]
        return {t: sorted(map(tuple, conn.execute(text(f'SELECT * FROM "{t}"')).fetchall()), key=repr) for t in tables}


def test_backup_and_restore_round_trip(db_url, tmp_path, request):
    if db_url.startswith("postgresql") and shutil.which("pg_dump") is None:
        pytest.skip("pg_dump not installed")
    store = open_store(db_url)
    build_city(store, seed=4, as_of=NOW.date(), now=NOW, plan=CityPlan(companies=20, mean_fleet=4))
    before = dump(store)
    path = backup.backup(store, tmp_path / "b.bak")
    if db_url.startswith("sqlite"):
        target = open_store(f"sqlite:///{tmp_path / 'restored.sqlite'}", migrate=False)
    else:  # a second, empty database beside the test's own
        import uuid

        import psycopg

        from tests.conftest import PG_ADMIN_URL

        name = f"guapai_restore_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(PG_ADMIN_URL.replace("+psycopg", ""), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        request.addfinalizer(lambda: _drop(name))
        target = open_store(PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}", migrate=False)
    with pytest.raises(GuapaiError):
        backup.restore(store, path)  # the source is not empty: refused without --force
    backup.restore(target, path, force=True)
    assert dump(target) == before and sum(len(v) for v in before.values()) > 100


def _drop(name):
    import psycopg

    from tests.conftest import PG_ADMIN_URL

    with psycopg.connect(PG_ADMIN_URL.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
