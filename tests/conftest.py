"""Shared fixtures: a migrated SQLite store per test, and the same on PostgreSQL when the
server on 127.0.0.1:5432 is reachable (otherwise those tests are skipped, and say why)."""
from __future__ import annotations

import datetime as dt
import os
import uuid

import pytest

_SEED = pytest.StashKey[int]()

PG_ADMIN_URL = os.environ.get("GUAPAI_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
NOW = dt.datetime(2026, 11, 24, 2, 0, tzinfo=dt.timezone.utc)  # 10:00 in Hangzhou


def _pg_reachable() -> str | None:
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL.replace("+psycopg", ""), connect_timeout=3):
            return None
    except Exception as exc:  # noqa: BLE001 - any failure means: no server for these tests
        return f"PostgreSQL not reachable at {PG_ADMIN_URL}: {str(exc).splitlines()[0]}"


_PG_SKIP = _pg_reachable()


def pytest_configure(config):
    """Property tests never flake on a loaded machine and always say how to replay them: no
    deadline (their time depends on the machine, not on the code), the failing example's blob
    printed, and one seed per run, chosen here unless --hypothesis-seed is given and printed at
    the end of every run that failed."""
    import random

    from hypothesis import core, settings

    settings.register_profile("guapai", deadline=None, print_blob=True)
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "guapai"))
    seed = config.getoption("hypothesis_seed", None)
    if seed is None:
        seed = random.SystemRandom().randrange(2**32)
        core.global_force_seed = seed
    config.stash[_SEED] = seed


def pytest_report_header(config):
    return f"hypothesis seed: {config.stash[_SEED]}"


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if exitstatus != 0:
        seed = config.stash[_SEED]
        terminalreporter.write_line(f"hypothesis seed of this run: {seed} (replay: pytest --hypothesis-seed={seed})")


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'guapai.sqlite'}"


@pytest.fixture
def pg_url():
    """A fresh PostgreSQL database for one test, dropped afterwards."""
    if _PG_SKIP:
        pytest.skip(_PG_SKIP)
    import psycopg

    name = f"guapai_test_{uuid.uuid4().hex[:10]}"
    admin = PG_ADMIN_URL.replace("+psycopg", "")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    yield url

    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request, tmp_path):
    """Run the test on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'guapai.sqlite'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def store(db_url):
    from listing.store.db import open_store

    s = open_store(db_url)
    yield s
    s.engine.dispose()


@pytest.fixture
def people(store):
    """The usual cast: a city admin, police and transport officers, a reviewer, a district officer."""
    from listing.services.users import add_user

    with store.session() as session:
        add_user(session, None, "admin", "admin", "信息中心", "*", now=NOW)
        add_user(session, "admin", "police", "police", "交警支队", "*", now=NOW)
        add_user(session, "admin", "transport", "transport", "运管处", "*", now=NOW)
        add_user(session, "admin", "reviewer", "reviewer", "交安委", "*", now=NOW)
        add_user(session, "admin", "xihu", "transport", "西湖运管所", "西湖区", now=NOW)
    return store


def actor(store, name):
    from listing.services.users import resolve_actor

    with store.session(readonly=True) as session:
        return resolve_actor(session, name)
