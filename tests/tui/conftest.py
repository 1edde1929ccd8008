"""The interactive board, headless (Textual's Pilot), on the terminal tests' small city."""
from tests.cli.world import world  # noqa: F401 - the fixture
