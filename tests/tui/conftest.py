"""The interactive board, headless (Textual's Pilot), on the terminal tests' small city; and the
same board served to a browser (`guapai tui --serve`) on a free port of 127.0.0.1."""
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.cli.world import world  # noqa: F401 - the fixture

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served(world, sqlite_url):
    """`guapai --as reviewer tui --serve` on the world's store: its URL once it answers. The
    server runs in a session of its own, so the apps it starts for each browser stop with it."""
    import httpx

    port = free_port()
    env = dict(os.environ, GUAPAI_LANG="en")
    proc = subprocess.Popen([sys.executable, "main.py", "--db", sqlite_url, "--as", "reviewer", "tui", "--serve",
                             "--port", str(port)], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(url, timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"textual-serve did not answer: {proc.stderr.read().decode() if proc.poll() is not None else ''}")
            time.sleep(0.2)
        yield url
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
