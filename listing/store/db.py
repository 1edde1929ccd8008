"""Opening the store: SQLite by default, PostgreSQL for several users; schema by alembic."""
from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, create_engine

from listing.errors import GuapaiError
from listing.i18n import register

register(
    {
        "err.db_url": ("数据库地址无法识别:{url}(支持 sqlite:/// 与 postgresql+psycopg://)", "unsupported database URL: {url} (use sqlite:/// or postgresql+psycopg://)"),
        "err.db_unreachable": ("无法连接数据库 {url}:{reason}", "cannot reach the database {url}: {reason}"),
        "msg.db_upgraded": ("数据库已升级到 {rev}", "database upgraded to {rev}"),
        "msg.db_current": ("数据库结构已是最新({rev})", "database schema is current ({rev})"),
    }
)

MIGRATIONS = Path(__file__).with_name("migrations")


def default_url() -> str:
    """A SQLite file in the user's data directory, created on first use."""
    from platformdirs import user_data_dir

    folder = Path(user_data_dir("guapai", appauthor=False))
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'guapai.sqlite'}"


def _normalise(url: str) -> str:
    if url.startswith(("postgres://", "postgresql://")):  # use psycopg 3, the maintained driver
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url: str) -> Engine:
    url = _normalise(url)
    try:
        parsed = make_url(url)
    except Exception:
        raise GuapaiError("err.db_url", url=url) from None
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})
        _sqlite_pragmas(engine)
        return engine
    if parsed.get_backend_name() == "postgresql":
        return create_engine(url, pool_pre_ping=True)
    raise GuapaiError("err.db_url", url=url)


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
    from alembic.script import ScriptDirectory

    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(cfg).get_current_head()


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> str:
    from alembic import command

    command.upgrade(_alembic_config(engine), revision)
    return current_revision(engine) or ""


def open_store(url: str | None = None, *, migrate: bool = True) -> Store:
    """Open (and, by default, migrate to the current schema) the store at `url`."""
    url = _normalise(url or os.environ.get("GUAPAI_DATABASE_URL") or default_url())
    engine = make_engine(url)
    if migrate:
        try:
            current = current_revision(engine)
        except Exception as exc:  # connection refused, bad credentials, ...
            raise GuapaiError("err.db_unreachable", url=engine.url.render_as_string(hide_password=True), reason=str(exc).splitlines()[0]) from None
        if current != head_revision():
            upgrade(engine)
    return Store(engine=engine, url=url)


register({"col.db_url": ("数据库", "database"), "col.revision": ("当前版本", "revision"), "col.head": ("最新版本", "head")})
