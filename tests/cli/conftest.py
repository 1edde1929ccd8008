"""Fixtures for the officers' terminal: a small city (tests/cli/world.py) and a CLI runner at a
fixed clock."""
from __future__ import annotations

import pytest
from typer.testing import CliRunner

from tests.cli import world as world_module
from tests.cli.world import world  # noqa: F401 - the fixture


@pytest.fixture
def run(sqlite_url, world, monkeypatch):
    """guapai at the world's clock: run("board", user="reviewer", lang="en")."""
    import main
    from cli import context

    monkeypatch.delenv("GUAPAI_USER", raising=False)
    monkeypatch.delenv("GUAPAI_PLATFORM_URL", raising=False)
    monkeypatch.setattr(context, "now", lambda: world_module.NOW)
    runner = CliRunner()

    def invoke(*args, user=None, lang="en", input=None):
        base = ["--db", sqlite_url, "--lang", lang] + (["--as", user] if user else [])
        return runner.invoke(main.app, base + list(args), input=input)

    return invoke
