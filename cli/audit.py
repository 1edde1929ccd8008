"""guapai audit — the hash-chained audit log."""
from __future__ import annotations

import typer

from cli import context, output
from cli.options import JsonOption

app = typer.Typer(help="The audit log: every write, hash-chained. 审计日志。", no_args_is_help=True)


@app.command("verify")
def verify(as_json: JsonOption = False) -> None:
    """Check the whole chain; name the first bad event. Exits 1 when the chain is broken."""
    from listing.services import audit

    with context.session(readonly=True) as session:
        verdict = audit.verify(session, context.actor(session))
    if as_json:
        output.print_json({"ok": verdict.ok, "checked": verdict.checked, "first_bad_seq": verdict.first_bad_seq,
                           "reason": verdict.reason})
    if verdict.ok:
        output.message(output.tr("audit.ok", n=verdict.checked), style="green")
        return
    output.message(output.tr("audit.bad", seq=verdict.first_bad_seq, reason=output.tr(verdict.reason)), style="red")
    raise typer.Exit(1)


@app.command("log")
def log(
    limit: int = typer.Option(50, "--limit", help="How many events, newest first."),
    action: str = typer.Option(None, "--action", help="Only this action, e.g. import.violations"),
    as_json: JsonOption = False,
) -> None:
    """Show the newest audit events."""
    from listing.services.read.audit import log as events

    with context.reader() as db:
        rows = events(db, context.actor(db), limit=limit, action=action)
    for row in rows:
        row["summary"] = output.dumps(row["after"] if row["after"] is not None else row["before"]).replace("\n", "")[:80]
        if not as_json:  # people read labels; scripts keep the codes
            row["summary"] = output.summary(row["after"] if row["after"] is not None else row["before"])
            row["action"] = output.action_label(row["action"])
    output.show(rows, [("seq", "col.seq"), ("at", "col.at"), ("actor", "col.actor"), ("action", "col.action"),
                       ("entity", "col.entity"), ("entity_id", "col.entity_id"), ("summary", "col.summary")],
                as_json=as_json)
