"""guapai findings — police review of what sampling found (抽查线索)."""
from __future__ import annotations

import typer

from cli import context, output
from cli.options import JsonOption

app = typer.Typer(help="Review sampled findings: list, show, confirm, dismiss, reopen, void. 抽查线索审核。",
                  no_args_is_help=True)

STATES = ("suspected", "confirmed", "dismissed", "voided", "all")


@app.command("list")
def list_(
    day: str = typer.Option(None, "--date", help="YYYY-MM-DD"),
    state: str = typer.Option("suspected", "--state", help="suspected | confirmed | dismissed | voided | all"),
    company: str = typer.Option(None, "--company", help="Any part of the name, or the credit code."),
    rule: str = typer.Option(None, "--rule", help="Only this rule: overspeed, fatigue_continuous, ... (or 超速, ...)."),
    limit: int = typer.Option(200, "--limit"),
    as_json: JsonOption = False,
) -> None:
    """List findings in your jurisdiction (driver ID numbers masked unless your role needs them)."""
    from cli.options import check_choice, check_rule
    from listing.services.read.findings import list_findings

    state = check_choice(state, STATES, "--state")
    rule = check_rule(rule)
    with context.reader() as db:
        who = context.actor(db)
        uscc = context.company(db, company, as_json).uscc if company else None
        rows = list_findings(db, who, day=context.date_option(day), state=None if state == "all" else state,
                             company=uscc, limit=limit if rule is None else 1_000_000)
    if rule is not None:
        rows = [r for r in rows if r["rule"] == rule][:limit]
    for r in rows:
        r["what"] = output.tr(f"rule.{r['rule']}")
    output.show(rows, [("id", "col.id"), ("plate", "col.vehicle"), ("what", "col.rule"), ("start", "col.start"),
                       ("max_speed_kmh", "col.max_speed"), ("driver", "col.driver"), ("state", "col.state")], as_json=as_json,
                reveal_for=who, labels={"state": "fstate."})


@app.command("confirm")
def confirm(finding_id: int = typer.Argument(...)) -> None:
    """Confirm: a violation of the driver and company (source: trajectory) and a problem to rectify."""
    from listing.services import findings

    with context.session() as session:
        row = findings.confirm(session, context.actor(session), finding_id, now=context.now(), lang=output.lang())
    output.message(output.tr("msg.finding_changed", id=row.id, state=output.label(row.state, "fstate.")))


@app.command("dismiss")
def dismiss(finding_id: int = typer.Argument(...), reason: str = typer.Option(..., "--reason")) -> None:
    """Dismiss a finding, saying why."""
    from listing.services import findings

    with context.session() as session:
        row = findings.dismiss(session, context.actor(session), finding_id, reason=reason, now=context.now())
    output.message(output.tr("msg.finding_changed", id=row.id, state=output.label(row.state, "fstate.")))


def _correct(action: str):
    def run(finding_id: int = typer.Argument(..., help="The finding's id (findings list)."),
            reason: str = typer.Option(..., "--reason", help="Why (required; kept in the audit log).")) -> None:
        from listing.services import corrections

        change = corrections.reopen_finding if action == "reopen" else corrections.void_finding
        with context.session() as session:
            row = change(session, context.actor(session), finding_id, reason=reason, now=context.now())
        output.message(output.tr("msg.finding_changed", id=row.id, state=row.state))

    run.__doc__ = {
        "reopen": "Confirmed or dismissed by mistake: back to suspected, to be decided again (what a "
                  "confirmation made is voided). The deciding officer or a supervisor.",
        "void": "Not a finding at all (e.g. a GPS glitch): voided, with what a confirmation made. The "
                "deciding officer or a supervisor."}[action]
    return run


for _a in ("reopen", "void"):
    app.command(_a)(_correct(_a))


@app.command("show")
def show(finding_id: int = typer.Argument(...), as_json: JsonOption = False) -> None:
    """The episode: start, end, duration, peak speed, limit, driver, location, and a speed-over-time
    sparkline (from the stored evidence, or from the platform when one is configured)."""
    from listing.services.read.findings import detail

    with context.reader() as db:
        who = context.actor(db)
        data = detail(db, who, finding_id, positions=_platform_positions())
    if as_json:
        output.print_json(data, reveal_for=who)
        return
    print_finding(output.scrub(data, who))


def _platform_positions():
    """A fetcher of positions from the configured platform. The configuration is read only when a
    finding's evidence holds no speed profile: loading it (pydantic-settings) costs a read command
    a fifth of a second."""

    def fetch(plate, start, end):
        from listing.services.read.findings import NoPlatform
        from listing.settings import load

        settings = load()
        if not settings.platform_url:
            raise NoPlatform
        from listing.clients.platform import PlatformClient  # httpx and polars: only to ask a platform

        with PlatformClient(settings.platform_url, settings.platform_token, timeout=5.0, max_retries=1) as client:
            result = client.fetch_positions(plate, start, end)
        return [] if result.positions is None else result.positions.select("time", "speed_kmh").to_dicts()

    return fetch


def print_finding(d: dict, console=None) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    tr = output.tr
    console = console or Console(highlight=False)

    def hm(value):
        return output.local_time(value, seconds=True)

    def num(value, unit=""):
        return "–" if value is None else f"{value:.0f}{unit}" if isinstance(value, (int, float)) else str(value)

    console.print(f"[bold]{tr('title.finding', id=d['id'])}[/] · {escape(tr('rule.' + d['rule']))} · "
                  f"{escape(tr('fstate.' + d['state']))}")
    table = Table(box=None, show_header=False, pad_edge=False)
    table.add_column(style="dim", no_wrap=True)
    table.add_column(overflow="fold")
    minutes = (d["duration_s"] or 0) / 60
    loc = lambda p: f"{p['lat']:.5f}, {p['lon']:.5f}" if p else "–"  # noqa: E731
    for key, value in (
        ("col.company", f"{d['company']}  {d['uscc']}"),
        ("col.vehicle", f"{d['plate']} ({output.label(d['vehicle_class'], 'vclass.')})"),
        ("col.driver", f"{d['driver'] or tr('finding.driver_unknown')}  {d['driver_id_number'] or ''}".strip()),
        ("col.start", hm(d["start"])),
        ("col.end", hm(d["end"])),
        ("col.duration", tr("finding.duration", minutes=f"{minutes:.1f}")),
        ("col.max_speed", f"{num(d['max_speed_kmh'], ' km/h')}  ({tr('col.limit')} {num(d['limit_kmh'], ' km/h')}"
                          f"{', ' + d['band'] if d['band'] else ''})"),
        ("col.location", f"{loc(d['start_location'])} → {loc(d['end_location'])}"),
        ("col.regulation", d["regulation"] or "–"),
    ):
        table.add_row(tr(key), escape(str(value)))
    if d["decided_by"]:
        table.add_row(tr("col.decided"), escape(f"{d['decided_by']} {hm(d['decided_at'])} {d['reason'] or ''}"))
    console.print(table)
    if d["sparkline"]:
        top = max([v for _, v in d["speed_profile"]] + [d["limit_kmh"] or 0])
        console.print(tr("finding.speed", source=tr("speed_source." + d["speed_source"]), top=f"{top:.0f}"))
        console.print(f"  [yellow]{d['sparkline']}[/]")
        console.print(f"  [dim]{hm(d['start'])[11:19]} − 2′ … {hm(d['end'])[11:19]} + 2′[/]")
    else:
        console.print(tr("finding.no_speed." + d["speed_source"]), style="dim")
