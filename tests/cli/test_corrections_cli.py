"""Corrections from the command line (issue 15): void or correct an inspection, void a problem,
reopen or void a finding, rename a user — with a required reason, one clear line and exit 2 for
bad input, ids in the list commands, --json where data is printed, Chinese and English."""
import json


def _inspections(run, *extra):
    r = run("inspect", "list", "--json", *extra, user="transport")
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def test_void_an_inspection_and_find_it_only_among_the_voided(run, world):
    rows = _inspections(run, "--month", "2026-10")
    assert [(r["day"], r["voided"]) for r in rows] == [("2026-10-12", False)]
    everyone = _inspections(run)
    for name in ("甲运输", "jiayunshu"):  # one company's, named as everywhere
        mine = _inspections(run, "--company", name)
        assert mine and {r["company"] for r in mine} == {"杭州甲运输有限公司"}
        assert mine == [r for r in everyone if r["company"] == "杭州甲运输有限公司"]
    assert _inspections(run, "--company", "乙客运") == [r for r in everyone if r["company"] == "杭州乙客运有限公司"] == []
    ins = rows[0]["id"]
    r = run("inspect", "void", str(ins), user="transport")
    assert r.exit_code == 2 and "--reason" in r.output  # the reason is required
    r = run("inspect", "void", str(ins), "--reason", "   ", user="transport")
    assert r.exit_code == 2 and r.stderr.strip().count("\n") == 0 and "reason" in r.stderr
    r = run("inspect", "void", str(ins), "--reason", "x", user="police")
    assert r.exit_code == 3  # a police officer does not supervise transport inspections
    r = run("inspect", "void", str(ins), "--reason", "当天未去", user="transport")
    assert r.exit_code == 0 and f"inspection {ins} voided: 当天未去" in r.stderr
    assert _inspections(run, "--month", "2026-10") == []
    voided = _inspections(run, "--month", "2026-10", "--voided")
    assert [(r["id"], r["void_reason"]) for r in voided] == [(ins, "当天未去")]
    table = run("inspect", "list", "--month", "2026-10", "--voided", user="transport")
    assert "当天未去" in table.stdout
    r = run("inspect", "void", str(ins), "--reason", "again", user="transport")
    assert r.exit_code == 5 and f"inspection {ins} is voided" in r.stderr
    r = run("inspect", "void", "9999", "--reason", "x", user="transport")
    assert r.exit_code == 4 and "no inspection 9999" in r.stderr
    story = json.loads(run("company", "show", "甲运输", "--json", user="transport").stdout)
    assert [i["void_reason"] for i in story["inspections"] if i["voided"]] == ["当天未去"]
    shown = run("company", "show", "甲运输", user="transport")
    assert "voided: 当天未去" in " ".join(shown.stdout.split())
    zh = run("company", "show", "甲运输", user="transport", lang="zh")
    assert "已作废:当天未去" in "".join(zh.stdout.split())


def test_correct_an_inspection(run, world):
    ins = _inspections(run, "--month", "2026-10")[0]["id"]
    r = run("inspect", "correct", str(ins), "--department", "polise", "--reason", "r", user="transport")
    assert r.exit_code == 2 and "did you mean" in r.stderr
    r = run("inspect", "correct", str(ins), "--date", "2026-12-01", "--reason", "r", user="transport")
    assert r.exit_code == 2 and "2026-12-01" in r.stderr  # not after today
    r = run("inspect", "correct", str(ins), "--date", "2026-10-12", "--reason", "r", user="transport")
    assert r.exit_code == 2 and "nothing to change" in r.stderr
    r = run("inspect", "correct", str(ins), "--date", "2026-10-13", "--reason", "日期录错", "--json", user="transport")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["changed"] == {"day": ["2026-10-12", "2026-10-13"]} and out["reason"] == "日期录错"
    rows = _inspections(run, "--month", "2026-10", "--voided")
    assert [(r["id"], r["day"], r["voided"], r["corrects"]) for r in rows] == [
        (ins, "2026-10-12", True, None), (out["new_id"], "2026-10-13", False, ins)]
    r = run("inspect", "correct", str(out["new_id"]), "--date", "2026-10-14", "--reason", "再改", user="transport",
            lang="zh")
    assert r.exit_code == 0 and "已作废,更正为检查" in r.stderr


def test_void_a_problem_and_it_no_longer_counts(run, world):
    pid = world["problem"]
    before = json.loads(run("company", "show", "甲运输", "--json", user="transport").stdout)["problem_count"]["open"]
    assert before == 1
    r = run("problems", "void", str(pid), "--reason", "企业台账齐全,误录", user="transport")
    assert r.exit_code == 0 and f"problem {pid} voided" in r.stderr
    after = json.loads(run("company", "show", "甲运输", "--json", user="transport").stdout)
    assert after["problem_count"]["open"] == 0
    listed = json.loads(run("problems", "list", "--state", "voided", "--json", user="transport").stdout)
    assert [p["id"] for p in listed] == [pid]
    assert run("problems", "list", "--state", "void", user="transport").exit_code == 2
    r = run("problems", "verify", str(pid), user="police")
    assert r.exit_code == 5  # voided is final


def test_reopen_and_void_a_finding(run, world):
    fid = world["finding"]
    assert run("findings", "confirm", str(fid), user="police").exit_code == 0
    r = run("findings", "reopen", str(fid), "--reason", "x", user="police2")
    assert r.exit_code == 0  # police2 is city-level police: a supervisor
    assert f"finding {fid}: suspected" in r.stderr
    listed = json.loads(run("findings", "list", "--json", user="police").stdout)
    assert [f["id"] for f in listed] == [fid]
    r = run("findings", "void", str(fid), "--reason", "GPS 漂移", user="police")
    assert r.exit_code == 0 and "voided" in r.stderr
    assert json.loads(run("findings", "list", "--state", "voided", "--json", user="police").stdout)[0]["id"] == fid
    r = run("findings", "reopen", str(fid), "--reason", "x", user="police")
    assert r.exit_code == 5
    r = run("findings", "void", str(fid), "--reason", "x", user="transport")
    assert r.exit_code == 3


def test_rename_a_user_keeps_four_eyes(run, world):
    r = run("users", "rename", "transport", "transport.li", user="admin")
    assert r.exit_code == 0, r.output
    assert "user transport is now transport.li (records naming them, rewritten: 3;" in " ".join(r.stderr.split())
    log = json.loads(run("audit", "log", "--json", "--action", "users.rename", user="admin").stdout)
    assert log[0]["after"]["rewritten"] == {"inspection.inspector": 2, "problem.rectified_by": 1}
    r = run("problems", "verify", str(world["problem"]), user="transport.li")
    assert r.exit_code == 3 and "different officer (transport.li marked it rectified)" in r.stderr
    assert run("todo", user="transport").exit_code == 3  # the old name no longer acts
    r = run("users", "add", "transport", "--role", "transport", "--department", "运管处", "--jurisdiction", "*",
            user="admin")
    assert r.exit_code == 5  # nobody else takes the old name
    r = run("users", "rename", "xihuu", "x", user="admin")
    assert r.exit_code == 2 and "did you mean 'xihu'" in r.stderr
    assert run("users", "rename", "xihu", "x", user="reviewer").exit_code == 3
    r = run("users", "rename", "xihu", "xihu.zhang", user="admin", lang="zh")
    assert r.exit_code == 0 and "已改名为 xihu.zhang" in r.stderr


def test_recording_the_same_visit_twice_names_the_earlier_one_and_how_to_void_the_repeat(run, world):
    def record(day, lang="en"):
        r = run("inspect", "record", "--company", "乙客运", "--department", "police", "--date", day, user="police", lang=lang)
        assert r.exit_code == 0, r.output
        return r.stderr

    def that_day():
        rows = json.loads(run("inspect", "list", "--json", "--company", "乙客运", user="police").stdout)
        return [r["id"] for r in rows if r["day"] == "2026-11-02"]

    assert "already recorded" not in record("2026-11-02")
    (first,) = that_day()
    again = record("2026-11-02")
    (_, repeat) = that_day()
    assert f"already recorded for this company, department and day: inspection {first}." in again
    assert f"guapai inspect void {repeat} --reason" in again
    assert "already recorded" not in record("2026-11-03")  # another day
    assert run("inspect", "void", str(repeat), "--reason", "重复录入", user="police").exit_code == 0
    zh = record("2026-11-02", lang="zh")  # the voided repeat is not named; the first visit still is
    assert f"已有检查记录 {first}。" in zh
