"""The interactive board (交互式看板), after k9s and lazygit: a live list, one key to drill in,
one key to act, `?` for help. Every action goes through cli/tui/actions.py — the services the
CLI calls, with their permission checks and audit."""
from __future__ import annotations

import datetime as dt

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, DataTable, Footer, Header, Input, Label, Static

from cli.tui import actions
from messages import t
from messages.errors import GuapaiError

COLOURS = (None, "red", "yellow", "green")


def localize_keys(node, lang: str) -> None:
    """The footer's key descriptions in the officer's language (tui.key.<action>; Textual keeps a
    node's bindings per instance, so this changes only `node`)."""
    from dataclasses import replace

    from messages import known

    keymap = getattr(getattr(node, "_bindings", None), "key_to_bindings", None)
    if keymap is None:  # a Textual whose bindings live elsewhere: English keys rather than no board
        return
    for key, bindings in keymap.items():
        keymap[key] = [replace(b, description=t(f"tui.key.{b.action}", lang)) if known(f"tui.key.{b.action}") else b
                       for b in bindings]


class Form(ModalScreen):
    """A few labelled inputs; dismisses with {name: text} or None (Esc / Cancel)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, fields: list[tuple[str, str, str]], lang: str):
        super().__init__()
        localize_keys(self, lang)
        self.title_text, self.fields, self.lang = title, fields, lang

    def compose(self) -> ComposeResult:
        with Vertical(id="form"):
            yield Label(self.title_text, id="form-title")
            for name, label, value in self.fields:
                yield Label(label)
                yield Input(value=value, id=f"field-{name}")
            yield Button(t("tui.ok", self.lang), id="ok", variant="primary")
            yield Button(t("tui.cancel", self.lang), id="cancel")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self._submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self._submit() if event.button.id == "ok" else self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def _submit(self) -> None:
        self.dismiss({name: self.query_one(f"#field-{name}", Input).value.strip() for name, _, _ in self.fields})


class StoryScreen(Screen):
    """One company's story; the action keys act on this company."""

    BINDINGS = [Binding("escape", "app.pop_screen", "Back"), Binding("q", "app.pop_screen", "Back", show=False)]

    def __init__(self, uscc: str):
        super().__init__()
        self.uscc = uscc

    def compose(self) -> ComposeResult:
        yield Header()
        yield VerticalScroll(id="story")
        yield Footer()

    def on_mount(self) -> None:
        localize_keys(self, self.app.desk.lang)
        self.refresh_bindings()
        self.refresh_story()

    def refresh_story(self) -> None:
        from cli.render_story import story_renderables

        app: BoardApp = self.app  # type: ignore[assignment]
        box = self.query_one("#story", VerticalScroll)
        box.remove_children()
        try:
            data = actions.story(app.desk, self.uscc)
        except GuapaiError as exc:
            app.notify(exc.message(app.desk.lang), severity="error")
            return
        self.story = data
        box.mount_all([Static(part) for part in story_renderables(data, app.desk.lang)])


class BoardApp(App):
    """The board: search, colour filter, sort; Enter opens the company story."""

    TITLE = "guapai"
    CSS = """
    #form { width: 70; height: auto; border: thick $accent; padding: 1 2; background: $surface; }
    Form { align: center middle; }
    #status { height: 1; color: $text-muted; }
    """
    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Help"),
        Binding("slash", "search", "Search"),
        Binding("f", "filter", "Filter"),
        Binding("s", "sort", "Sort"),
        Binding("r", "refresh", "Refresh"),
        Binding("i", "inspect", "Inspect"),
        Binding("p", "problem", "Problem"),
        Binding("v", "verify", "Verify"),
        Binding("c", "confirm_finding", "Confirm"),
        Binding("x", "dismiss_finding", "Dismiss", show=False),
        Binding("d", "decide", "Decide"),
    ]
    SORTS = ("jurisdiction", "days", "colour", "problems", "coverage", "name")

    def __init__(self, desk: actions.Desk):
        super().__init__()
        self.desk = desk
        localize_keys(self, desk.lang)
        self.colour_index = 0
        self.sort_index = 0
        self.rows: list[dict] = []

    # --- layout and data ---------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(placeholder=t("tui.search", self.desk.lang), id="search")
        yield Static("", id="status")
        yield DataTable(id="board", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.title = t("tui.title", self.desk.lang)
        # kept: while a story screen is on top, a query would search that screen instead
        self.table = table = self.query_one("#board", DataTable)
        self.search_input = self.query_one("#search", Input)
        self.status = self.query_one("#status", Static)
        for key in ("col.company", "col.code", "col.cycle_short", "col.month_n", "col.review_in",
                    "col.sampled_short", "col.problems_short", "col.ready_short"):
            table.add_column(t(key, self.desk.lang, n="1-4") if key == "col.month_n" else t(key, self.desk.lang), key=key)
        self.load()
        table.focus()

    def load(self) -> None:
        from cli.board import month_cell

        search = self.search_input.value.strip() or None
        try:
            self.rows = actions.board(self.desk, colour=COLOURS[self.colour_index], search=search,
                                      sort=self.SORTS[self.sort_index])
        except GuapaiError as exc:
            self.notify(exc.message(self.desk.lang), severity="error")
            self.rows = []
        table = self.table
        table.clear()
        for r in self.rows:
            name = Text(("⚑" if r["escalated"] else "") + r["company"], style=r["colour"])
            days = "" if r["days_to_review"] is None else str(r["days_to_review"])
            table.add_row(name, r["uscc"], str(r["cycle"]), " ".join(month_cell(m) for m in r["months"]),
                          t("board.review_days", self.desk.lang, days=days) if r["state"] == "under_review" else days,
                          f"{r['sampling_coverage']:.0%}", f"{r['open_problems']}/{r['overdue_problems']}",
                          "✔" if r["ready_for_acceptance"] else "", key=r["uscc"])
        lang = self.desk.lang
        colour = t(f"tui.colour.{COLOURS[self.colour_index]}", lang) if COLOURS[self.colour_index] else t("tui.all", lang)
        self.status.update(
            f"{t('tui.filter', lang, colour=colour)} · {t('tui.sorted', lang, sort=t(f'tui.sort.{self.SORTS[self.sort_index]}', lang))}"
            f" · {t('msg.board', self.desk.lang, n=len(self.rows), red=sum(r['colour'] == 'red' for r in self.rows), yellow=sum(r['colour'] == 'yellow' for r in self.rows), green=sum(r['colour'] == 'green' for r in self.rows))}")

    def current(self) -> dict | None:
        """The company the keys act on: the open story's, else the board's cursor row."""
        if isinstance(self.screen, StoryScreen):
            return next((r for r in self.rows if r["uscc"] == self.screen.uscc), {"uscc": self.screen.uscc,
                                                                                  "listing_id": None})
        table = self.table
        if not self.rows or table.cursor_row is None or table.cursor_row >= len(self.rows):
            return None
        return self.rows[table.cursor_row]

    def after_change(self, message: str) -> None:
        self.notify(message)
        self.load()
        if isinstance(self.screen, StoryScreen):
            self.screen.refresh_story()

    def attempt(self, fn, *args, **kwargs) -> None:
        try:
            self.after_change(fn(self.desk, *args, **kwargs))
        except GuapaiError as exc:  # refused: role, jurisdiction, four eyes, state — said, nothing changed
            from cli.context import record_denial
            from messages.errors import PermissionDenied

            if isinstance(exc, PermissionDenied):
                record_denial(exc, self.desk.store, self.desk.user)  # audited like the CLI's refusals
            self.notify(exc.message(self.desk.lang), severity="error")

    # --- navigation --------------------------------------------------------------------------
    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.push_screen(StoryScreen(event.row_key.value))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "search":
            self.load()
            self.table.focus()

    def action_search(self) -> None:
        self.search_input.focus()

    def action_filter(self) -> None:
        self.colour_index = (self.colour_index + 1) % len(COLOURS)
        self.load()

    def action_sort(self) -> None:
        self.sort_index = (self.sort_index + 1) % len(self.SORTS)
        self.load()

    def action_refresh(self) -> None:
        self.load()

    def action_help(self) -> None:
        self.notify(t("tui.help", self.desk.lang), timeout=15)

    # --- actions -----------------------------------------------------------------------------
    def _form(self, title: str, fields: list[tuple[str, str]], then) -> None:
        lang = self.desk.lang
        self.push_screen(Form(title, [(name, t(f"tui.field.{name}", lang), value) for name, value in fields], lang),
                         lambda values: values is not None and then(values))

    def _company_or_warn(self) -> dict | None:
        row = self.current()
        if row is None:
            self.notify(t("tui.no_company", self.desk.lang), severity="warning")
        return row

    def action_inspect(self) -> None:
        row = self._company_or_warn()
        if row:
            self._form(f"{row.get('company', row['uscc'])}", [("notes", "")],
                       lambda v: self.attempt(actions.record_inspection, row["uscc"], notes=v["notes"]))

    def action_problem(self) -> None:
        row = self._company_or_warn()
        if not row:
            return
        default_due = (self.desk.today() + dt.timedelta(days=15)).isoformat()

        def then(v):
            due = self._date(v["due"])
            if due is not False:
                self.attempt(actions.record_inspection, row["uscc"], notes=v["notes"], problem=v["problem"], due=due)

        self._form(f"{row.get('company', row['uscc'])}", [("problem", ""), ("due", default_due), ("notes", "")], then)

    def action_verify(self) -> None:
        self._form(t("tui.field.problem_id", self.desk.lang), [("problem_id", self._first_id("problems", "rectified"))],
                   lambda v: self._with_int(v["problem_id"], "problem_id",
                                            lambda n: self.attempt(actions.change_problem, n, "verify")))

    def action_confirm_finding(self) -> None:
        self._form(t("tui.field.finding_id", self.desk.lang), [("finding_id", self._first_id("findings", "suspected"))],
                   lambda v: self._with_int(v["finding_id"], "finding_id",
                                            lambda n: self.attempt(actions.decide_finding, n, True)))

    def action_dismiss_finding(self) -> None:
        self._form(t("tui.field.finding_id", self.desk.lang),
                   [("finding_id", self._first_id("findings", "suspected")), ("reason", "")],
                   lambda v: self._with_int(v["finding_id"], "finding_id",
                                            lambda n: self.attempt(actions.decide_finding, n, False, v["reason"])))

    def action_decide(self) -> None:
        row = self._company_or_warn()
        if not row:
            return
        listing_id = row.get("listing_id")

        def then(v):
            choice = v["pass"].casefold()
            if choice not in ("pass", "fail", "通过", "不通过"):
                self.notify(t("tui.bad_field", self.desk.lang, field="pass/fail", value=v["pass"]), severity="error")
                return
            self.attempt(actions.decide_review, listing_id, choice in ("pass", "通过"), v["reason"] or None,
                         sink=lambda text: None)

        self._form(f"{row.get('company', row['uscc'])}", [("pass", ""), ("reason", "")], then)

    # --- helpers -----------------------------------------------------------------------------
    def _first_id(self, kind: str, state: str) -> str:
        """The first id of the open story's problems/findings in `state` (a default to confirm)."""
        if isinstance(self.screen, StoryScreen) and getattr(self.screen, "story", None):
            ids = [x["id"] for x in self.screen.story[kind] if x["state"] == state]
            return str(ids[0]) if ids else ""
        return ""

    def _with_int(self, text: str, field: str, then) -> None:
        if not text.isdigit():
            self.notify(t("tui.bad_field", self.desk.lang, field=t(f"tui.field.{field}", self.desk.lang), value=text),
                        severity="error")
            return
        then(int(text))

    def _date(self, text: str):
        if not text:
            return None
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            self.notify(t("tui.bad_field", self.desk.lang, field=t("tui.field.due", self.desk.lang), value=text),
                        severity="error")
            return False
