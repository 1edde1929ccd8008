"""Alembic environment: the engine comes from guapai (listing.store.db), not from an ini file."""
from alembic import context
from sqlmodel import SQLModel

import listing.store.tables  # noqa: F401  (registers the tables on SQLModel.metadata)

config = context.config
engine = config.attributes.get("engine")
if engine is None:  # running the alembic command line: take the URL guapai would use
    from listing.store.db import default_url, make_engine
    import os

    engine = make_engine(os.environ.get("GUAPAI_DATABASE_URL") or default_url())

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # ALTER on SQLite needs batch mode
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
