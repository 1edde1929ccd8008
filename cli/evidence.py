"""Checklist evidence as sentences people read (验收依据), never raw JSON: one function for
`review show`, `company show` and the terminal."""
from __future__ import annotations

from typing import Any

from messages import t


def _num(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def _pct(value: Any) -> str:
    return "–" if value is None else f"{float(value):.0%}"


def flat(evidence: Any) -> str:
    """Any evidence as `key: value; ...` (nested values flattened): the fallback for items this
    module does not know yet."""
    if isinstance(evidence, dict):
        return "; ".join(f"{k}: {flat(v)}" for k, v in evidence.items())
    if isinstance(evidence, (list, tuple)):
        return ", ".join(flat(v) for v in evidence) or "–"
    return _num(evidence)


def _month_department(owed: str, lang: str) -> str:
    """`2026-12/transport` (a month a department owes) as `2026-12 运管`."""
    month, _, department = owed.partition("/")
    return f"{month} {t('dept.' + department, lang)}" if department else owed


def evidence_text(item: str, ev: dict, lang: str) -> str:
    """One checklist item's evidence as a sentence in `lang`."""
    try:
        if item == "inspections":
            if ev.get("missing"):
                return t("ev.inspections.missing", lang, missing=", ".join(_month_department(m, lang) for m in ev["missing"]))
            required = ev.get("required") or []
            if not required:
                return t("ev.inspections.none_owed", lang)
            by_month = ev.get("by_month", {})
            months = ", ".join(f"{m} {t('dept.transport', lang)}{by_month.get(m, {}).get('transport', 0)} "
                               f"{t('dept.police', lang)}{by_month.get(m, {}).get('police', 0)}" for m in required)
            return t("ev.inspections.ok", lang, months=months)
        if item == "problems_closed":
            return t("ev.problems", lang, open=ev["open"])
        if item == "sampling_coverage":
            return t("ev.coverage", lang, days_sampled=ev["days_sampled"], days=ev["days"], coverage=_pct(ev["coverage"]),
                     target=_pct(ev["target"]))
        if item == "sampled_violation_rate":
            months = [m for m in ev.get("by_month", []) if m.get("vehicle_days")]
            if not months:
                return t("ev.rate.none", lang)
            text = " → ".join(f"{m['month']} {_num(m['rate'])} ({m['findings']}/{m['vehicle_days']})" for m in months)
            return t("ev.rate", lang, months=text, target=_num(ev.get("target")))
        if item == "no_fatal_at_fault_accident":
            return t("ev.fatal", lang, n=ev["fatal_at_fault"])
        if item == "metrics_under_thresholds":
            if ev.get("missing"):
                return t("ev.metrics.missing", lang)
            th = ev.get("thresholds", {})
            return t("ev.metrics", lang, fatal=_num(ev["fatal_accidents"]), t_fatal=_num(th.get("fatal_accidents")),
                     at_fault=_num(ev["at_fault_per_vehicle"]), t_at_fault=_num(th.get("at_fault_per_vehicle")),
                     violations=_num(ev["violations_per_vehicle"]), t_violations=_num(th.get("violations_per_vehicle")),
                     version=ev.get("rules_version", "–"), days=ev.get("days", "–"))
    except (KeyError, TypeError, AttributeError):
        pass  # evidence of another shape (a newer checklist): say it plainly below
    return flat(ev)


def checklist_rows(checklist: dict, lang: str) -> list[dict]:
    """Rows {item, result, evidence} for a table of a checklist."""
    return [{"item": t(f"check.{i['item']}", lang), "result": t("pass" if i["pass"] else "fail", lang),
             "evidence": evidence_text(i["item"], i.get("evidence") or {}, lang), "pass": i["pass"]}
            for i in checklist.get("items", [])]
