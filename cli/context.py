"""Global options (--db, --as, --lang) and the one place where service errors become CLI errors."""
from __future__ import annotations

import sys
from dataclasses import dataclass

import typer
from typer.core import TyperGroup

from cli import output


@dataclass
class GlobalOptions:
    """--db, --as and --lang as given on the command line (configuration is listing.settings)."""

    db_url: str | None
    user: str | None
    lang: str


_options = GlobalOptions(db_url=None, user=None, lang="en")


_process = {"console": False}  # set by main.run: this process is the `guapai` command itself


def console_process() -> None:
    """Mark this process as the console command (main.run), not a test runner invoking the app."""
    _process["console"] = True


def end_process_now() -> None:
    """In the console process only (not under a test runner): flush the output and end the
    process without the interpreter's teardown, which with numba and polars loaded takes
    0.6-0.9 s here (measured: numba's modules 0.6 s, polars 0.25 s) and frees nothing anybody
    waits for. Only for a command that has nothing pending: no store session, no thread at work."""
    if not _process["console"]:
        return
    import logging
    import os

    sys.stdout.flush()
    sys.stderr.flush()
    logging.shutdown()
    os._exit(0)


def root_options(
    db: str = typer.Option(
        None, "--db", envvar="GUAPAI_DATABASE_URL",
        help="Database URL (default: a SQLite file in the user data directory). "
        "PostgreSQL: postgresql+psycopg://user@host/db",
    ),
    as_user: str = typer.Option(None, "--as", envvar="GUAPAI_USER", help="Acting user (用户名)."),
    lang: str = typer.Option(None, "--lang", envvar="GUAPAI_LANG", help="Language: zh or en (default from the locale)."),
) -> None:
    """guapai 挂牌整治 — listed rectification of road-transport companies."""
    from messages import LANGS, default_lang

    chosen = lang or default_lang()
    if chosen not in LANGS:
        raise typer.BadParameter(f"--lang must be zh or en, not {chosen}")
    _options.db_url, _options.user, _options.lang = db, as_user, chosen
    output.set_lang(chosen)


def options() -> GlobalOptions:
    return _options


def open_store():
    """The store chosen by --db, migrated to the current schema."""
    from listing.store.db import open_store as _open

    return _open(_options.db_url)


_GLOBAL_WITH_VALUE = ("--as", "--db", "--lang")


def hoist_global_options(args: list[str]) -> list[str]:
    """`--as`, `--db`, `--lang` may come after the subcommand and `--json` before it: move the
    first three to the front and `--json` to the end, so `guapai board --as zhao` and
    `guapai --json board` work like `guapai --as zhao board --json`. Nothing after `--` moves."""
    front, rest, json_flag, i = [], [], False, 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            rest.extend(args[i:])
            break
        if arg in _GLOBAL_WITH_VALUE and i + 1 < len(args):
            front += [arg, args[i + 1]]
            i += 2
            continue
        if arg.startswith(tuple(f"{g}=" for g in _GLOBAL_WITH_VALUE)):
            front.append(arg)
        elif arg == "--json":
            json_flag = True
        else:
            rest.append(arg)
        i += 1
    if json_flag:
        cut = rest.index("--") if "--" in rest else len(rest)
        rest.insert(cut, "--json")
    return front + rest


class ErrorHandlingGroup(TyperGroup):
    """Turns a service error into one clear line on stderr and its exit code."""

    def make_context(self, info_name, args, parent=None, **extra):
        from cli.help_lang import lang_from_args, localize, reflow_all

        localize(self, lang_from_args(list(args)))  # --help in the officer's language
        reflow_all(self)  # paragraphs rewrapped to the terminal, not to the source's 100 columns
        return super().make_context(info_name, args, parent=parent, **extra)

    def parse_args(self, ctx, args):
        if ctx.parent is None:
            args = hoist_global_options(list(args))
        return super().parse_args(ctx, args)

    def invoke(self, ctx):
        from messages.errors import GuapaiError, PermissionDenied

        try:
            return super().invoke(ctx)
        except PermissionDenied as exc:
            record_denial(exc)
            _error_line(exc)
            sys.stderr.flush()
            raise typer.Exit(exc.exit_code) from None
        except GuapaiError as exc:
            _error_line(exc)
            sys.stderr.flush()
            raise typer.Exit(exc.exit_code) from None
        except Exception as exc:  # a store failure an officer can act on: busy SQLite, lost PostgreSQL
            mapped = _store_error(exc)
            if mapped is None:
                raise
            _error_line(mapped)
            sys.stderr.flush()
            raise typer.Exit(mapped.exit_code) from None


def _error_line(exc) -> None:
    """One line on stderr, whatever its length: never hard-wrapped at 80 columns when stderr is a
    pipe or a log file (scripts and log readers grep for it)."""
    output.message(f"{output.tr('error')}: {exc.message(_options.lang)}", style="red", soft_wrap=True)


def _store_error(exc):
    if "sqlalchemy" not in sys.modules:  # no store was opened: not a store error
        return None
    from listing.store.db import store_error

    return store_error(exc, _options.db_url)


def now():
    from listing.timeutil import system_clock

    return system_clock()


def session(readonly: bool = False):
    """A unit of work on the chosen store (commits on success, rolls back on error)."""
    return open_store().session(readonly=readonly)


def reader():
    """A read-only view of the chosen store without the ORM (listing.store.reader): what the
    read commands use, so that they answer in a fraction of a second."""
    from listing.store.reader import reading

    return reading(_options.db_url)


def actor(db):
    """The acting user (--as, or the database role), on a session or a reader."""
    from listing.services.actors import resolve_actor

    return resolve_actor(db, _options.user)


_AUDITED_DENIALS = {"err.role_denied": None, "err.jurisdiction_denied": None, "err.as_mismatch": "as",
                    "err.jobs_service_role": "jobs.run"}


def record_denial(exc, store=None, user: str | None = None) -> None:
    """A refused action is itself audited, in its own transaction (the refused one rolled back),
    under the user the database names on an officer's own PostgreSQL role, else under --as.
    The terminal (`guapai tui`) passes its own store and user."""
    if exc.key not in _AUDITED_DENIALS:
        return
    try:
        from listing.services import audit
        from listing.services.users import connected_user

        with (store or open_store()).session() as session:
            connected = connected_user(session)
            who = connected.name if connected is not None else (user or _options.user)
            if not who:
                return
            action = exc.params.get("action") or _AUDITED_DENIALS[exc.key]
            audit.record(session, who, f"denied.{action}", "denial", None,
                         after={k: str(v) for k, v in exc.params.items()}, at=now())
    except Exception:  # the denial message matters more than its record; never mask it
        pass


def date_option(value: str | None, option: str = "--date", *, default_today: bool = False, past_only: bool = False):
    """Every CLI date option goes through here: one parser (listing.dates), one clear line and
    exit 2 for a wrong date; None (or today) when not given; `past_only` refuses a future date."""
    from listing.dates import not_after_today, parse_date
    from listing.timeutil import local_today

    if value is None:
        return local_today(now) if default_today else None
    day = parse_date(value, option)
    return not_after_today(day, local_today(now), option) if past_only else day


def month_option(value: str | None, option: str = "--month") -> str | None:
    from listing.dates import parse_month

    return None if value is None else parse_month(value, option)


def interactive() -> bool:
    """A person at a terminal (a numbered choice may be asked), not a script or a pipe."""
    return sys.stdin.isatty() and sys.stdout.isatty()


def company(session_, query: str, as_json: bool = False):
    """The company an officer named (any part of the name, the credit code, the organisation
    code): several matches give a numbered choice on a terminal; under --json or without a
    terminal, exit 2 with the candidates (as JSON on stdout under --json)."""
    from listing.services.company_lookup import AmbiguousCompany, resolve_company

    choose = None if as_json or not interactive() else _choose
    try:
        return resolve_company(session_, actor(session_), query, choose=choose)
    except AmbiguousCompany as exc:
        if as_json:
            output.print_json({"error": "ambiguous", "query": query,
                               "candidates": [c.to_dict() for c in exc.candidates]})
        raise


LISTING_HELP = "The listing's number, or its company: any part of the name, the credit code, or the name by sound."


def listing_id(db, text: str, states: tuple[str, ...], as_json: bool = False) -> int:
    """The listing an officer named: its number as `listing list` shows it, or its company (named
    as everywhere, see `company`), whose newest listing in one of `states` it is."""
    from listing.services.read.listings import listing_of

    text = (text or "").strip()
    if text.isdigit() and len(text) < 9:  # a listing number (a code has 9 or 18 characters)
        return int(text)
    return listing_of(db, actor(db), company(db, text, as_json), states)


def _choose(candidates):
    for n, c in enumerate(candidates, 1):
        output.message(f"  {n}. {c.name}  {c.uscc}  {c.jurisdiction}")
    answer = typer.prompt(output.tr("prompt.choose", n=len(candidates)), default="", show_default=False, err=True)
    return candidates[int(answer) - 1] if answer.strip().isdigit() and 1 <= int(answer) <= len(candidates) else None
