"""SQLite locked by a second writer (another process holding BEGIN IMMEDIATE) during a CLI
import. Briefly: the import queues on the lock and completes. Longer than the busy timeout
(GUAPAI_SQLITE_BUSY_TIMEOUT, seconds): one clear line in the officer's language, exit code 5
(conflict: someone else was writing; nothing was changed; retry), no traceback, nothing
written; the retry succeeds."""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CSV = ("统一社会信用代码,企业名称,业务类型,辖区\n"
       "91330106MA27Y5XH8W,杭州甲运输有限公司,货运,西湖区\n"
       "91110000600037341L,杭州乙客运有限公司,客运,上城区\n")
HOLDER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
conn.execute("UPDATE audit_head SET seq = seq")  # a write in flight, never committed
print("locked", flush=True)
sys.stdin.readline()
conn.execute("ROLLBACK")
"""


@pytest.fixture
def world(tmp_path):
    path = tmp_path / "guapai.sqlite"
    url = f"sqlite:///{path}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("GUAPAI_")} | {"GUAPAI_LANG": "en"}
    for args in (["users", "add", "admin", "--role", "admin", "--department", "x", "--jurisdiction", "*"],
                 ["--as", "admin", "users", "add", "li", "--role", "transport", "--department", "运管", "--jurisdiction", "*"]):
        subprocess.run([sys.executable, "main.py", "--db", url, *args], cwd=ROOT, env=env, check=True, capture_output=True)
    csv = tmp_path / "企业.csv"
    csv.write_text(CSV, encoding="utf-8")
    return path, url, env, csv


class Holder:
    """Another process holding SQLite's write lock until released."""

    def __init__(self, path: Path):
        self.proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(path)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout.readline().strip() == "locked"

    def release(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.write("\n")
            self.proc.stdin.flush()
            self.proc.wait(timeout=30)
            assert self.proc.returncode == 0


def _import(url, env, csv, *, timeout: float, lang="en", wait=True):
    cmd = [sys.executable, "main.py", "--db", url, "--as", "li", "--lang", lang, "import", "companies", str(csv)]
    env = env | {"GUAPAI_SQLITE_BUSY_TIMEOUT": str(timeout)}
    if wait:
        return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _state(path: Path):
    with sqlite3.connect(path) as conn:
        return (conn.execute("SELECT uscc FROM company ORDER BY uscc").fetchall(),
                conn.execute("SELECT seq, action FROM audit_event ORDER BY seq").fetchall(),
                conn.execute("SELECT seq, hash FROM audit_head").fetchall())


def _has_open(pid: int, path: Path) -> bool:
    try:
        return any(os.readlink(f"/proc/{pid}/fd/{fd}") == str(path) for fd in os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return False


def test_an_import_queues_behind_a_brief_writer_and_completes(world):
    path, url, env, csv = world
    holder = Holder(path)
    try:
        proc = _import(url, env, csv, timeout=120, wait=False)
        while proc.poll() is None and not _has_open(proc.pid, path):  # the import has opened the store ...
            time.sleep(0.05)
        time.sleep(0.5)  # ... and reached the lock (pacing only; nothing below depends on timing)
        waiting = proc.poll() is None
        assert _state(path)[0] == []
        holder.release()
        out, err = proc.communicate(timeout=120)
    finally:
        holder.release()
    assert waiting, "the import did not wait for the lock"
    assert proc.returncode == 0, err
    companies, events, _ = _state(path)
    assert [u for u, in companies] == ["91110000600037341L", "91330106MA27Y5XH8W"]
    assert [a for _, a in events].count("import.companies") == 1


@pytest.mark.parametrize("lang,words", [("en", "is busy: another program is writing"), ("zh", "数据库正忙")])
def test_an_import_locked_out_past_the_busy_timeout_fails_in_one_line_then_the_retry_succeeds(world, lang, words):
    path, url, env, csv = world
    before = _state(path)
    holder = Holder(path)
    try:
        failed = _import(url, env, csv, timeout=0.3, lang=lang)
    finally:
        holder.release()
    assert failed.returncode == 5, failed.stderr
    lines = failed.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0] and ("0.3" in lines[0]), failed.stderr
    assert "Traceback" not in failed.stderr and failed.stdout == ""
    assert _state(path) == before  # nothing written, the holder's write rolled back too

    retried = _import(url, env, csv, timeout=0.3, lang=lang)
    assert retried.returncode == 0, retried.stderr
    companies, events, _ = _state(path)
    assert len(companies) == 2 and [a for _, a in events].count("import.companies") == 1
