"""What the read commands show, read without the ORM (listing.store.reader): each function takes a
Reader or an ORM session, and no module here imports SQLAlchemy, SQLModel, polars or numpy at the
top (tests/cli/test_read_imports.py runs every read command and checks)."""
