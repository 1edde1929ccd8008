"""The one mapping from store failures to officer-facing errors (listing.store.db.store_error):
which driver errors count as a lost connection or a busy file, the exit codes, and that no
password from the URL ever reaches the message."""
from __future__ import annotations

import sqlite3

import psycopg
import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from listing.store.db import store_error
from messages.errors import GuapaiError, StoreBusy

PG = "postgresql+psycopg://officer:s3cret-pw@db.example:5432/guapai"


def _wrap(orig, cls=OperationalError):
    return cls("SELECT secret_column FROM t WHERE pw = %(pw)s", {"pw": "param-value"}, orig)


@pytest.mark.parametrize("orig", [
    psycopg.OperationalError("consuming input failed: server closed the connection unexpectedly"),
    psycopg.OperationalError('connection failed: connection to server at "10.0.0.1" failed: password s3cret-pw rejected'),
    psycopg.errors.AdminShutdown("terminating connection due to administrator command"),
    psycopg.errors.CannotConnectNow("the database system is starting up"),
], ids=["closed", "refused", "admin-shutdown", "starting-up"])
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_lost_postgres_connection_is_one_clear_error_without_password_or_sql(orig, lang):
    mapped = store_error(_wrap(orig), PG)
    assert type(mapped) is GuapaiError and mapped.exit_code == 1 and mapped.key == "err.db_connection_lost"
    text = mapped.message(lang)
    assert "s3cret-pw" not in text and "param-value" not in text and "SELECT" not in text
    assert "officer:***@db.example" in text and "\n" not in text


def test_a_locked_sqlite_file_is_a_conflict_naming_the_busy_timeout(monkeypatch):
    monkeypatch.setenv("GUAPAI_SQLITE_BUSY_TIMEOUT", "2.5")
    mapped = store_error(_wrap(sqlite3.OperationalError("database is locked")), "sqlite:////tmp/x.sqlite")
    assert isinstance(mapped, StoreBusy) and mapped.exit_code == 5
    assert "2.5 s" in mapped.message("en") and "2.5 秒" in mapped.message("zh")


@pytest.mark.parametrize("exc", [
    _wrap(psycopg.errors.SerializationFailure("could not serialize access")),
    _wrap(psycopg.errors.UniqueViolation("duplicate key"), IntegrityError),
    _wrap(sqlite3.OperationalError("no such table: company")),
    KeyError("not a store error"),
], ids=["serialization", "unique", "sqlite-schema", "other"])
def test_other_failures_are_not_mistaken_for_a_lost_or_busy_store(exc):
    assert store_error(exc, PG) is None
