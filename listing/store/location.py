"""Where the store lives and which schema the code expects, without SQLAlchemy: the read
commands (listing.store.reader) need both and must not pay for importing the ORM."""
from __future__ import annotations

import functools
import os
import re
from pathlib import Path

MIGRATIONS = Path(__file__).with_name("migrations")
BUSY_TIMEOUT = 30.0  # seconds a SQLite writer waits for another writer's lock (GUAPAI_SQLITE_BUSY_TIMEOUT)


def busy_timeout() -> float:
    """How long (seconds) a SQLite writer queues behind another writer before giving up."""
    value = os.environ.get("GUAPAI_SQLITE_BUSY_TIMEOUT", "").strip()
    try:
        return max(0.0, float(value)) if value else BUSY_TIMEOUT
    except ValueError:
        return BUSY_TIMEOUT


def default_url() -> str:
    """A SQLite file in the user's data directory, created on first use."""
    from platformdirs import user_data_dir

    folder = Path(user_data_dir("guapai", appauthor=False))
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'guapai.sqlite'}"


def normalise(url: str) -> str:
    if url.startswith(("postgres://", "postgresql://")):  # use psycopg 3, the maintained driver
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def chosen_url(url: str | None) -> str:
    """--db, else GUAPAI_DATABASE_URL, else the default SQLite file; postgres:// as psycopg's."""
    return normalise(url or os.environ.get("GUAPAI_DATABASE_URL") or default_url())


@functools.cache
def declared_head() -> str | None:
    """The newest revision the migration files declare, read as text: importing alembic (and
    through it mako and pygments) to learn it would cost every read command about a third of
    its start-up. None when the files do not say it plainly (then alembic is asked)."""
    revisions, parents = set(), set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        rev = re.search(r"""^revision\s*(?::[^=]+)?=\s*["']([^"']+)["']\s*$""", text, re.M)
        down = re.search(r"^down_revision\s*(?::[^=]+)?=\s*(.+)$", text, re.M)
        if rev is None or down is None:
            return None
        revisions.add(rev.group(1))
        parents.update(re.findall(r"""["']([^"']+)["']""", down.group(1)))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


