"""Backups: SQLite through its online backup API (consistent while others write), PostgreSQL
through its own pg_dump / pg_restore. Restore refuses a non-empty target unless forced."""
from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url

from listing.store.db import Store
from messages.errors import GuapaiError, ValidationError


def _pg_args(store: Store) -> list[str]:
    url = make_url(store.url)
    args = ["-h", url.host or "127.0.0.1", "-p", str(url.port or 5432), "-d", url.database or "postgres"]
    return args + (["-U", url.username] if url.username else [])


def _run(cmd: list[str], store: Store) -> None:
    if shutil.which(cmd[0]) is None:
        raise GuapaiError("err.backup_tool", tool=cmd[0])
    env = None
    password = make_url(store.url).password
    if password:
        import os

        env = {**os.environ, "PGPASSWORD": password}  # never on the command line
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if done.returncode:
        raise GuapaiError("err.backup_failed", reason=done.stderr.strip().splitlines()[-1][:300] if done.stderr else done.returncode)


def backup(store: Store, path: Path) -> Path:
    if store.dialect == "sqlite":
        source = sqlite3.connect(make_url(store.url).database)
        target = sqlite3.connect(path)
        with target:
            source.backup(target)
        source.close()
        target.close()
    else:
        _run(["pg_dump", "-Fc", "-f", str(path), *_pg_args(store)], store)
    return path


def restore(store: Store, path: Path, *, force: bool = False) -> None:
    from listing.services.demo import is_empty

    if not path.is_file():
        raise ValidationError("err.file_missing", path=str(path))
    if not force and not is_empty(store):
        raise GuapaiError("err.restore_not_empty")
    if store.dialect == "sqlite":
        store.engine.dispose()
        source = sqlite3.connect(path)
        target = sqlite3.connect(make_url(store.url).database)
        with target:
            source.backup(target)
        source.close()
        target.close()
    else:
        _run(["pg_restore", "--clean", "--if-exists", "--no-owner", *_pg_args(store), str(path)], store)
