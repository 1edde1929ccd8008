"""guapai listing — listed-rectification cases (挂牌整治案件)."""
from __future__ import annotations

import typer

from cli import context, output
from cli.options import JsonOption

app = typer.Typer(help="Listing cases: list, confirm, reject. 挂牌案件。", no_args_is_help=True)


@app.command("list")
def list_(
    state: str = typer.Option(None, "--state", help="proposed | listed | under_review | delisted | rejected"),
    as_json: JsonOption = False,
) -> None:
    """List listings in your jurisdiction."""
    from cli.options import check_choice
    from listing.services.read.listings import list_listings

    state = check_choice(state, ("proposed", "listed", "under_review", "delisted", "rejected"), "--state",
                         aliases=_state_aliases())
    with context.reader() as db:
        rows = list_listings(db, context.actor(db), state=state)
    for row in rows:
        row["state_label"] = output.tr(f"state.{row['state']}")
    output.show(rows, [("id", "col.id"), ("company", "col.company"), ("jurisdiction", "col.jurisdiction"),
                       ("state_label", "col.state"), ("cycle", "col.cycle"), ("cycle_due", "col.cycle_due")],
                as_json=as_json)


def _state_aliases() -> dict[str, str]:
    """The Chinese state names (挂牌整治中, 待验收, ...) are accepted too."""
    from messages import t

    return {t(f"state.{s}", "zh"): s for s in ("proposed", "listed", "under_review", "delisted", "rejected")}


def _transition(event_name: str):
    def run(
        listing: str = typer.Argument(..., help=context.LISTING_HELP),
        reason: str = typer.Option(None, "--reason", help="Why (kept in the audit log)."),
    ) -> None:
        from listing.domain.states import Event
        from listing.services.listings import apply

        with context.session() as session:
            listing_id = context.listing_id(session, listing, ("proposed",))
            row = apply(session, context.actor(session), listing_id, Event(event_name), now=context.now(), reason=reason)
        output.message(output.tr("msg.listing_changed", listing=row.id, state=output.tr(f"state.{row.state}"),
                                 cycle=row.cycle, due=row.cycle_due or "-"))

    run.__doc__ = {"confirm": "Confirm a proposed listing (reviewer): starts cycle 1, due three months later.",
                   "reject": "Reject a proposed listing (reviewer)."}[event_name]
    return run


app.command("confirm")(_transition("confirm"))
app.command("reject")(_transition("reject"))
