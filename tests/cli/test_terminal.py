"""The officers' terminal on the command line: company lookup and story, to-do, board, findings,
review decisions against the evidence, enumerated options, global option placement."""
import json

import pytest

from tests.cli.world import NOW, TODAY, uscc
from tests.conftest import actor

# --- company lookup -------------------------------------------------------------------------

def test_lookup_by_code_part_of_name_typo_and_scope(world):
    from listing.services.company_lookup import AmbiguousCompany, find_companies, resolve_company
    from messages.errors import NotFound

    store = world["store"]
    reviewer, xihu = actor(store, "reviewer"), actor(store, "xihu")
    with store.session(readonly=True) as s:
        assert resolve_company(s, reviewer, uscc(2)).name == "杭州乙客运有限公司"
        assert resolve_company(s, reviewer, uscc(2).lower()).name == "杭州乙客运有限公司"  # case does not matter
        assert resolve_company(s, reviewer, uscc(2)[8:17]).name == "杭州乙客运有限公司"  # organisation code
        assert resolve_company(s, reviewer, "乙客运").name == "杭州乙客运有限公司"
        assert resolve_company(s, reviewer, "杭州 乙客运").name == "杭州乙客运有限公司"  # spaces do not matter
        assert resolve_company(s, reviewer, "萧山丙危险品运输公司").name == "萧山丙危险品运输有限公司"  # 有限 missing
        with pytest.raises(AmbiguousCompany) as exc:
            resolve_company(s, reviewer, "杭州甲")
        assert {c.name for c in exc.value.candidates} == {"杭州甲运输有限公司", "杭州甲物流有限公司"}
        assert resolve_company(s, reviewer, "杭州甲", choose=lambda cs: cs[1]).name == exc.value.candidates[1].name
        with pytest.raises(NotFound):
            resolve_company(s, xihu, "乙客运")  # another jurisdiction: not visible to 西湖区
        with pytest.raises(NotFound):
            resolve_company(s, reviewer, "完全不相干的名字")
        assert find_companies(s, reviewer, "甲运输")[0].score == 95.0


def test_lookup_by_sound_homophones_pinyin_and_initials_within_scope(world):
    """The commonest slip of a pinyin input method is a character of the same sound (以 for 乙,
    炳 for 丙); on a terminal without Chinese input an officer types pinyin or initials."""
    from listing.services.company_lookup import AmbiguousCompany, find_companies, resolve_company
    from messages.errors import NotFound

    store = world["store"]
    reviewer, xihu = actor(store, "reviewer"), actor(store, "xihu")
    with store.session(readonly=True) as s:
        assert resolve_company(s, reviewer, "以客运").name == "杭州乙客运有限公司"  # 以 yi for 乙 yi
        assert resolve_company(s, reviewer, "晓山炳危险品").name == "萧山丙危险品运输有限公司"  # two homophones
        assert find_companies(s, reviewer, "以客运")[0].score == 90.0  # below a part of the name as typed (95)
        assert resolve_company(s, reviewer, "yikeyun").name == "杭州乙客运有限公司"
        assert resolve_company(s, reviewer, "HZYKY").name == "杭州乙客运有限公司"  # initials, any case
        assert resolve_company(s, reviewer, "xiaoshan").name == "萧山丙危险品运输有限公司"
        with pytest.raises(AmbiguousCompany) as exc:
            resolve_company(s, reviewer, "hzj")
        assert {c.name for c in exc.value.candidates} == {"杭州甲运输有限公司", "杭州甲物流有限公司"}
        assert resolve_company(s, reviewer, "jiawuliu").name == "杭州甲物流有限公司"
        with pytest.raises(NotFound):
            resolve_company(s, xihu, "yikeyun")  # 上城区's company: not visible to 西湖区 by sound either
        assert resolve_company(s, reviewer, "以可运").name == "杭州乙客运有限公司"  # 可 ke3, 客 ke4: tones aside
        assert all(c.score < 90 for c in find_companies(s, reviewer, "丁客运"))  # ding is not yi: closeness at best


def test_by_sound_the_parts_of_a_query_in_another_script_come_in_order():
    """Names told apart by a number: 路杰287 and lujie287 name the 287 one, ljwl246 the other."""
    from listing.services.read.companies import sounding

    names = {1: "杭州路捷物流有限公司287", 2: "杭州路捷物流有限公司246", 3: "杭州宏航危险品运输有限公司183"}
    assert sounding("路杰287", names) == sounding("lujie287", names) == sounding("路杰 287", names) == {1}
    assert sounding("ljwl246", names) == {2} and sounding("宏航183", names) == {3}
    assert sounding("287路杰", names) == set()  # the number comes after the words
    assert sounding("路杰", names) == {1, 2} and sounding("lujie", names) == {1, 2}
    assert sounding("l", names) == set()  # one letter: not matched by sound


def test_ambiguous_company_under_json_is_exit_2_with_candidates(run):
    r = run("company", "show", "杭州甲", "--json", user="reviewer")
    assert r.exit_code == 2
    out = json.loads(r.stdout)
    assert out["error"] == "ambiguous" and {c["uscc"] for c in out["candidates"]} == {uscc(1), uscc(3)}
    r = run("company", "show", "杭州甲", user="reviewer")  # no terminal in the runner: no prompt, exit 2
    assert r.exit_code == 2 and "matches 2 companies" in r.stderr


def test_on_a_terminal_several_matches_give_a_numbered_choice(run, monkeypatch):
    from cli import context

    monkeypatch.setattr(context, "interactive", lambda: True)
    r = run("company", "show", "杭州甲", user="reviewer", input="2\n")
    assert r.exit_code == 0, r.stderr
    assert "1. 杭州甲" in r.stderr and "2. 杭州甲" in r.stderr
    chosen = r.stderr.split("2. ", 1)[1].split()[0]
    assert chosen in next(line for line in r.stdout.splitlines() if "vehicles" in line)
    r = run("company", "show", "杭州甲", user="reviewer", input="\n")  # Enter: no choice, exit 2
    assert r.exit_code == 2


# --- company story --------------------------------------------------------------------------

def test_company_story_tells_cycles_months_problems_and_decisions_in_time_order(run):
    r = run("company", "show", "甲运输", "--json", user="reviewer")
    assert r.exit_code == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["company"]["uscc"] == uscc(1)
    [listing] = data["listings"]
    assert listing["state"] == "under_review" and listing["criteria"][0]["criterion"] == "at_fault_per_vehicle"
    c1, c2 = listing["cycles"]
    assert (c1["outcome"], c1["reason"], c1["decided_by"]) == ("fail", "检查缺失", "reviewer")
    assert c1["checklist"]["recommendation"] == "fail" and not c1["checklist_provisional"]
    assert c2["current"] and c2["checklist_provisional"] and c2["checklist"]["items"]
    october = next(m for m in c2["months"] if m["month"] == "2026-10")
    assert (october["transport"], october["transport_count"], october["police"]) == ("done", 1, "missed")
    assert data["problem_count"] == {"open": 1, "overdue": 1, "awaiting_verification": 1}
    kinds = [e["kind"] for e in data["timeline"]]
    assert kinds.index("listing.confirm") < kinds.index("problem") < kinds.index("listing.fail") < kinds.index("inspection", kinds.index("listing.fail"))
    assert [e["at"] for e in data["timeline"]] == sorted(e["at"] for e in data["timeline"])
    human = run("company", "show", uscc(1), user="reviewer")
    assert human.exit_code == 0
    for text in ("杭州甲运输有限公司", "review failed by reviewer, stays listed: 检查缺失", "Cycle 2", "✗ missed",
                 "1 problems not verified (1 overdue, 1 awaiting verification)", "{"):
        assert (text in human.stdout) == (text != "{"), text  # sentences, never raw JSON
    zh = run("company", "show", uscc(1), user="reviewer", lang="zh")
    assert "验收未通过,继续挂牌:检查缺失" in zh.stdout


@pytest.mark.parametrize("lang, said", [
    ("en", ["notice: inspection missed 2026-06, police", "notice: inspection reminder 2026-08, transport",
            "notice: acceptance review due (cycle 2)", "notice: listing escalated", "findings (1): "]),
    ("zh", ["通知:检查缺失 2026-06,交警", "通知:检查提醒 2026-08,运管", "通知:待验收 第 2 周期", "通知:挂牌升级",
            "抽查线索 1 条:"]),
])
def test_the_storys_notices_are_told_in_words_never_as_outbox_keys(lang, said):
    import datetime as dt

    import main  # noqa: F401 - the CLI's messages
    from cli.render_story import event_lines

    at = dt.datetime(2026, 8, 26, 9, tzinfo=dt.timezone.utc)
    notices = [("miss", "2026-06:police"), ("remind", "2026-08:transport"), ("review_due", "2"), ("escalated", None)]
    timeline = [{"at": at, "kind": "notice", "notice": kind, "about": about, "channel": "log", "sent": True}
                for kind, about in notices]
    timeline.append({"at": at, "kind": "finding", "id": 1, "rule": "overspeed", "plate": "浙A1", "state": "confirmed",
                     "voided": False, "void_reason": None})
    lines = [text for _, text, _ in event_lines({"timeline": timeline}, lang)]
    for words in said:
        assert any(words in line for line in lines), (words, lines)
    assert not any(key in line for line in lines for key in ("miss 2026", "remind 2026", "2026-06:", "review_due", "None"))
    assert all(line == line.strip() for line in lines)


def test_one_problem_count_for_board_story_and_review(run):
    """The open problem was found in cycle 1; the board, the story and the cycle-2 review all count it."""
    board = {r["uscc"]: r for r in json.loads(run("board", "--json", user="reviewer").stdout)}
    story = json.loads(run("company", "show", uscc(1), "--json", user="reviewer").stdout)
    review = json.loads(run("review", "show", str(story["listings"][0]["id"]), "--json", user="reviewer").stdout)
    problems_item = next(i for i in review["items"] if i["item"] == "problems_closed")
    assert board[uscc(1)]["open_problems"] == story["problem_count"]["open"] == problems_item["evidence"]["open"] == 1


# --- to-do ----------------------------------------------------------------------------------

def test_todo_follows_role_jurisdiction_and_four_eyes(run, world):
    police = json.loads(run("todo", "--json", user="police").stdout)
    kinds = {t["kind"] for t in police}
    assert {"inspect", "finding", "verify"} <= kinds and "review" not in kinds
    verify = next(t for t in police if t["kind"] == "verify")
    assert verify["command"] == f"guapai --as police problems verify {world['problem']}"
    assert [t["due"] for t in police] == sorted(t["due"] for t in police)
    inspect = [t for t in police if t["kind"] == "inspect"]
    assert all("--department police" in t["command"] for t in inspect)
    assert {t["uscc"] for t in inspect} == {uscc(1), uscc(2)}
    transport = json.loads(run("todo", "--json", user="transport").stdout)
    assert not [t for t in transport if t["kind"] == "verify"]  # transport rectified it: never their own
    assert not [t for t in transport if t["kind"] == "finding"]
    xihu = json.loads(run("todo", "--json", user="xihu").stdout)
    assert {t["uscc"] for t in xihu} == {uscc(1)}  # only its own jurisdiction
    reviewer = json.loads(run("todo", "--json", user="reviewer").stdout)
    assert {(t["kind"], t["ref"]) for t in reviewer if t["kind"] in ("review", "confirm")} == {
        ("review", world["jia_listing"]), ("confirm", world["bing_listing"])}
    r = run("todo", user="police")
    assert r.exit_code == 0 and f"guapai --as police problems verify {world['problem']}" in r.stdout


def test_todo_command_lines_do_what_they_say(run, world):
    """Run the to-do's own command for the verification: it goes through, and the task is gone."""
    import shlex

    police = json.loads(run("todo", "--json", user="police").stdout)
    cmd = shlex.split(next(t for t in police if t["kind"] == "verify")["command"])
    assert cmd[:3] == ["guapai", "--as", "police"]
    assert run(*cmd[3:], user="police").exit_code == 0
    assert not [t for t in json.loads(run("todo", "--json", user="police").stdout) if t["kind"] == "verify"]


# --- board ----------------------------------------------------------------------------------

def test_board_months_legend_full_names_filters_and_sort(run):
    rows = json.loads(run("board", "--json", "--sort", "days", user="reviewer").stdout)
    assert [r["uscc"] for r in rows] == [uscc(1), uscc(2)]  # review date soonest first
    jia = rows[0]
    assert (jia["review_date"], jia["days_to_review"]) == ("2026-11-05", -19)  # no review deadline row: the cycle due
    assert [m["month"] for m in rows[1]["months"]] == ["2026-10", "2026-11", "2026-12"]
    assert rows[1]["months"][1]["police"] == "owed"
    r = run("board", "--wide", user="reviewer")
    assert r.exit_code == 0
    assert "杭州甲运输有限公司" in r.stdout and uscc(1) in r.stdout  # full name and code, one line
    assert "✓ done" in r.stdout and "✗ missed" in r.stdout and "red:" in r.stdout  # the legend
    narrow = run("board", user="reviewer")
    assert "杭州甲运输有限公司" in narrow.stdout.replace("\n", "").replace(" ", "") or "杭州甲运输有限" in narrow.stdout
    assert [r["uscc"] for r in json.loads(run("board", "--json", "--state", "Under_Review", user="reviewer").stdout)] == [uscc(1)]
    assert [r["uscc"] for r in json.loads(run("board", "--json", "--search", "乙客", user="reviewer").stdout)] == [uscc(2)]
    for by_sound in ("以客", "yike", "YK"):  # a homophone, pinyin, initials
        assert [r["uscc"] for r in json.loads(run("board", "--json", "--search", by_sound, user="reviewer").stdout)] == [uscc(2)]
    assert json.loads(run("board", "--json", "--jurisdiction", "西湖区", user="reviewer").stdout)[0]["uscc"] == uscc(1)


@pytest.mark.parametrize("args, said", [
    (("board", "--state", "listd"), "did you mean 'listed'"),
    (("board", "--jurisdiction", "西胡区"), "did you mean '西湖区'"),
    (("board", "--colour", "redd"), "did you mean 'red'"),
    (("board", "--sort", "dayz"), "did you mean 'days'"),
    (("findings", "list", "--state", "Suspectd"), "did you mean 'suspected'"),
    (("findings", "list", "--rule", "overspeeed"), "did you mean 'overspeed'"),
    (("listing", "list", "--state", "delist"), "did you mean 'delisted'"),
    (("problems", "list", "--state", "verifed"), "did you mean 'verified'"),
    (("inspect", "record", "--company", "乙客运", "--department", "polise"), "did you mean 'police'"),
    (("users", "add", "x", "--role", "reviwer", "--department", "d", "--jurisdiction", "*"), "did you mean 'reviewer'"),
])
def test_a_wrong_enumerated_value_is_one_line_and_exit_2(run, args, said):
    r = run(*args, user="reviewer")
    assert r.exit_code == 2 and said in r.stderr and len(r.stderr.strip().splitlines()) == 1 and r.stdout == ""


def test_aliases_and_case_are_accepted(run):
    assert run("listing", "list", "--state", "挂牌整治中", "--json", user="reviewer").exit_code == 0
    assert json.loads(run("findings", "list", "--rule", "超速", "--json", user="police").stdout)[0]["rule"] == "overspeed"
    r = run("inspect", "record", "--company", "乙客运", "--department", "交警", "--date", "2026-11-23", user="police")
    assert r.exit_code == 0 and "police" in r.stderr


def test_global_options_before_or_after_the_subcommand(run, sqlite_url):
    from typer.testing import CliRunner

    import main

    first = run("board", "--json", user="reviewer").stdout
    runner = CliRunner()
    after = runner.invoke(main.app, ["board", "--db", sqlite_url, "--as", "reviewer", "--json"])
    before = runner.invoke(main.app, ["--json", "--as=reviewer", "--db", sqlite_url, "board"])
    assert after.exit_code == before.exit_code == 0
    assert json.loads(after.stdout) == json.loads(before.stdout) == json.loads(first)


def test_hoisting_leaves_values_and_double_dash_alone():
    from cli.context import hoist_global_options as h

    assert h(["board", "--as", "zhao", "--json"]) == ["--as", "zhao", "board", "--json"]
    assert h(["--json", "review", "show", "3"]) == ["review", "show", "3", "--json"]
    assert h(["rules", "check", "--as-of", "2026-11-01"]) == ["rules", "check", "--as-of", "2026-11-01"]
    assert h(["x", "--", "--as", "y"]) == ["x", "--", "--as", "y"]


# --- findings -------------------------------------------------------------------------------

def test_findings_show_the_episode_and_a_speed_sparkline(run, world):
    r = run("findings", "show", str(world["finding"]), user="police")
    assert r.exit_code == 0, r.stderr
    for text in ("Finding", "overspeed", "浙A2", "2026-11-22 08:00:00", "5.0 min", "100 km/h", "limit 80 km/h",
                 "30.25000, 120.15000", "the stored evidence"):
        assert text in r.stdout, text
    spark = next(line.strip() for line in r.stdout.splitlines() if "█" in line)
    assert spark[0] in "▁▂▃▄▅▆" and "█" in spark  # slow, then the overspeed at the top of the scale
    data = json.loads(run("findings", "show", str(world["finding"]), "--json", user="police").stdout)
    assert data["max_speed_kmh"] == 100.0 and data["speed_source"] == "evidence" and data["sparkline"] == spark
    assert run("findings", "show", "999", user="police").exit_code == 4


def test_findings_show_without_a_stored_profile_says_where_none_came_from(run, world, monkeypatch, tmp_path):
    """No profile in the evidence: none without a platform configured (read only then), unavailable
    when the configured platform does not answer."""
    from listing.store import tables

    with world["store"].session() as s:
        f = s.get(tables.Finding, world["finding"])
        f.evidence = {k: v for k, v in f.evidence.items() if k != "speed_profile"}
        s.add(f)
    monkeypatch.setenv("GUAPAI_CONFIG", str(tmp_path / "none.toml"))
    data = json.loads(run("findings", "show", str(world["finding"]), "--json", user="police").stdout)
    assert (data["speed_source"], data["speed_profile"]) == ("none", [])
    monkeypatch.setenv("GUAPAI_PLATFORM_URL", "http://127.0.0.1:9")  # nothing listens there
    data = json.loads(run("findings", "show", str(world["finding"]), "--json", user="police").stdout)
    assert (data["speed_source"], data["speed_profile"]) == ("unavailable", [])


def test_speed_sparkline_scale_and_gaps():
    from listing.services.finding_detail import speed_sparkline

    assert speed_sparkline([0, 10, 20, 30], [0, 50, 100, 50], buckets=4) == "▁▅█▅"
    assert speed_sparkline([0, 100], [80, 80], buckets=5, top=80) == "█   █"  # no positions: a gap
    assert speed_sparkline([], []) == ""


# --- review ---------------------------------------------------------------------------------

def test_review_show_is_a_table_never_json(run, world):
    r = run("review", "show", str(world["jia_listing"]), user="reviewer")
    assert r.exit_code == 0 and "{" not in r.stdout and "missing:" in r.stdout and "1 problems not verified" in r.stdout


def test_deciding_against_the_recommendation_needs_a_reason_and_says_what_it_overrides(run, world):
    lid = str(world["jia_listing"])
    r = run("review", "decide", lid, "--pass", user="reviewer")
    assert r.exit_code == 2 and "recommends fail" in r.stderr and "all problems rectified and verified" in r.stderr
    assert json.loads(run("board", "--json", "--state", "under_review", user="reviewer").stdout)  # nothing changed
    r = run("review", "decide", lid, "--pass", "--reason", "现场核查已整改", user="reviewer")
    assert r.exit_code == 0, r.stderr
    assert "goes against the checklist's recommendation (fail)" in r.stderr and "delisted" in r.stderr
    log = json.loads(run("audit", "log", "--json", "--action", "listing.pass", user="admin").stdout)
    assert log[0]["after"]["reason"] == "现场核查已整改"  # the decision's own event carries the reason
    story = json.loads(run("company", "show", uscc(1), "--json", user="reviewer").stdout)
    decided = story["listings"][0]["cycles"][1]
    assert (decided["outcome"], decided["checklist"]["recommendation"]) == ("pass", "fail")
    assert "problems_closed" in decided["against_recommendation"]
    human = run("company", "show", uscc(1), user="reviewer").stdout
    assert "reviewer decided pass against the checklist's recommendation (fail)" in human


def test_a_listing_can_be_named_by_its_company(run, world):
    """Officers know the company, not the listing's number: review and listing commands take either."""
    by_id = json.loads(run("review", "show", str(world["jia_listing"]), "--json", user="reviewer").stdout)
    for name in ("杭州甲运输", uscc(1), "hzjys"):  # part of the name, the code, the initials
        r = run("review", "show", name, "--json", user="reviewer")
        assert r.exit_code == 0, r.stderr
        assert json.loads(r.stdout) == by_id
    r = run("review", "show", "杭州甲", "--json", user="reviewer")  # 甲运输 and 甲物流: which one?
    assert r.exit_code == 2 and json.loads(r.stdout)["error"] == "ambiguous"
    r = run("listing", "confirm", "萧山丙危险品", user="reviewer")
    assert r.exit_code == 0, r.stderr
    assert "cycle 1" in r.stderr or "listed" in r.stderr
    again = run("listing", "confirm", "萧山丙危险品", user="reviewer")  # no longer proposed: named, with its code
    assert again.exit_code == 4 and "萧山丙危险品运输有限公司" in again.stderr and uscc(4) in again.stderr
    assert "no proposed listing" in again.stderr
    zh = run("review", "decide", "萧山丙", "--pass", user="reviewer", lang="zh")  # listed, not under review: refused
    assert zh.exit_code != 0 and "验收" in zh.stderr
    r = run("review", "decide", "杭州甲运输", "--fail", user="reviewer")  # as the checklist recommends
    assert r.exit_code == 0, r.stderr
    (jia,) = [row for row in json.loads(run("listing", "list", "--json", user="reviewer").stdout) if row["uscc"] == uscc(1)]
    assert (jia["id"], jia["state"], jia["cycle"]) == (by_id["listing_id"], "listed", by_id["cycle"] + 1)


def test_following_the_recommendation_needs_no_reason():
    from listing.services.decision import overrides

    failing = {"recommendation": "fail", "items": [{"item": "a", "pass": True}, {"item": "b", "pass": False}]}
    passing = {"recommendation": "pass", "items": [{"item": "a", "pass": True}]}
    assert overrides(failing, passed=False) == [] and overrides(passing, passed=True) == []
    assert overrides(failing, passed=True) == ["b"] and overrides(passing, passed=False) == ["a"]


def test_now_is_the_worlds_clock():
    assert NOW.date() == TODAY
