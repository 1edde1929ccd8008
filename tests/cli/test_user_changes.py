"""Users change, they are not deleted: another role or jurisdiction, disabled — by an admin, audited."""
import json


def test_admin_changes_a_users_jurisdiction_role_and_disables_them(run, world):
    r = run("users", "set", "xihu", "--jurisdiction", "上城区", user="admin")
    assert r.exit_code == 0 and "jurisdiction: 西湖区 → 上城区" in r.stderr
    assert {t["uscc"] for t in json.loads(run("todo", "--json", user="xihu").stdout)} == {
        next(b["uscc"] for b in json.loads(run("board", "--json", "--search", "乙客", user="reviewer").stdout))}
    assert run("users", "set", "xihu", "--role", "police", user="admin").exit_code == 0
    assert run("users", "set", "xihu", "--disable", user="admin").exit_code == 0
    r = run("todo", user="xihu")
    assert r.exit_code == 3 and "does not exist or is inactive" in r.stderr  # a disabled user cannot act
    assert run("users", "set", "xihu", "--enable", user="admin").exit_code == 0
    assert run("todo", "--json", user="xihu").exit_code == 0
    log = json.loads(run("audit", "log", "--json", "--action", "users.change", user="admin").stdout)
    assert [(e["before"], e["after"]) for e in reversed(log)][0] == (
        {"jurisdiction": "西湖区", "name": "xihu"}, {"jurisdiction": "上城区", "name": "xihu"})
    assert len(log) == 4


def test_changes_are_refused_clearly(run, world):
    r = run("users", "set", "xihu", "--role", "police", user="transport")
    assert r.exit_code == 3  # not an admin
    r = run("users", "set", "admin", "--disable", user="admin")
    assert r.exit_code == 5 and "last active admin" in r.stderr
    r = run("users", "set", "xihuu", "--disable", user="admin")
    assert r.exit_code == 2 and "did you mean 'xihu'" in r.stderr
    r = run("users", "set", "xihu", user="admin")
    assert r.exit_code == 2 and "nothing to change" in r.stderr
    r = run("users", "set", "xihu", "--jurisdiction", "西湖区", user="admin")
    assert r.exit_code == 2  # the same jurisdiction: nothing to change
