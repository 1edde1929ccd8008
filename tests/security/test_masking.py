"""Driver ID numbers (身份证号) and phones are masked in every output unless the acting role needs
them: every CLI command that shows data (found by walking the typer app, so a new command is
covered or this test says what it needs), tables and --json, for every role; import errors;
the XLSX and HTML reports; notifications (DingTalk / WeCom payloads, the log channel); log
records. Only police see them, and only where they are the point (drivers list, findings list);
reports, notifications and logs never show them, whoever acts."""
import datetime as dt
import json
import logging
import re

import httpx
import pytest
from sqlmodel import select
from typer.main import get_command
from typer.testing import CliRunner

import main
from listing.domain.personal import mask_data, mask_text
from listing.domain.states import Event
from listing.services import findings, listings, problems, review
from listing.services.notifications import LogChannel
from listing.services.users import resolve_actor
from listing.simulation.city import CityPlan
from listing.simulation.drill import run as drill
from listing.store import tables
from listing.store.db import open_store
from listing.timeutil import LOCAL_TZ

TODAY = dt.date(2026, 11, 24)
DECIDED = dt.datetime(2026, 11, 20, 15, tzinfo=LOCAL_TZ)
ROLES = ("admin", "police.wang", "transport.li", "reviewer.zhao", "police.xihu")
# (command, role) pairs whose output may show raw personal data: police, where it is the point.
REVEALS = {("drivers", "list"), ("findings", "list")}
REVEALING_ROLES = {"police.wang", "police.xihu"}
# Commands with --json that are not run here, and why (their data paths are covered elsewhere).
NOT_RUN = {
    ("demo",): "builds its own city for two minutes; its reports and board are the ones checked here",
    ("jobs", "simulate"): "runs the jobs; the same jobs run in tests/security/test_secrets.py",
    ("db", "grant"): "PostgreSQL only; prints a user and a role name",
}


def walk(command, path=()):
    if hasattr(command, "commands"):
        for name, sub in command.commands.items():
            yield from walk(sub, (*path, name))
    else:
        yield path, command


def data_commands():
    """Every command with --json: the commands that show data."""
    return [(path, cmd) for path, cmd in walk(get_command(main.app))
            if any("--json" in p.opts for p in cmd.params) and path not in NOT_RUN]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A SIMULATED city after 40 days of the real jobs, plus personal data typed into free text
    (a dismissal reason, a problem note, a review decision) and import files with bad rows."""
    folder = tmp_path_factory.mktemp("masking")
    url = f"sqlite:///{folder / 'city.sqlite'}"
    store = open_store(url)
    drill(store, seed=7, today=TODAY, days=40, city_plan=CityPlan(companies=40, mean_fleet=6))
    with store.session() as s:  # two findings of a known driver, still to be reviewed; an open problem
        seen = s.exec(select(tables.Finding).where(tables.Finding.driver_id.is_not(None))).first()
        for k in (1, 2):
            s.add(tables.Finding(sample_id=seen.sample_id, day=seen.day, company_id=seen.company_id, vehicle_id=seen.vehicle_id,
                                 driver_id=seen.driver_id, rule=seen.rule, regulation=seen.regulation,
                                 start=seen.start + dt.timedelta(seconds=k), end=seen.end, evidence=seen.evidence))
        s.add(tables.Problem(company_id=seen.company_id, source="inspection", description="台账不全", owner="企业",
                             due=TODAY, created_at=DECIDED - dt.timedelta(days=3)))
    with store.session() as s:
        drivers = s.exec(select(tables.Driver)).all()
        first, second = drivers[0], drivers[1]
        police, reviewer = resolve_actor(s, "police.wang"), resolve_actor(s, "reviewer.zhao")
        suspected = s.exec(select(tables.Finding.id).where(tables.Finding.state == "suspected")).first()
        problem = s.exec(select(tables.Problem.id).where(tables.Problem.state == "open")).first()
        listing = s.exec(select(tables.Listing).where(tables.Listing.state == "listed")).first()
        listing_id, uscc = listing.id, s.get(tables.Company, listing.company_id).uscc
    typed = f"司机 {first.id_number} 电话 {first.phone}"
    assert suspected and problem  # the drill produced both; the free-text paths need them
    with store.session() as s:
        findings.dismiss(s, police, suspected, reason=f"非本人驾驶,{typed}", now=DECIDED)
    with store.session() as s:
        problems.change(s, resolve_actor(s, "transport.li"), problem, "rectify", now=DECIDED, note=f"已约谈 {typed}")
    with store.session() as s:
        listings.apply(s, resolve_actor(s, "reviewer.zhao"), listing_id, Event.END_CYCLE, now=DECIDED - dt.timedelta(hours=2))
    with store.session() as s:
        review.decide(s, reviewer, listing_id, False, reason=f"驾驶员 {second.id_number}({second.phone})违法未整改",
                      now=DECIDED, channel=LogChannel(sink=lambda _: None))
    # import files whose bad rows echo personal data back
    bad_id = first.id_number[:17] + ("0" if first.id_number[17] != "0" else "1")  # a typo: wrong check digit
    unknown = "110105194912310029"  # a valid ID number of nobody in the city
    (folder / "drivers.csv").write_text(f"id_number,name,phone,company_uscc\n{bad_id},某某,{second.phone}x,{uscc}\n",
                                        encoding="utf-8")
    (folder / "violations.csv").write_text(
        "occurred_at,plate,driver_id_number,code,points,source\n"
        f"2026-11-01 10:00:00,浙Z00000,{unknown},1301,3,camera\n", encoding="utf-8")
    with store.session() as s:
        ids = {d.id_number for d in s.exec(select(tables.Driver)).all()}
        phones = {d.phone for d in s.exec(select(tables.Driver)).all() if d.phone}
        month = f"{DECIDED:%Y-%m}"
    store.engine.dispose()
    return {"url": url, "folder": folder, "ids": ids | {bad_id, unknown}, "phones": phones, "listing": listing_id,
            "uscc": uscc, "month": month, "bad_id": bad_id, "unknown": unknown, "typed": typed}


def raw_in(text: str, world) -> set[str]:
    return {v for v in (*world["ids"], *world["phones"]) if v in text}


def args_for(path, world) -> list[str]:
    """The arguments a command needs to show its data (a new command with required arguments
    fails here until it is given some: then it is covered)."""
    needs = {
        ("review", "show"): [str(world["listing"])],
        ("sample", "verify"): [str(TODAY - dt.timedelta(days=1)), world["uscc"]],
        ("import", "drivers"): [str(world["folder"] / "drivers.csv"), "--dry-run"],
        ("import", "violations"): [str(world["folder"] / "violations.csv"), "--dry-run"],
        ("rules", "backtest"): ["--from", "2026-10-01", "--to", "2026-11-24"],
        ("jobs", "run"): ["deadlines", "--date", str(TODAY)],
        ("trajectory", "scan"): [str(world["folder"] / "positions.csv"), "--assignments", str(world["folder"] / "roster.csv")],
        ("findings", "list"): ["--state", "all"],
        ("inspect", "correct"): ["1", "--date", str(TODAY), "--reason", "日期录错"],  # the first allowed role corrects it
        ("problems", "list"): ["--state", "all"],
        ("audit", "log"): ["--limit", "1000"],
    }
    if path in needs:
        return needs[path]
    if path[0] == "import":
        return [str(world["folder"] / "drivers.csv"), "--dry-run"]  # any file: refused or rejected, masked
    return []


@pytest.fixture(scope="module")
def runs(world):
    """Every data command x every role x (table, --json), with log records captured."""
    folder = world["folder"]
    driver_id = sorted(world["ids"])[0]
    (folder / "positions.csv").write_text("vehicle,time,lat,lon,speed\n浙A00001,2026-11-23 10:00:00,30.2,120.1,0\n",
                                          encoding="utf-8")
    (folder / "roster.csv").write_text(f"vehicle,driver,start,end\n浙A00001,{driver_id},2026-11-23 00:00:00,\n",
                                       encoding="utf-8")
    runner = CliRunner()
    out = {}
    commands = data_commands()
    for path, cmd in commands:
        for user in ROLES:
            for fmt in ([], ["--json"]):
                r = runner.invoke(main.app, ["--db", world["url"], "--as", user, *path, *args_for(path, world), *fmt],
                                  env={"GUAPAI_CONFIG": str(folder / "none.toml"), "GUAPAI_SAMPLING_SECRET": "s3cret-for-verify"})
                out[(path, user, bool(fmt))] = r
    return commands, out


def test_every_command_masks_personal_data_unless_the_role_needs_it(world, runs):
    commands, out = runs
    assert len(commands) >= 25  # the walk found the data commands (tables and JSON)
    leaks, shown = [], set()
    for (path, user, as_json), r in out.items():
        assert r.exception is None or isinstance(r.exception, SystemExit), (path, user, r.exception)
        found = raw_in(r.stdout + r.stderr, world)
        if path in REVEALS and user in REVEALING_ROLES:
            shown |= {path} if found else set()
        elif found:
            leaks.append((" ".join(path), user, "json" if as_json else "table", sorted(found)[:3]))
    assert leaks == []
    assert shown == REVEALS  # police do see what they need (the check above is not vacuous)
    ok = sum(r.exit_code == 0 for r in out.values())
    assert ok >= len(out) // 2, "most commands must actually show data for the check to mean anything"


def test_free_text_and_import_errors_are_masked_and_still_useful(world, runs):
    _, out = runs
    log = out[(("audit", "log"), "reviewer.zhao", True)]
    events = json.loads(log.stdout)
    typed = [json.dumps(e, ensure_ascii=False) for e in events if "司机" in json.dumps(e, ensure_ascii=False)]
    assert {json.loads(t)["action"] for t in typed} == {"finding.dismiss", "problem.rectify"}
    assert all(mask_text(world["typed"]) in t for t in typed)  # the officer's words stay, the numbers masked
    rejected = json.loads(out[(("import", "drivers"), "transport.li", True)].stdout)
    assert not rejected["ok"] and {e["column"] for e in rejected["errors"]} >= {"id_number", "phone"}
    bad = next(e for e in rejected["errors"] if e["column"] == "id_number")
    assert bad["value"] == world["bad_id"][:6] + "*" * 10 + world["bad_id"][-2:] and bad["row"] == 2
    unknown = json.loads(out[(("import", "violations"), "admin", True)].stdout)
    assert any(e["value"] == world["unknown"][:6] + "*" * 10 + world["unknown"][-2:] for e in unknown["errors"])


def test_drivers_list_json_masks_for_other_roles_and_shows_police(world, runs):
    _, out = runs
    shown = json.loads(out[(("drivers", "list"), "police.wang", True)].stdout)
    assert {d["id_number"] for d in shown} <= world["ids"] and len(shown) > 10
    for user in ("transport.li", "reviewer.zhao", "admin"):
        masked = json.loads(out[(("drivers", "list"), user, True)].stdout)
        assert len(masked) == len(shown) and all(d["id_number"][6:-2] == "*" * 10 for d in masked)
        assert all(re.fullmatch(r"\d{3}\*{4}\d{4}", d["phone"]) for d in masked if d["phone"])


def test_reports_never_hold_personal_data_whoever_writes_them(world, tmp_path):
    import openpyxl

    runner = CliRunner()
    for user in ROLES:
        for suffix in ("xlsx", "html"):
            path = tmp_path / f"{user}.{suffix}"
            r = runner.invoke(main.app, ["--db", world["url"], "--as", user, "report", "monthly", "--month", world["month"],
                                         "--out", str(path)])
            assert r.exit_code == 0, r.stderr
            if suffix == "html":
                text = path.read_text(encoding="utf-8")
            else:
                book = openpyxl.load_workbook(path)
                text = "\n".join(str(c.value) for ws in book.worksheets for row in ws.iter_rows() for c in row
                                 if c.value is not None)
            assert raw_in(text, world) == set(), (user, suffix)
            if user != "police.xihu":  # a district officer: nothing of theirs is listed (the report still opens)
                assert "违法未整改" in text and "*" * 10 in text  # the decision's reason is there, masked


def test_notifications_are_masked_on_every_channel():
    from jobs.notify import DingTalkRobot, WeComRobot

    text = "驾驶员 11010519491231002X(电话 13812345678,+86 139-1234-5678)疲劳驾驶"
    payloads = []

    def handler(request: httpx.Request) -> httpx.Response:
        payloads.append(request.content.decode("utf-8"))
        return httpx.Response(200, json={"errcode": 0})

    transport = httpx.MockTransport(handler)
    DingTalkRobot("https://oapi.dingtalk.com/robot/send?access_token=t0ken", "SEC1", transport=transport).send("k", "标题 13812345678", text)
    WeComRobot("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k3y", transport=transport).send("k", "标题", text)
    sink = []
    LogChannel(sink=sink.append).send("k", "标题", text)
    assert len(payloads) == 2 and len(sink) == 1
    for body in [*(json.loads(p) for p in payloads), sink[0]]:
        flat = json.dumps(body, ensure_ascii=False)
        assert "11010519491231002X" not in flat and "13812345678" not in flat and "1391234" not in flat
        assert "110105**********2X" in flat and "138****5678" in flat


def test_log_records_are_masked_whatever_the_logger(caplog):
    from listing import redact

    redact.install()
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("guapai.jobs").info("finding for driver %s, phone %s", "11010519491231002X", "13812345678")
        logging.getLogger("some.library").warning("row %d: 11010519491231002X", 7)
        try:
            raise ValueError("bad driver 11010519491231002X")
        except ValueError:
            logging.getLogger("guapai.jobs").exception("failed")
    assert "11010519491231002X" not in caplog.text and "13812345678" not in caplog.text
    assert caplog.text.count("110105**********2X") >= 3 and "138****5678" in caplog.text


def test_masking_helper_finds_personal_data_in_text_without_touching_codes_or_hashes():
    text = ("ID 11010519491231002X, typo 110105194912310021; phones 13812345678 / 0571-87654321; "
            "credit code 91330106MA2B3C4D5E, sha256 a3f5110105194912310029ff, plate 浙A12345, 1732406400123 ms")
    masked = mask_text(text)
    assert "ID 110105**********2X, typo 110105**********21; phones 138****5678 / 057******4321;" in masked
    for kept in ("91330106MA2B3C4D5E", "a3f5110105194912310029ff", "浙A12345", "1732406400123"):
        assert kept in masked
    assert mask_data({"a": [text, 1, None], text: (text,)}) == {"a": [masked, 1, None], masked: (masked,)}
