"""The README's tour is a real session: every line runs, in order, with the user names it shows,
on a fresh store and the files an officer would have (written here), against the simulated
platform. A line that cannot run in a test is excused below with its reason — and an excuse for a
line no longer in the tour fails, so the list cannot rot."""
from __future__ import annotations

import datetime as dt
import json
import os
import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parents[2]
LOCAL = dt.timezone(dt.timedelta(hours=8))

EXCUSED = {
    "guapai demo": "about two minutes; tests/integration/test_demo.py runs it with --days 3",
    "guapai --db sqlite:///$HOME/.local/share/guapai/demo.sqlite": "reads the demo's own store (the line above)",
    "guapai trajectory compile": "builds a C extension in the package (~10 s); tests/trajectory/test_compiled_kernels.py builds one in a temporary folder",
    "guapai platform serve": "a server until stopped: the test starts the same simulator in-process",
    "guapai jobs serve": "the scheduler runs until stopped; tests/jobs drive its ticks",
    "guapai --as zhao tui": "interactive; tests/tui drive the same board headless with Pilot",
    "guapai --as admin db grant": "PostgreSQL only; tests/security/test_pg_roles.py",
}


def tour_commands(heading: str = "## A short tour") -> list[list[str]]:
    """The commands of the README's code block under `heading` (`;` separates two on a line)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split(heading, 1)[1].split("```", 2)[1]
    commands = []
    for line in block.strip().splitlines():
        words = shlex.split(line.split(" # ", 1)[0].split("   #", 1)[0])
        current: list[str] = []
        for word in words + [";"]:
            if word == ";":
                if current:
                    commands.append(current)
                current = []
            else:
                current.append(word)
    return commands


def excuse_for(command: list[str], excused: dict[str, str] = EXCUSED) -> str | None:
    line = " ".join(command)
    return next((why for prefix, why in excused.items() if line.startswith(prefix)), None)


def write_files(folder: Path) -> None:
    """What the officers bring: companies, vehicles (XLSX), violations, a trajectory, new rules."""
    from openpyxl import Workbook

    from listing.domain.identifiers import uscc_check_char

    companies = [("杭州甲运输有限公司", "货运", 1), ("杭州乙货运有限公司", "货运", 2), ("杭州丙物流有限公司", "货运", 3)]
    lines = ["统一社会信用代码,企业名称,业务类型,辖区"]
    for name, kind, n in companies:
        first = f"91330106{n:09d}"
        lines.append(f"{first + uscc_check_char(first)},{name},{kind},西湖区")
    (folder / "企业.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    book = Workbook()
    sheet = book.active
    sheet.append(["号牌号码", "企业统一社会信用代码", "车辆类型", "启用日期"])
    plates = {}
    for name, _, n in companies:
        first = f"91330106{n:09d}"
        plates[n] = [f"浙A{n}{i:04d}" for i in range(20 if n == 1 else 10)]
        for plate in plates[n]:
            sheet.append([plate, first + uscc_check_char(first), "货车", "2020-01-01"])
    book.save(folder / "vehicles.xlsx")
    rows = ["违法时间,号牌号码,违法代码,记分,来源"]
    for k in range(120):  # 6 per vehicle in a year: 甲 crosses the 4.0 per vehicle threshold
        rows.append(f"2026-{6 + k % 5:02d}-{1 + k % 27:02d} 09:{k % 60:02d}:00,{plates[1][k % 20]},1352,3,电子监控")
    for k in range(10):
        rows.append(f"2026-07-{1 + k:02d} 10:00:00,{plates[2][k]},1352,3,电子监控")
    (folder / "违法.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    start = dt.datetime(2026, 11, 18, 9, 0, tzinfo=LOCAL)
    points = ["vehicle,time,lat,lon,speed_kmh"]
    for i in range(120):  # 20 minutes at 100 km/h eastwards: a coach over its limit
        points.append(f"浙A10001,{(start + dt.timedelta(seconds=10 * i)).isoformat()},30.25,{120.1 + i * 0.002884:.6f},100")
    (folder / "day.csv").write_text("\n".join(points) + "\n", encoding="utf-8")
    import polars as pl

    (folder / "positions").mkdir()
    start = dt.datetime(2026, 11, 23, 9, 0, tzinfo=LOCAL)
    pl.DataFrame({"vehicle": ["浙A10002"] * 120, "time": [start + dt.timedelta(seconds=10 * i) for i in range(120)],
                  "lat": [30.25] * 120, "lon": [120.1 + i * 0.002884 for i in range(120)], "speed_kmh": [100.0] * 120}
                 ).write_parquet(folder / "positions" / "part-0.parquet")  # a day of the whole fleet (of one truck)
    rules = (ROOT / "rules/criteria/default_rules.toml").read_text(encoding="utf-8")
    (folder / "new.toml").write_text(re.sub(r'(?m)^version = ".*"$', 'version = "2026.2"', rules), encoding="utf-8")


@pytest.fixture
def session_env(tmp_path, monkeypatch):
    """A fresh store, the officers' files, the simulated platform (every vehicle-day carries a
    planted violation, so sampling finds something to confirm), and a clock the test moves."""
    from cli import context
    from listing.simulation.platform import start_simulator

    write_files(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / ".config"))
    monkeypatch.setenv("GUAPAI_DATABASE_URL", f"sqlite:///{tmp_path / 'guapai.sqlite'}")
    monkeypatch.setenv("GUAPAI_SAMPLING_SECRET", "tour-secret")
    monkeypatch.setenv("GUAPAI_LANG", "en")
    for name in ("GUAPAI_USER", "GUAPAI_DINGTALK_WEBHOOK", "GUAPAI_WECOM_WEBHOOK"):
        monkeypatch.delenv(name, raising=False)
    vehicles = {f"浙A{n}{i:04d}": "truck" for n in (1, 2, 3) for i in range(20 if n == 1 else 10)}
    clock = {"now": dt.datetime(2026, 11, 20, 10, 0, tzinfo=LOCAL)}
    monkeypatch.setattr(context, "now", lambda: clock["now"].astimezone(dt.timezone.utc))
    with start_simulator(vehicles, seed=7, token="tour-token", plant_rate=1.0) as sim:
        monkeypatch.setenv("GUAPAI_PLATFORM_URL", sim.url)
        monkeypatch.setenv("GUAPAI_PLATFORM_TOKEN", "tour-token")
        yield {"clock": clock, "folder": tmp_path}


def before(command: list[str], env: dict) -> None:
    """What happens in the world between the tour's lines (time passing, the scheduler's work)."""
    line = " ".join(command)
    clock = env["clock"]
    if "jobs run sampling --date 2026-11-22" in line:  # the same story in either tour
        clock["now"] = dt.datetime(2026, 11, 24, 10, 0, tzinfo=LOCAL)  # the days sampled are over
    if " review show" in line:
        # the cycle confirmed on 2026-11-20 ends on 2027-02-20; the daily deadlines job moves it to review
        from listing.services import deadlines
        from listing.services.notifications import LogChannel
        from listing.store.db import open_store
        import os

        clock["now"] = dt.datetime(2027, 2, 21, 10, 0, tzinfo=LOCAL)
        store = open_store(os.environ["GUAPAI_DATABASE_URL"])
        with store.session() as s:
            assert deadlines.run(s, LogChannel(), now=clock["now"])["cycles_ended"] == 1
        store.engine.dispose()


EXPECT = {  # what some lines must show (beyond exit code 0)
    "guapai --as zhao rules apply": ("stderr", "1"),
    "guapai --as zhao todo": ("stdout", "guapai --as zhao listing confirm 1"),
    "guapai --as wang findings show 1": ("stdout", "Finding 1"),
    "guapai --as zhao company show 甲运输": ("stdout", "杭州甲运输有限公司"),
    "guapai board --as zhao --sort days --wide": ("stdout", "杭州甲运输有限公司"),
    "guapai --as zhao review decide 1 --pass --reason 现场核查已整改": ("stderr", "it overrides"),
    "guapai --as li problems rectify 1": ("stderr", "rectified"),
    "guapai --as wang problems verify 1": ("stderr", "verified"),
}


def test_every_line_of_the_readme_tour_runs(session_env):
    import main

    commands = tour_commands()
    assert len(commands) >= 40
    runner = CliRunner()
    excused, ran = [], []
    for command in commands:
        assert command[0] == "guapai", command
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
            assert text in getattr(result, stream), f"{line}: {text!r} not in {stream}:\n{getattr(result, stream)}"
        if "--json" in command and result.stdout.strip():
            json.loads(result.stdout)
        if os.environ.get("TOUR_SHOW") and os.environ["TOUR_SHOW"] in line:
            print(f"$ {line}\n{result.stdout}{result.stderr}")
        ran.append(line)
    assert {excuse_for(shlex.split(e)) for e in excused} == set(EXCUSED.values())  # every excuse still used
    assert len(ran) >= len(commands) - len(EXCUSED)
