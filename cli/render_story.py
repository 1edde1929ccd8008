"""A company story (listing/services/company_story.py) as rich renderables: printed by
`company show`, shown by the terminal (`guapai tui`) when Enter opens a company."""
from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict

from messages import label, t


def _d(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, dt.datetime):
        from listing.timeutil import to_local

        return to_local(value).strftime("%Y-%m-%d")
    return str(value)


def _num(value) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def _record(r: dict, lang: str = "en") -> str:
    if "fatalities" in r:
        return f"{_d(r['occurred_at'])} #{r['record_no'] or r['id']} †{r['fatalities']} {label(r['responsibility'], 'resp.', lang)}"
    return f"{_d(r['occurred_at'])} #{r['record_no'] or r['id']} {r['code']}"


def _notice_about(e: dict, lang: str) -> str:
    """What a notice was about, in words: 'miss:2026-06:transport' -> '2026-06, transport (运管)'
    as the officer's language has it; a review notice's cycle; nothing else (never the raw key)."""
    about = e.get("about") or ""
    month, _, department = about.partition(":")
    if e["notice"] in ("miss", "remind") and department:
        return t("ev.notice_month", lang, month=month, department=t(f"dept.{department}", lang))
    if e["notice"] in ("review_due", "review_overdue") and about.isdigit():
        return t("ev.notice_cycle", lang, cycle=about)
    return ""


def event_lines(data: dict, lang: str) -> list[tuple[str, str, bool]]:
    """(date, sentence, voided) for the timeline; findings grouped per day so a busy month stays
    readable. A voided inspection or problem keeps its line, with who voided it and why."""
    lines: list[tuple[dt.datetime, str, bool]] = []
    findings_by_day = defaultdict(list)
    records_by_criterion = defaultdict(list)
    for e in data["timeline"]:
        kind, at = e["kind"], e["at"]
        if kind == "finding":
            findings_by_day[_d(at)].append(e)
            continue
        if kind == "record":
            records_by_criterion[e["criterion"]].append(e)
            continue
        if kind.startswith("listing."):
            after = e.get("after") or {}
            text = t(f"ev.{kind}", lang, actor=e["actor"], reason=e.get("reason") or "–",
                     version=after.get("rules_version", "–"), cycle=after.get("cycle", "–"))
        elif kind == "inspection.miss":
            after = e.get("after") or {}
            text = t("ev.inspection.miss", lang, month=after.get("month"), department=t(f"dept.{after.get('department')}", lang))
        elif kind == "cycle.start":
            text = t("ev.cycle.start", lang, cycle=e["cycle"], due=e["due"])
        elif kind == "inspection":
            text = t("ev.inspection", lang, department=t(f"dept.{e['department']}", lang), inspector=e["inspector"])
        elif kind == "problem":
            text = t("ev.problem", lang, id=e["id"], description=e["description"], due=_d(e["due"]),
                     state=t(f"pstate.{e['state']}", lang))
        elif kind == "notice":
            text = t("ev.notice", lang, notice=label(e["notice"], ("notice.",), lang), about=_notice_about(e, lang)).rstrip()
        else:
            text = kind
        if e.get("voided"):
            text += " — " + t("ev.voided", lang, reason=e.get("void_reason") or "–")
        lines.append((at, text, bool(e.get("voided"))))
    for day, items in findings_by_day.items():
        rules = Counter(t(f"rule.{f['rule']}", lang) for f in items)
        states = Counter(t(f"fstate.{f['state']}", lang) for f in items)
        at = items[0]["at"]
        lines.append((at, t("ev.findings", lang, n=len(items), rules=", ".join(f"{k} {v}" for k, v in rules.items()),
                            states=", ".join(f"{k} {v}" for k, v in states.items())), False))
    for criterion, items in records_by_criterion.items():  # the records behind a criterion: one line
        shown = ", ".join(_record(e["record"], lang) for e in items[:3]) + (" …" if len(items) > 3 else "")
        lines.append((items[0]["at"], t("ev.records", lang, n=len(items), criterion=t(f"criterion.{criterion}", lang),
                                        first=_d(items[0]["at"]), last=_d(items[-1]["at"]), shown=shown), False))
    lines.sort(key=lambda x: x[0])
    return [(_d(at), text, voided) for at, text, voided in lines]


def story_renderables(data: dict, lang: str) -> list:
    from rich.table import Table
    from rich.text import Text

    from listing.services.month_marks import DEPARTMENTS, SYMBOL

    c = data["company"]
    parts: list = [Text(t("story.header", lang, name=c["name"], uscc=c["uscc"], jurisdiction=c["jurisdiction"],
                          business_type=label(c["business_type"], "btype.", lang), active=c["active_vehicles"], vehicles=c["vehicles"]),
                        style="bold")]
    if not data["listings"]:
        parts.append(Text(t("story.no_listing", lang)))
    for listing in data["listings"]:
        parts.append(Text(t("story.why", lang, listing=listing["id"], version=listing["rules_version"]), style="bold"))
        for crit in listing["criteria"]:
            line = t("story.criterion", lang, criterion=t(f"criterion.{crit['criterion']}", lang),
                     value=_num(crit["value"]), threshold=_num(crit["threshold"]))
            if crit.get("record_count") is not None:
                line += " · " + t("story.record_count", lang, n=crit["record_count"], shown=len(crit["records"]))
            parts.append(Text("  " + line))
    timeline = Table(title=t("story.timeline", lang), box=None, show_header=False, pad_edge=False)
    timeline.add_column(no_wrap=True, style="dim")
    timeline.add_column(overflow="fold")
    for day, text, voided in event_lines(data, lang):
        timeline.add_row(day, Text(text, style="strike dim") if voided else text)
    parts.append(timeline)
    for listing in data["listings"]:
        for cyc in listing["cycles"]:
            end = cyc["due"] - dt.timedelta(days=1) if isinstance(cyc["due"], dt.date) else cyc["due"]
            parts.append(Text(t("story.cycle", lang, n=cyc["number"], start=cyc["start"], end=end), style="bold"))
            if cyc["against_recommendation"]:
                parts.append(Text(t("story.against", lang, outcome=t(cyc["outcome"], lang), by=cyc["decided_by"],
                                    recommendation=t(cyc["checklist"]["recommendation"], lang),
                                    items=", ".join(t(f"check.{i}", lang) for i in cyc["against_recommendation"]),
                                    reason=cyc["reason"] or "–"), style="yellow"))
            months = Table(box=None, pad_edge=False)
            months.add_column(t("story.months", lang))
            for m in cyc["months"]:
                months.add_column(m["month"], justify="center")
            for dept in DEPARTMENTS:
                months.add_row(t(f"dept.{dept}", lang), *(f"{SYMBOL[m[dept]]} {t('mark.' + m[dept], lang)}"
                                                           for m in cyc["months"]))
            parts.append(months)
            if cyc["checklist"]:
                if cyc["checklist_provisional"]:
                    parts.append(Text(t("story.provisional", lang), style="dim"))
                parts.append(checklist_table(cyc["checklist"], lang))
    pc = data["problem_count"]
    parts.append(Text(t("story.open_problems", lang, open=pc["open"], overdue=pc["overdue"],
                        awaiting=pc["awaiting_verification"]), style="yellow" if pc["open"] else None))
    s = data["sampling"]
    parts.append(Text(t("story.sampling", lang, days=s["days"], vehicle_days=s["vehicle_days"], first=s["first"] or "–",
                        last=s["last"] or "–", status=", ".join(f"{label(k, 'sample_status.', lang)} {v}" for k, v in s["by_status"].items()) or "–")))
    return parts


def checklist_table(checklist: dict, lang: str):
    from rich.table import Table

    from cli.evidence import checklist_rows

    table = Table(box=None, pad_edge=False)
    for key in ("col.item", "col.result", "col.evidence"):
        table.add_column(t(key, lang), overflow="fold")
    for row in checklist_rows(checklist, lang):
        table.add_row(row["item"], f"[{'green' if row['pass'] else 'red'}]{row['result']}[/]", row["evidence"])
    return table
