"""`guapai tui` driven headless with Textual's Pilot: the keys act through the services, with the
same permission checks and audit as the CLI."""
import asyncio

from sqlmodel import select

from listing.store import tables
from tests.cli.world import NOW, uscc


def drive(world, user, script, size=(160, 48), lang="en"):
    """Run the board as `user`, let `script(pilot, app)` press keys; return the notices shown."""
    import main  # noqa: F401 - registers the CLI's messages, as `guapai tui` has them
    from cli.tui.actions import Desk
    from cli.tui.app import BoardApp

    app = BoardApp(Desk(world["store"], user, lambda: NOW, lang))
    notices = []
    app.notify = lambda message, **kw: notices.append((str(message), kw.get("severity", "information")))

    async def main_():
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            await script(pilot, app)
            await pilot.pause()

    asyncio.run(main_())
    return notices


def screen_text(screen) -> str:
    """What the screen's Static widgets show, as plain text."""
    from rich.console import Console

    console = Console(width=160, record=True, file=open("/dev/null", "w"))
    for widget in screen.query("Static"):
        console.print(widget.content)
    return console.export_text()


def audit_actions(world, action):
    with world["store"].session(readonly=True) as s:
        return [(e.actor, e.entity_id) for e in s.exec(select(tables.AuditEvent).where(tables.AuditEvent.action == action))]


async def open_story(pilot, app, code):
    """Move the cursor to the company and press Enter."""
    row = [r["uscc"] for r in app.rows].index(code)
    for _ in range(row):
        await pilot.press("down")
    await pilot.press("enter")
    await pilot.pause()


def test_board_lists_searches_filters_and_opens_the_story(world):
    seen = {}

    async def script(pilot, app):
        seen["all"] = [r["uscc"] for r in app.rows]
        seen["table_rows"] = app.table.row_count
        await pilot.press("slash", *"乙客", "enter")
        await pilot.pause()
        seen["searched"] = [r["uscc"] for r in app.rows]
        app.search_input.value = ""
        await pilot.press("slash", *"hzj", "enter")  # initials of 杭州甲: no name has the letters
        await pilot.pause()
        seen["by_sound"] = [r["uscc"] for r in app.rows]
        app.search_input.value = ""
        await pilot.press("slash", "enter", "f")  # filter: red only
        await pilot.pause()
        seen["red"] = [r["uscc"] for r in app.rows]
        await pilot.press("f")  # yellow
        await pilot.pause()
        seen["yellow"] = [r["uscc"] for r in app.rows]
        await pilot.press("f", "f")  # back to all
        await pilot.pause()
        await open_story(pilot, app, uscc(1))
        seen["screen"] = type(app.screen).__name__
        seen["story"] = app.screen.story["company"]["name"]
        seen["text"] = screen_text(app.screen)
        await pilot.press("escape")
        seen["back"] = type(app.screen).__name__

    drive(world, "reviewer", script)
    assert seen["all"] == [uscc(2), uscc(1)] and seen["table_rows"] == 2  # 上城区 before 西湖区
    assert seen["searched"] == [uscc(2)] and seen["by_sound"] == [uscc(1)]
    assert seen["red"] == [uscc(2), uscc(1)] and seen["yellow"] == []  # overdue problem; sampling < 50%
    assert seen["screen"] == "StoryScreen" and seen["story"] == "杭州甲运输有限公司"
    assert "stays listed: 检查缺失" in seen["text"]
    assert seen["back"] == "Screen"


def test_keys_record_an_inspection_and_a_problem_audited_under_the_officer(world):
    async def script(pilot, app):
        await open_story(pilot, app, uscc(2))
        await pilot.press("i", *"台账抽查", "enter")
        await pilot.pause()
        await pilot.press("p", *"灭火器过期", "enter")
        await pilot.pause()

    notices = drive(world, "police", script)
    assert [s for _, s in notices] == ["information", "information"], notices
    with world["store"].session(readonly=True) as s:
        rows = s.exec(select(tables.Inspection).where(tables.Inspection.company_id == world["yi"])).all()
        problems = s.exec(select(tables.Problem).where(tables.Problem.company_id == world["yi"])).all()
    assert [(r.department, r.inspector, r.notes) for r in rows] == [("police", "police", "台账抽查"), ("police", "police", None)]
    assert [p.description for p in problems] == ["灭火器过期"]
    assert [a for a, _ in audit_actions(world, "inspection.record")][-2:] == ["police", "police"]


def test_a_refused_key_says_why_changes_nothing_and_is_audited(world):
    async def script(pilot, app):
        await open_story(pilot, app, uscc(2))
        await pilot.press("i", "enter")  # a reviewer may not record inspections
        await pilot.pause()

    notices = drive(world, "reviewer", script)
    assert notices[-1][1] == "error" and "may not inspection.record.transport" in notices[-1][0]
    with world["store"].session(readonly=True) as s:
        assert not s.exec(select(tables.Inspection).where(tables.Inspection.company_id == world["yi"])).all()
    assert ("reviewer", None) in audit_actions(world, "denied.inspection.record.transport")


def test_verify_keeps_four_eyes_and_confirm_finding_goes_through(world):
    async def verify(pilot, app):
        await open_story(pilot, app, uscc(1))
        await pilot.press("v", "enter")  # the default is the rectified problem of the story
        await pilot.pause()

    notices = drive(world, "transport", verify)  # transport rectified it
    assert notices[-1][1] == "error" and "different officer" in notices[-1][0]
    notices = drive(world, "police2", verify)
    assert notices[-1] == (f"problem {world['problem']}: verified", "information")

    async def confirm(pilot, app):
        await open_story(pilot, app, uscc(2))
        await pilot.press("c", "enter")
        await pilot.pause()

    notices = drive(world, "police", confirm)
    assert notices[-1] == (f"finding {world['finding']}: confirmed", "information")
    assert audit_actions(world, "finding.confirm") == [("police", str(world["finding"]))]


def test_decide_a_review_against_the_checklist_needs_a_reason(world):
    async def no_reason(pilot, app):
        await open_story(pilot, app, uscc(1))
        await pilot.press("d", *"pass", "enter")
        await pilot.pause()

    notices = drive(world, "reviewer", no_reason)
    assert notices[-1][1] == "error" and "needs --reason" in notices[-1][0]

    async def with_reason(pilot, app):
        await open_story(pilot, app, uscc(1))
        await pilot.press("d", *"pass", "tab", *"现场核查", "enter")
        await pilot.pause()

    notices = drive(world, "reviewer", with_reason)
    assert "delisted" in notices[-1][0] and "overrides" in notices[-1][0]
    assert audit_actions(world, "listing.pass") == [("reviewer", str(world["jia_listing"]))]


def test_the_footer_speaks_the_officers_language(world):
    """The keys' descriptions follow --lang like everything else on the screen."""
    seen = {}

    def footer(app):
        return {k.description for k in app.screen.query("FooterKey")}

    async def script(pilot, app):
        seen["board"] = footer(app)
        await pilot.press("f", "s")  # red only, sorted by days to review
        await pilot.pause()
        seen["status"] = str(app.status.content)
        await pilot.press("f", "f", "f")  # back to all
        await pilot.pause()
        await open_story(pilot, app, uscc(1))
        await pilot.pause()
        seen["story"] = footer(app)

    drive(world, "reviewer", script, lang="zh")
    assert {"退出", "帮助", "搜索", "验收决定"} <= seen["board"] and not {"Quit", "Help", "Search"} & seen["board"]
    assert "返回" in seen["story"] and "Back" not in seen["story"]
    assert "筛选:红" in seen["status"] and "排序:距验收天数" in seen["status"], seen["status"]
    english = {}

    async def in_english(pilot, app):
        english["board"] = footer(app)

    drive(world, "reviewer", in_english)
    assert {"Quit", "Help", "Search", "Decide"} <= english["board"]
