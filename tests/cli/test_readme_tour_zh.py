"""The README's Chinese tour (中文导览) is a real session too, and it is Chinese: every line runs with
`--lang zh`, and what it prints (stdout and stderr) may hold no English word that is not a name,
a code, a unit or a technical token on the short list below. Under `--json` the data stays raw
(keys and codes for scripts), so only its messages are read. Every time printed is Beijing time
with its offset."""
from __future__ import annotations

import json
import os
import re
import shlex

from typer.testing import CliRunner

from tests.cli import test_readme_tour as english_tour
from tests.cli.test_readme_tour import session_env  # noqa: F401 - the fixture

EXCUSED = {
    "guapai --lang zh demo": "about two minutes; tests/integration/test_demo.py runs it",
    "guapai --lang zh --db sqlite:///$HOME/.local/share/guapai/demo.sqlite": "reads the demo's own store (the line above)",
    "guapai --lang zh platform serve": "a server until stopped: the test starts the same simulator in-process",
    "guapai --lang zh jobs serve": "the scheduler runs until stopped; tests/jobs drive its ticks",
    "guapai --lang zh --as 赵主任 tui": "interactive; tests/tui drive the same board headless",
    "guapai --lang zh --as 管理员 db grant": "PostgreSQL only; tests/security/test_pg_roles.py",
}

# What an English-looking word may be in Chinese output: technical tokens officers use as they are.
ALLOWED = {
    "CSV", "XLSX", "HTML", "SVG", "JSON", "GPS", "SQLite", "PostgreSQL", "SHA", "FMCSA", "DiD", "ID",
    "km", "h", "min", "s", "m", "KB", "MB", "GB",
}
_KEEP_OUT = [  # spans that are names, codes, units or commands, removed before looking for words
    r"guapai(?: [^\s│┃|,，。;；)）]+)+",           # a command line the output suggests
    r"--[a-z][a-z-]*",                               # option names
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:[+-]\d{2}:\d{2}|Z)?",  # ISO dates and times
    r"(?<![0-9A-Za-z])[0-9A-Z]{18}(?![0-9A-Za-z])",  # unified social credit codes
    r"[\u4e00-\u9fff][A-Z][A-Z0-9]{4,6}",            # plates (浙A12345, 浙AD12345)
    r"km/h", r"UTC[+-]\d{2}:\d{2}",
    r"[\w./~-]+\.(?:csv|xlsx|html|svg|toml|sqlite|bak|parquet|json|pw|md)\b",  # file names
    r"(?:sqlite|postgresql(?:\+psycopg)?|https?)://\S+",                      # URLs
    r"(?<![\w/])/[\w.~/-]+",                         # paths
    r"(?<![0-9A-Za-z])[0-9a-f]{8,}(?![0-9A-Za-z])",  # digests (keys of the verifiable draw, SHA-256)
]
_KEEP_OUT_RE = re.compile("|".join(f"(?:{p})" for p in _KEEP_OUT))
_WORD = re.compile(r"[A-Za-z][A-Za-z_]*")
_CLOCK = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)? ?([+-]\d{2}:\d{2}|Z)?")


def tour_commands() -> list[list[str]]:
    return english_tour.tour_commands("## 中文导览")


def excuse_for(command: list[str]) -> str | None:
    return english_tour.excuse_for(command, EXCUSED)


def english_words(text: str, names: set[str]) -> list[str]:
    """The English words of `text` that are not a name, code, unit or allowed token."""
    text = _KEEP_OUT_RE.sub(" ", text)
    return [w for w in _WORD.findall(text) if w not in ALLOWED and w not in names]


def visible_text(page: str) -> str:
    """What a reader of an HTML report sees: its text, without markup, styles or scripts (the
    charts' words are drawn as shapes)."""
    import html

    page = re.sub(r"(?s)<(style|script|svg)\b.*?</\1>", " ", page)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def times_without_offset(text: str) -> list[str]:
    return [m.group(0) for m in _CLOCK.finditer(text) if m.group(1) != "+08:00"]


def test_the_checker_finds_english_and_lets_names_codes_and_units_through():
    names = {"wang"}
    assert english_words("状态: listed, 是否启用: True", names) == ["listed", "True"]
    assert english_words("wang 于 2026-11-20T10:00:00+08:00 确认 浙A10001 超速 100 km/h (--reason)", names) == []
    assert english_words("下一步: guapai --as zhao listing confirm 1。企业 91330106000000001X", names) == []
    assert english_words("报告已写入 月报.xlsx 与 /tmp/x/effect.html", names) == []
    assert english_words("Finding 1: overspeed", names) == ["Finding", "overspeed"]
    assert times_without_offset("2026-11-20 10:00+08:00 与 2026-11-20 02:00") == ["2026-11-20 02:00"]


def before(command: list[str], env: dict) -> None:
    english_tour.before(command, env)  # the same story: the same time passing between lines


EXPECT = {  # what some lines must show (beyond exit code 0)
    "guapai --lang zh --as 赵主任 todo": ("stdout", "listing confirm 1"),
    "guapai --lang zh --as 赵主任 company show 甲运输": ("stdout", "杭州甲运输有限公司"),
    "guapai --lang zh --as 赵主任 listing list --state 拟挂牌": ("stdout", "拟挂牌"),
    "guapai --lang zh --as 管理员 users list": ("stdout", "否"),
}


def test_every_line_of_the_chinese_tour_runs_and_speaks_chinese(session_env, monkeypatch):
    import main

    monkeypatch.setenv("COLUMNS", "200")  # one table row a line: suggested commands are not wrapped
    commands = tour_commands()
    assert len(commands) >= 40
    runner = CliRunner()
    names = {"admin", "reviewer", "zhao"}  # the demo's user names the tour mentions
    excused, ran, english, clocks, missing = [], [], [], [], []
    for command in commands:
        assert command[:3] == ["guapai", "--lang", "zh"], command
        why = excuse_for(command)
        if why:
            excused.append(" ".join(command))
            continue
        before(command, session_env)
        result = runner.invoke(main.app, command[1:])
        line = " ".join(command)
        assert result.exit_code == 0, f"{line}\n{result.stdout}\n{result.stderr}"
        if line in EXPECT:
            stream, text = EXPECT[line]
            if text not in getattr(result, stream):
                missing.append(f"{line}: {text!r} not in {stream}:\n{getattr(result, stream)}")
        printed = result.stderr
        if "--json" in command:
            json.loads(result.stdout)
        else:
            printed = result.stdout + printed
        if os.environ.get("TOUR_SHOW") and os.environ["TOUR_SHOW"] in line:
            print(f"$ {line}\n{printed}")
        words = english_words(printed, names)
        if words:
            english.append(f"$ {line}\n  {sorted(set(words))}")
        if times_without_offset(printed):
            clocks.append(f"$ {line}\n  {times_without_offset(printed)}")
        ran.append(line)
    assert not english, "English in the Chinese tour:\n" + "\n".join(english)
    assert not clocks, "times without their +08:00 offset:\n" + "\n".join(clocks)
    for command in commands:  # the reports the tour writes, as an officer forwards them
        out = command[command.index("--out") + 1] if "--out" in command else ""
        if out.endswith(".html"):
            page = visible_text((session_env["folder"] / out).read_text(encoding="utf-8"))
            assert len(page) > 200 and english_words(page, names) == [], (out, sorted(set(english_words(page, names))))
            assert not times_without_offset(page), (out, times_without_offset(page))
    assert not missing, "\n".join(missing)
    assert {excuse_for(shlex.split(e)) for e in excused} == set(EXCUSED.values())  # every excuse still used
    assert len(ran) >= len(commands) - len(EXCUSED)


def test_errors_and_hints_speak_chinese_too(run, world):
    """A wrong value, a refused role, an illegal transition, a missing record: one Chinese line
    each, with the choices, the guess and the codes in Chinese (world's user names are names)."""
    names = {"police", "reviewer", "admin", "transport"}
    cases = [
        (("listing", "list", "--state", "listd"), "reviewer", 2, "挂牌整治中"),
        (("listing", "confirm", str(world["bing_listing"])), "police", 3, "确认挂牌"),
        (("listing", "confirm", str(world["jia_listing"])), "reviewer", 5, "待验收"),
        (("users", "add", "x", "--role", "boss", "--department", "a", "--jurisdiction", "*"), "admin", 2, "审核领导"),
        (("findings", "show", "99999"), "police", 4, "99999"),
        (("sample", "show", "--date", "2026-13-01"), "police", 2, "2026-13-01"),
        (("inspect", "record", "--company", "甲运输", "--department", "交通"), "transport", 2, "运管"),
    ]
    for args, user, code, shown in cases:
        result = run(*args, user=user, lang="zh")
        line = " ".join(args)
        assert result.exit_code == code, f"{line}: {result.exit_code}\n{result.stderr}"
        assert shown in result.stderr, f"{line}: {shown!r} not in {result.stderr!r}"
        typed = {w for a in args[2:] if not a.startswith("--") for w in _WORD.findall(a)}  # values echoed as typed
        assert english_words(result.stderr, names | typed) == [], f"{line}: {result.stderr}"
