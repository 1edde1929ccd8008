"""The CLI as officers use it: through typer's runner, exact outputs, exit codes, languages."""
import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import main

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def cli(sqlite_url, monkeypatch):
    monkeypatch.delenv("GUAPAI_USER", raising=False)
    runner = CliRunner()

    def run(*args, user=None, lang="en"):
        base = ["--db", sqlite_url, "--lang", lang] + (["--as", user] if user else [])
        return runner.invoke(main.app, base + list(args))

    return run


def test_help_imports_nothing_heavy():
    """`guapai --help` must stay instant: no ORM, dataframe or HTTP library at import time."""
    code = ("import sys, main; heavy = [m for m in ('sqlalchemy', 'sqlmodel', 'polars', 'numpy', 'httpx', 'alembic')"
            " if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_users_bootstrap_list_json_and_refusal(cli):
    assert cli("users", "add", "admin", "--role", "admin", "--department", "信息中心", "--jurisdiction", "*").exit_code == 0
    r = cli("users", "add", "wang", "--role", "police", "--department", "交警", "--jurisdiction", "西湖区", user="admin")
    assert r.exit_code == 0
    r = cli("users", "list", "--json", user="admin")
    assert r.exit_code == 0
    assert json.loads(r.stdout) == [
        {"name": "admin", "role": "admin", "department": "信息中心", "jurisdiction": "*", "active": True, "db_role": None},
        {"name": "wang", "role": "police", "department": "交警", "jurisdiction": "西湖区", "active": True, "db_role": None}]
    r = cli("users", "add", "li", "--role", "police", "--department", "x", "--jurisdiction", "x", user="wang")
    assert r.exit_code == 3
    assert "user wang (role police) may not users.add" in r.stderr
    r = cli("users", "add", "li", "--role", "police", "--department", "x", "--jurisdiction", "x", user="wang", lang="zh")
    assert "无权执行" in r.stderr
    assert json.loads(cli("users", "list", "--json", user="admin").stdout)[-1]["name"] == "wang"


def test_import_bad_row_then_fixed_then_again(cli, tmp_path):
    cli("users", "add", "admin", "--role", "admin", "--department", "x", "--jurisdiction", "*")
    cli("users", "add", "li", "--role", "transport", "--department", "运管", "--jurisdiction", "*", user="admin")
    path = tmp_path / "companies.csv"
    path.write_text("统一社会信用代码,企业名称,业务类型,辖区\n"
                    "91110000600037341L,杭州甲运输有限公司,货运,西湖区\n"
                    "91110000600037341A,杭州乙客运有限公司,客运,上城区\n", encoding="utf-8")
    r = cli("import", "companies", str(path), "--json", user="li")
    assert r.exit_code == 2
    out = json.loads(r.stdout)
    assert out["ok"] is False and out["inserted"] == 0
    assert [(e["row"], e["column"], e["reason"]) for e in out["errors"]] == [(3, "uscc", "id.uscc.checksum")]
    assert "expected L" in out["errors"][0]["message"]
    assert json.loads(cli("audit", "log", "--json", "--action", "import.companies", user="admin").stdout) == []
    path.write_text(path.read_text(encoding="utf-8").replace("341A,杭州乙", "341L,杭州乙").replace(
        "91110000600037341L,杭州甲", "91330106MA27Y5XH8W,杭州甲"), encoding="utf-8")
    r = cli("import", "companies", str(path), user="li")
    assert r.exit_code == 0, r.stderr
    assert "2 rows, 2 added, 0 updated, 0 unchanged" in r.stderr
    r = cli("import", "companies", str(path), user="li")
    assert "2 rows, 0 added, 0 updated, 2 unchanged" in r.stderr


def test_audit_verify_fails_after_an_edit(cli, sqlite_url):
    import sqlite3

    cli("users", "add", "admin", "--role", "admin", "--department", "x", "--jurisdiction", "*")
    cli("users", "add", "wang", "--role", "police", "--department", "x", "--jurisdiction", "*", user="admin")
    r = cli("audit", "verify", "--json", user="admin")
    assert r.exit_code == 0 and json.loads(r.stdout)["checked"] == 2
    with sqlite3.connect(sqlite_url.removeprefix("sqlite:///")) as conn:
        conn.execute("UPDATE audit_event SET after = json_set(after, '$.role', 'admin') WHERE seq = 2")
    r = cli("audit", "verify", "--json", user="admin")
    assert r.exit_code == 1
    assert json.loads(r.stdout) == {"ok": False, "checked": 1, "first_bad_seq": 2, "reason": "audit.bad.content"}


def test_unknown_user_and_bad_database_url_are_clear_errors(cli):
    r = cli("users", "list", user="nobody")
    assert r.exit_code == 3 and "user nobody does not exist" in r.stderr
    r = CliRunner().invoke(main.app, ["--db", "mysql://x/y", "users", "list"])
    assert r.exit_code == 1 and "unsupported database URL" in r.stderr


def test_python_main_py_works(tmp_path):
    out = subprocess.run([sys.executable, "main.py", "--help"], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0 and "guapai" in out.stdout and "import" in out.stdout


def test_a_refused_action_is_itself_audited_and_changes_nothing_else(cli):
    cli("users", "add", "admin", "--role", "admin", "--department", "x", "--jurisdiction", "*")
    cli("users", "add", "wang", "--role", "police", "--department", "x", "--jurisdiction", "西湖区", user="admin")
    before = json.loads(cli("audit", "log", "--json", user="admin").stdout)
    r = cli("users", "add", "li", "--role", "police", "--department", "x", "--jurisdiction", "x", user="wang")
    assert r.exit_code == 3
    after = json.loads(cli("audit", "log", "--json", user="admin").stdout)
    assert len(after) == len(before) + 1
    assert (after[0]["actor"], after[0]["action"]) == ("wang", "denied.users.add")
    assert [u["name"] for u in json.loads(cli("users", "list", "--json", user="admin").stdout)] == ["admin", "wang"]
    assert cli("audit", "verify", user="admin").exit_code == 0
