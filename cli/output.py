"""Shared output for every command: a rich table for people, stable JSON for scripts.

Data goes to stdout, messages to stderr. JSON has stable keys and ISO-8601 times.
"""
from __future__ import annotations

import datetime as dt
import decimal
import sys
from typing import Any, Iterable, Sequence

from listing import redact
from messages import t

# Personal data (driver ID numbers, phones) is masked in everything printed unless the command
# passes the acting user as `reveal_for` and their role may see it (policy
# `driver.read_personal`); secrets are removed from everything, always. Log records and
# uncaught tracebacks are redacted too (listing/redact.py).
_state = {"lang": "en"}
redact.install()


def set_lang(lang: str) -> None:
    _state["lang"] = lang


def lang() -> str:
    return _state["lang"]


def scrub(data: Any, reveal_for: Any = None) -> Any:
    """What may be printed of `data`: secrets removed; ID numbers and phones masked unless
    `reveal_for` (the acting user) has a role that needs them."""
    from listing.domain.policy import can

    personal = reveal_for is not None and can(reveal_for, "driver.read_personal")
    return redact.scrub(data, personal=not personal)


def tr(key: str, **params: object) -> str:
    """Translate in the language chosen on the command line."""
    return t(key, _state["lang"], **params)


# Coded values people read in tables: a column key -> the message prefix of its values. A value
# with a message under that prefix is shown in the officer's language (listed -> 挂牌整治中);
# names and free text have none and are shown as they are. JSON output keeps the codes.
LABELS = {
    "state": "state.", "role": "role.", "department": "dept.", "action": "action.", "entity": "entity.",
    "business_type": "btype.", "vehicle_class": "vclass.", "job": "job.",
    "rule": "rule.", "source": "source.", "responsibility": "resp.", "kind": "kind.",
}


def label(value: Any, prefix: str | tuple[str, ...]) -> Any:
    """`value` in the officer's language if it is a code with a message under `prefix` (or the
    first of several that has one): `label("police", "dept.")` -> 交警; yes/no for booleans;
    anything else unchanged."""
    from messages import label as label_in

    return label_in(value, prefix, _state["lang"])


def action_label(action: str) -> str:
    """An audit action in the officer's language (`import.violations` -> 导入交通违法)."""
    if action.startswith("denied."):
        return tr("action.denied", action=action_label(action.removeprefix("denied.")))
    return label(action, "action.")


def summary(payload: Any, width: int = 80) -> str:
    """An audit event's before/after as people read it: `field: value` pairs, field names and coded
    values in the officer's language (the JSON output keeps the stored payload as it is)."""
    if not isinstance(payload, dict):
        return "" if payload is None else str(payload)[:width]
    parts = []
    for key, value in payload.items():
        if isinstance(value, (list, tuple)):
            value = "、".join(str(label(v, LABELS.get(key, ""))) for v in value) or "–"
        elif value is None:
            value = "–"
        else:
            value = label(value, _SUMMARY_VALUES.get(key, LABELS.get(key, "")))
            if key == "sha256" and isinstance(value, str):
                value = value[:12] + "…"
        parts.append(f"{label(key, 'field.')}: {value}")
    text = "; ".join(parts)
    return text if len(text) <= width else text[:width - 1] + "…"


# an event's "state" may be a listing's, a problem's, a finding's or a month's inspection obligation
_SUMMARY_VALUES = {"state": ("state.", "pstate.", "fstate.", "ostate.")}


def local_time(value: Any, seconds: bool = False) -> str:
    """A time as people read it: Beijing time with its offset (2026-11-20 10:00+08:00)."""
    from listing.timeutil import local_text

    return local_text(value, seconds=seconds) if value else "–"


def _default(value: Any) -> Any:
    """What orjson does not serialise itself."""
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=str)
    if hasattr(value, "item"):  # numpy scalars orjson does not know
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def dumps(data: Any) -> str:
    """Stable JSON: UTF-8, two-space indent, ISO-8601 times (stored naive times are UTC)."""
    import orjson

    options = orjson.OPT_INDENT_2 | orjson.OPT_NAIVE_UTC | orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY
    return orjson.dumps(data, default=_default, option=options).decode()


def print_json(data: Any, *, reveal_for: Any = None) -> None:
    sys.stdout.write(dumps(scrub(data, reveal_for)) + "\n")


def message(text: str, style: str | None = None, soft_wrap: bool = False) -> None:
    """A human message: stderr, never mixed with data; secrets and personal data removed."""
    from rich.console import Console

    sys.stdout.flush()  # keep data and messages in order when both go to one terminal
    Console(stderr=True, highlight=False, soft_wrap=soft_wrap).print(scrub(text), style=style)


def show(
    rows: Sequence[dict[str, Any]],
    columns: Sequence[tuple[str, str]],
    *,
    as_json: bool,
    title_key: str | None = None,
    json_data: Any = None,
    reveal_for: Any = None,
    labels: dict[str, str] | None = None,
) -> None:
    """Print `rows` as JSON (all keys, codes as they are) or as a table of `columns` = [(key,
    header i18n key)], coded values in the officer's language (`LABELS`, or `labels` for this
    table: {column key: message prefix}). Personal data is masked unless `reveal_for` (the acting
    user) may see it."""
    if as_json:
        print_json(json_data if json_data is not None else list(rows), reveal_for=reveal_for)
        return
    rows = scrub([dict(row) for row in rows], reveal_for)
    prefixes = LABELS | (labels or {})
    cells = [[_cell(label(row.get(key), prefixes[key]) if key in prefixes else row.get(key)) for key, _ in columns]
             for row in rows]
    if len(cells) > LONG_TABLE:
        _plain_table([tr(header) for _, header in columns], cells, tr(title_key) if title_key else None)
        return
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title=tr(title_key) if title_key else None, show_lines=False)
    headers = [tr(header) for _, header in columns]
    widths = _whole_widths(headers, cells, console.width)
    for header, width in zip(headers, widths):
        table.add_column(header, overflow="fold", no_wrap=width is not None, min_width=width)
    for row in cells:
        table.add_row(*row)
    console.print(table)


def _whole_widths(headers: list[str], cells: list[list[str]], room: int) -> list[int | None]:
    """Per column, the width below which it may not shrink, or None: an identifier column (a user
    name, plate, code or date: every value one word, ASCII but for a plate's province) keeps its
    values whole. None for every column when that leaves the others under 4 cells in `room`: the
    table then wraps as before."""
    from rich.cells import cell_len

    widths: list[int | None] = []
    for i, header in enumerate(headers):
        values = [row[i] for row in cells if row[i]]
        word = max((cell_len(w) for w in header.split()), default=1)
        ids = bool(values) and all(len(v.split()) == 1 and sum(not ch.isascii() for ch in v) <= 1 for v in values)
        longest = max(map(cell_len, values), default=0)
        widths.append(max(word, longest) if ids and longest <= WHOLE_WIDTH else None)
    if sum(w or 4 for w in widths) + 3 * len(widths) + 1 > room:
        return [None] * len(widths)
    return widths


WHOLE_WIDTH = 20  # a column whose every value is one word no wider than this keeps its words whole

# A table longer than this is printed as plain aligned columns, one row a line: a framed table
# measures and wraps every cell (about 0.25 ms a cell: 0.4 s for the demo's 1,700 problems), and a
# list that long is read with a pager or grep, where one row a line is what helps.
LONG_TABLE = 200


def _plain_table(headers: list[str], rows: list[list[str]], title: str | None) -> None:
    from rich.cells import cell_len

    rows = [[v.replace("\n", " ") for v in r] for r in rows]
    widths = [max([cell_len(h)] + [cell_len(r[i]) for r in rows]) for i, h in enumerate(headers)]

    def line(values: list[str]) -> str:
        return "  ".join(v + " " * (w - cell_len(v)) for v, w in zip(values, widths)).rstrip()

    out = ([title] if title else []) + [line(headers), "  ".join("-" * w for w in widths)] + [line(r) for r in rows]
    sys.stdout.write("\n".join(out) + "\n")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return tr("yes" if value else "no")
    if isinstance(value, dt.datetime):
        from listing.timeutil import local_text

        return local_text(value)
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def progress(total: int | None, description: str) -> Any:
    """A progress bar on stderr for people; silent when stderr is not a terminal."""
    from rich.progress import Progress

    p = Progress(transient=True, disable=not sys.stderr.isatty())
    p.start()
    task = p.add_task(description, total=total)
    return p, task


def iter_progress(items: Iterable[Any], total: int | None, description: str) -> Iterable[Any]:
    p, task = progress(total, description)
    try:
        for item in items:
            yield item
            p.advance(task)
    finally:
        p.stop()
