"""The migrations build exactly the schema the tables declare (no forgotten migration)."""
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel

import listing.store.tables  # noqa: F401
from listing.store.db import current_revision, head_revision


def test_migrated_schema_matches_the_tables(store):
    assert current_revision(store.engine) == head_revision()
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), SQLModel.metadata)
    assert diff == []
