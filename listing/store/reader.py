"""Reading the store without SQLAlchemy, so that a read command answers in under half a second.

Importing SQLAlchemy and SQLModel alone costs a read command more than its whole budget (issue 16),
so the read commands open a plain DB-API connection (the standard library's sqlite3, or psycopg
for PostgreSQL) and run SQL written next to the service that needs it. Writes, the schema and its
migrations stay with the ORM: a database that is new, or behind the code's schema, is opened once
through the ORM (which migrates it) and read through that session.

A `Query` is SQL with `:name` parameters (a list or tuple expands to `(:name_0, :name_1, ...)`
for `IN :name`) and the types of the result columns that SQLite hands back as text (dates, times,
JSON) or integers (booleans); PostgreSQL hands them back typed. Times come back as the ORM gives
them (aware, in UTC). Parameters are bound as the ORM stores them (SQLite: ISO text, times in UTC
with microseconds), so comparisons agree with what the ORM wrote. `Reader.of(session)` runs the same queries inside an ORM session (the terminal, the tests):
one query serves both.
"""
from __future__ import annotations

import datetime as dt
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from listing.store.location import busy_timeout, chosen_url, declared_head
from messages.errors import GuapaiError, StoreBusy

DATE, TIME, BOOL, JSON = "date", "time", "bool", "json"

_PARAM = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


def _json(value):
    """JSON text as stored by the ORM (Python's json, which may write NaN or Infinity: orjson
    refuses those, the standard library reads them)."""
    if not isinstance(value, (str, bytes)):
        return value
    import orjson

    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError:
        import json

        return json.loads(value)


def _time(value):
    """A time as the ORM returns it (SQLModel's UTCDateTime): aware, in UTC. SQLite stores UTC
    without an offset; PostgreSQL's timestamptz comes back in the session's time zone."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value is None:
        return None
    return value.replace(tzinfo=dt.timezone.utc) if value.utcoffset() is None else value.astimezone(dt.timezone.utc)


_FROM_SQLITE: dict[str, Callable[[Any], Any]] = {
    DATE: lambda v: dt.date.fromisoformat(v) if isinstance(v, str) else v,
    TIME: _time,
    BOOL: lambda v: None if v is None else bool(v),
    JSON: _json,
}
_FROM_POSTGRESQL: dict[str, Callable[[Any], Any]] = {TIME: _time}  # the rest comes back typed


@dataclass(frozen=True)
class Query:
    """SQL with `:name` parameters, and the types of its result columns (see the module's text)."""

    sql: str
    types: dict[str, str] = field(default_factory=dict)


def query(sql: str, **types: str) -> Query:
    return Query(sql, types)


class Row(dict):
    """A result row: a dict whose keys are the query's column names, also readable as attributes."""

    __slots__ = ()

    def __getattr__(self, name: str):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def _sqlite_param(value):
    """As the ORM stores it on SQLite: dates as ISO text, times in UTC with microseconds, booleans as 0/1."""
    if isinstance(value, dt.datetime):
        if value.utcoffset() is not None:
            value = value.astimezone(dt.timezone.utc)
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    return value


def _bind(sql: str, params: dict[str, Any], dialect: str) -> tuple[str, dict[str, Any]]:
    """`IN :name` with a list expanded, None written as NULL, and the SQL in the driver's own
    parameter style."""
    bound: dict[str, Any] = {}

    def one(match: re.Match) -> str:
        name = match.group(1)
        if name not in params:
            raise KeyError(f"query parameter :{name} not given")
        value = params[name]
        if value is None:
            return "NULL"  # `:x IS NULL OR ...` then needs no parameter type (PostgreSQL asks for one)
        if isinstance(value, (list, tuple, set, frozenset)):
            names = [f"{name}_{i}" for i in range(len(value))]
            bound.update(zip(names, value))
            return "(" + ", ".join(_style(n, v, dialect) for n, v in zip(names, value)) + ")" if names else "(NULL)"
        bound[name] = value
        return _style(name, value, dialect)

    if dialect == "postgresql":
        sql = sql.replace("%", "%%")
    sql = _PARAM.sub(one, sql)
    if dialect == "sqlite":
        bound = {k: _sqlite_param(v) for k, v in bound.items()}
    return sql, bound


def _style(name: str, value, dialect: str) -> str:
    """The placeholder in the driver's style; on PostgreSQL a string is sent as text (psycopg sends
    it untyped, and `$1 IS NULL` cannot be planned with an untyped parameter)."""
    if dialect != "postgresql":
        return f":{name}"
    return f"%({name})s::text" if isinstance(value, str) else f"%({name})s"


class Reader:
    """Runs `Query`s on one connection, in one read-only transaction (a consistent snapshot)."""

    def __init__(self, execute: Callable[[str, dict], tuple[list[str], list[tuple]]], dialect: str, url: str | None = None):
        self._execute, self.dialect, self.url = execute, dialect, url

    @classmethod
    def of(cls, db: "Reader | Any") -> "Reader":
        """`db` itself when it is a Reader; else a Reader over an ORM session's connection."""
        if isinstance(db, Reader):
            return db
        conn = db.connection()

        def execute(sql: str, params: dict) -> tuple[list[str], list[tuple]]:
            result = conn.exec_driver_sql(sql, params)  # SQLAlchemy always has psycopg substitute
            return list(result.keys()), [tuple(r) for r in result.fetchall()]

        return cls(execute, conn.dialect.name)

    def rows(self, q: Query, **params) -> list[Row]:
        sql, bound = _bind(q.sql, params, self.dialect)
        names, tuples = self._execute(sql, bound)
        rows = [Row(zip(names, t)) for t in tuples]
        converters = _FROM_SQLITE if self.dialect == "sqlite" else _FROM_POSTGRESQL
        for name, kind in q.types.items():
            convert = converters.get(kind)
            if convert is None:
                continue
            for row in rows:
                if name in row:
                    row[name] = convert(row[name])
        return rows

    def first(self, q: Query, **params) -> Row | None:
        rows = self.rows(q, **params)
        return rows[0] if rows else None

    def scalar(self, q: Query, **params):
        row = self.first(q, **params)
        return None if row is None else next(iter(row.values()))


def hide_password(url: str) -> str:
    return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", url)


def _sqlite_path(url: str) -> Path | None:
    """The file of a `sqlite:///...` URL; None for an in-memory database."""
    rest = re.sub(r"^sqlite(\+\w+)?:///", "", url, count=1)
    if rest == url:
        return None
    rest = rest.split("?", 1)[0]
    return None if rest in ("", ":memory:") else Path(rest)


def _direct_sqlite(url: str) -> tuple[Reader, Callable[[], None]] | None:
    import sqlite3

    path = _sqlite_path(url)
    if path is None or not path.is_file():
        return None  # a new database: the ORM creates and migrates it
    conn = sqlite3.connect(str(path), timeout=busy_timeout(), isolation_level=None, check_same_thread=False)

    def execute(sql: str, params: dict) -> tuple[list[str], list[tuple]]:
        try:
            cur = conn.execute(sql, params)
        except sqlite3.OperationalError as exc:
            if getattr(exc, "sqlite_errorcode", None) in (5, 6) or "locked" in str(exc):
                raise StoreBusy("err.db_busy", url=hide_password(url), seconds=f"{busy_timeout():g}") from None
            raise
        return [d[0] for d in cur.description or ()], cur.fetchall()

    try:
        conn.execute("BEGIN")  # deferred: a snapshot for every query of the command, no write lock
    except sqlite3.OperationalError:
        conn.close()
        return None

    def close() -> None:
        conn.execute("ROLLBACK")
        conn.close()

    return Reader(execute, "sqlite", url), close


def _direct_postgresql(url: str) -> tuple[Reader, Callable[[], None]]:
    import psycopg

    conninfo = re.sub(r"^postgres(ql)?(\+\w+)?://", "postgresql://", url, count=1)
    try:
        conn = psycopg.connect(conninfo)
    except psycopg.OperationalError as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise GuapaiError("err.db_unreachable", url=hide_password(url), reason=hide_password(reason)) from None
    conn.read_only = True

    def execute(sql: str, params: dict) -> tuple[list[str], list[tuple]]:
        if not params:  # without parameters psycopg takes the text as it is: no doubled %
            sql, params = sql.replace("%%", "%"), None
        try:
            cur = conn.execute(sql, params)
        except psycopg.OperationalError as exc:
            reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise GuapaiError("err.db_connection_lost", url=hide_password(url), reason=reason) from None
        return [d.name for d in cur.description or ()], cur.fetchall()

    def close() -> None:
        conn.rollback()
        conn.close()

    return Reader(execute, "postgresql", url), close


_REVISION = query("SELECT version_num FROM alembic_version")


@contextmanager
def reading(url: str | None = None, *, migrate: bool = True) -> Iterator[Reader]:
    """A Reader on the store chosen by `url` (--db, GUAPAI_DATABASE_URL or the default file).
    Directly through the driver when the database is at the code's schema; otherwise through
    the ORM, which creates or migrates it first (what every command did before). `migrate=False`
    reads a database at whatever schema it is (`db status`)."""
    url = chosen_url(url)
    direct = None
    if url.startswith("sqlite"):
        direct = _direct_sqlite(url)
    elif url.startswith("postgres"):
        direct = _direct_postgresql(url)
    if direct is not None:
        reader, close = direct
        head = declared_head()
        if not migrate or (head is not None and revision(reader) == head):
            try:
                yield reader
            finally:
                close()
            return
        close()
    from listing.store.db import open_store

    with open_store(url, migrate=migrate).session(readonly=True) as session:
        reader = Reader.of(session)
        reader.url = url
        yield reader


def revision(reader: Reader) -> str | None:
    """The schema revision alembic recorded (None: a new database)."""
    try:
        return reader.scalar(_REVISION)
    except GuapaiError:
        raise
    except Exception:  # noqa: BLE001 - no version table yet: a new database
        return None
