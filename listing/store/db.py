"""Opening the store: SQLite by default, PostgreSQL for several users; schema by alembic."""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, create_engine

from listing.store.location import (  # noqa: F401 - re-exported: where the store lives
    BUSY_TIMEOUT,
    MIGRATIONS,
    busy_timeout,
    chosen_url,
    declared_head,
    default_url,
    normalise as _normalise,
)
from messages.errors import GuapaiError, StoreBusy

def make_engine(url: str) -> Engine:
    url = _normalise(url)
    try:
        parsed = make_url(url)
    except Exception:
        raise GuapaiError("err.db_url", url=_shown(url)) from None
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": busy_timeout()})
        _sqlite_pragmas(engine)
        return engine
    if parsed.get_backend_name() == "postgresql":
        return create_engine(url, pool_pre_ping=True)
    raise GuapaiError("err.db_url", url=_shown(url))


def _sqlite_pragmas(engine: Engine) -> None:
    """Foreign keys on, WAL for readers beside a writer, and BEGIN IMMEDIATE so two writers
    queue on the lock instead of failing half way (the pysqlite transaction recipe)."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None  # let SQLAlchemy's BEGIN below be the only one
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn):
        # read-only units of work take no write lock, so reports never queue behind writers
        conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get("guapai_readonly") else "BEGIN IMMEDIATE")


@dataclass
class Store:
    engine: Engine
    url: str

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self, readonly: bool = False) -> Iterator[Session]:
        """One unit of work: committed on success, rolled back on any error. `readonly` units
        take no write lock on SQLite (they must not write)."""
        bind = self.engine.execution_options(guapai_readonly=True) if readonly else self.engine
        with Session(bind, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise


def _alembic_config(engine: Engine):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def head_revision() -> str:
    """The schema revision the code expects."""
    return declared_head() or alembic_head()


def alembic_head() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(cfg).get_current_head()


def _stored_revision(engine: Engine) -> str | None:
    """The revision alembic recorded, read with one query (alembic's own check imports alembic,
    mako and pygments); raises the driver's error when the table is not there or the database
    cannot be reached."""
    with engine.execution_options(guapai_readonly=True).connect() as conn:
        return conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None: a new database)."""
    try:
        return _stored_revision(engine)
    except Exception as exc:
        if _no_version_table(exc):
            return None
        raise


def upgrade(engine: Engine, revision: str = "head") -> str:
    from alembic import command

    command.upgrade(_alembic_config(engine), revision)
    return current_revision(engine) or ""


def open_store(url: str | None = None, *, migrate: bool = True) -> Store:
    """Open (and, by default, migrate to the current schema) the store at `url`."""
    url = chosen_url(url)
    engine = make_engine(url)
    if migrate:
        try:  # one query, and the head read from the files as text: no alembic import when current
            current = current_revision(engine)
        except Exception as exc:  # connection refused, bad credentials, a writer holding the lock ...
            mapped = store_error(exc, url)
            if isinstance(mapped, StoreBusy):
                raise mapped from None
            raise GuapaiError("err.db_unreachable", url=_shown(url), reason=_reason(exc, url)) from None
        if current != head_revision():
            upgrade(engine)
    return Store(engine=engine, url=url)


def _no_version_table(exc: BaseException) -> bool:
    """A new database: alembic has not recorded a revision yet (SQLite, PostgreSQL 42P01)."""
    orig = getattr(exc, "orig", None)
    return "no such table: alembic_version" in str(orig) or getattr(orig, "sqlstate", None) == "42P01"


def database_busy(exc: BaseException) -> bool:
    """SQLite's write lock was held by another connection for longer than the busy timeout."""
    from sqlalchemy.exc import OperationalError

    orig = getattr(exc, "orig", None)
    if not isinstance(exc, OperationalError) or type(orig).__module__ != "sqlite3":
        return False
    return getattr(orig, "sqlite_errorcode", None) in (5, 6) or "locked" in str(orig)  # SQLITE_BUSY, SQLITE_LOCKED


def connection_lost(exc: BaseException) -> bool:
    """The database server went away under us (restarted, crashed, network) or refuses new
    connections while it starts or stops. Not: a constraint, a serialization failure, a lock."""
    from sqlalchemy.exc import DBAPIError, OperationalError

    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    orig = exc.orig
    if isinstance(exc, OperationalError) and type(orig).__module__.startswith("psycopg"):
        state = getattr(orig, "sqlstate", None)  # None: a client-side failure (socket closed, refused)
        return state is None or state.startswith("08") or state in ("57P01", "57P02", "57P03")
    return False


def _shown(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - an unparsable URL is shown by its scheme only
        return url.split("://", 1)[0] + "://***"


def _reason(exc: BaseException, url: str) -> str:
    """The driver's own first line (not SQLAlchemy's, which carries SQL and parameters), with
    any password of the URL blanked out."""
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    reason = text[0] if text else type(exc).__name__
    try:
        password = make_url(url).password
    except Exception:  # noqa: BLE001
        password = None
    return reason.replace(password, "***") if password else reason


def store_error(exc: BaseException, url: str | None) -> GuapaiError | None:
    """The one clear error for a store failure an officer can act on (a busy SQLite file, a
    lost PostgreSQL connection), or None when `exc` is something else."""
    busy, lost = database_busy(exc), connection_lost(exc)
    if not (busy or lost):
        return None
    url = chosen_url(url)
    if busy:
        return StoreBusy("err.db_busy", url=_shown(url), seconds=f"{busy_timeout():g}")
    return GuapaiError("err.db_connection_lost", url=_shown(url), reason=_reason(exc, url))
