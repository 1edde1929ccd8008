"""The interactive board, headless (Textual's Pilot), on the terminal tests' small city."""
from __future__ import annotations

import pytest

from tests.cli import world as world_module


@pytest.fixture
def world(sqlite_url):
    from listing.store.db import open_store

    store = open_store(sqlite_url)
    ids = world_module.build(store)
    ids["store"] = store
    yield ids
    store.engine.dispose()
