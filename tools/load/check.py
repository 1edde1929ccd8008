"""The check after an officer load run (tools/load/run.py): what every process believes
it did, held against the database and the audit chain (nothing lost, duplicated, unacknowledged
or done twice; four eyes on every verification; each (job, period) once), and the figures
(throughput, latency percentiles, conflicts, time spent in the audit chain)."""
from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from pathlib import Path

from tools.load.plan import LoadPlan

# problem action -> the states it may start from (the legal transitions replayed by the check)
PROBLEM_ACTIONS = {"rectify": ("open", "reopened"), "verify": ("rectified",), "reopen": ("verified",)}


def read_results(path: Path) -> list[dict]:
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            out.append({"t": "crash", "error": f"unreadable line {line[:100]!r}"})
    return out


# ---------------------------------------------------------------- verification

def verify_workdir(store, workdir: Path) -> dict:
    """`verify` again from what a run left in its work directory (the manifest and the result files)."""
    manifest = json.loads((workdir / "manifest.json").read_text(encoding="utf-8"))
    results = {path.stem: read_results(path) for path in sorted(workdir.glob("*.jsonl"))}
    return verify(store, manifest, results)


def verify(store, manifest: dict, results: dict[str, list[dict]]) -> dict:
    """Hold what every process believes it did against the database and the audit chain."""
    from sqlmodel import select

    from listing.domain.policy import SYSTEM_ACTOR
    from listing.services import audit
    from listing.store import tables

    bad: list[str] = []
    officer_names = {o["name"] for o in manifest["officers"]}
    oks = [(who, r) for who, recs in results.items() for r in recs if r["t"] == "ok"]
    for who, recs in results.items():
        if not any(r["t"] == "done" for r in recs):
            bad.append(f"{who} did not finish its loop (no 'done' record)")
        for r in recs:
            if r["t"] in ("error", "crash"):
                bad.append(f"{who}: {r['t']} in {r.get('kind', '-')} {r.get('target', '')}: {r.get('error')}")

    with store.session(readonly=True) as s:
        events = s.exec(select(tables.AuditEvent).where(tables.AuditEvent.seq > manifest["audit_seq"])
                        .order_by(tables.AuditEvent.seq)).all()
        inspections = s.exec(select(tables.Inspection)).all()
        findings = s.exec(select(tables.Finding)).all()
        problems = s.exec(select(tables.Problem)).all()
        violations = s.exec(select(tables.Violation)).all()
        runs = s.exec(select(tables.JobRun)).all()
        verdict = audit.verify(s, SYSTEM_ACTOR)
    if not verdict.ok:
        bad.append(f"audit chain broken: {verdict}")
    by_action = defaultdict(Counter)  # action -> Counter((entity_id, actor))
    finding_events = defaultdict(list)  # finding id -> [(decision, actor)]
    for e in events:
        by_action[e.action][(e.entity_id, e.actor)] += 1
        if e.action in ("finding.confirm", "finding.dismiss"):
            finding_events[e.entity_id].append((e.action.split(".")[1], e.actor))
    officer_events = [e for e in events if e.actor in officer_names]
    known = {"inspection.record", "finding.confirm", "finding.dismiss", "problem.rectify", "problem.verify", "problem.reopen"}
    for e in officer_events:
        if e.action not in known:
            bad.append(f"audit event {e.seq} {e.action} by {e.actor}: no officer did that")

    # inspections: each acknowledged one is in the database exactly once, and nothing else is
    seen = [r for _, r in oks if r["kind"] == "inspection"]
    ack_ids = Counter(r["id"] for r in seen)
    rows = {i.id: i for i in inspections}
    tags = Counter(i.notes for i in inspections)
    lost = [r for r in seen if r["id"] not in rows or rows[r["id"]].notes != r["tag"]]
    duplicated = [t for t, n in tags.items() if n > 1] + [i for i, n in ack_ids.items() if n > 1]
    unacknowledged = [i.id for i in inspections if i.id not in ack_ids]
    insp_events = Counter(eid for (eid, _), n in by_action["inspection.record"].items() for _ in range(n))
    bad += [f"inspection {r['id']} ({r['tag']}) acknowledged but not in the database" for r in lost]
    bad += [f"inspection written twice: {d}" for d in duplicated]
    bad += [f"inspection {i} in the database but no officer saw it succeed" for i in unacknowledged]
    bad += [f"inspection {i} has {insp_events[str(i)]} audit events" for i in rows if insp_events[str(i)] != 1]
    from_inspection = Counter(p.source_id for p in problems if p.source == "inspection" and p.source_id is not None)
    bad += [f"inspection {r['id']}: {from_inspection[r['id']]} problems, officer recorded {r['problems']}"
            for r in seen if from_inspection[r["id"]] != r["problems"]]

    # findings: decided at most once, by the one officer who saw success, with one audit event
    decided_ok = defaultdict(list)
    for who, r in oks:
        if r["kind"].startswith("finding."):
            decided_ok[r["id"]].append((r["kind"].split(".")[1], who))
    state_of = {"confirm": "confirmed", "dismiss": "dismissed"}
    from_finding = Counter(p.source_id for p in problems if p.source == "finding")
    violation_of = Counter(v.record_no for v in violations if v.record_no and v.record_no.startswith("finding-"))
    decided = 0
    for f in findings:
        acks = decided_ok.get(f.id, [])
        ev = finding_events.get(str(f.id), [])
        if f.state == "suspected":
            if acks or ev:
                bad.append(f"finding {f.id} still suspected, yet acknowledged {acks} / audited {ev}")
            continue
        decided += 1
        if len(acks) != 1 or state_of[acks[0][0]] != f.state or acks[0][1] != f.decided_by:
            bad.append(f"finding {f.id} {f.state} by {f.decided_by}: officers acknowledged {acks}")
        if len(ev) != 1 or state_of[ev[0][0]] != f.state or ev[0][1] != f.decided_by:
            bad.append(f"finding {f.id} {f.state} by {f.decided_by}: audit events {ev}")
        want_problem = 1 if f.state == "confirmed" else 0
        want_violation = 1 if f.state == "confirmed" and f.rule not in ("no_data", "partial_data") else 0
        if from_finding[f.id] != want_problem or violation_of[f"finding-{f.id}"] != want_violation:
            bad.append(f"finding {f.id} {f.state}: {from_finding[f.id]} problems, {violation_of[f'finding-{f.id}']} violations")
    for fid in set(decided_ok) - {f.id for f in findings}:
        bad.append(f"finding {fid} acknowledged but does not exist")

    # problems: replay the audit trail from the seeded state; four eyes on every verification
    acks = Counter((str(r["id"]), r["kind"], who) for who, r in oks if r["kind"].startswith("problem."))
    audited = Counter((eid, a, actor) for a in ("problem.rectify", "problem.verify", "problem.reopen")
                      for (eid, actor), n in by_action[a].items() for _ in range(n))
    for key in (acks - audited) + (audited - acks):
        bad.append(f"problem {key[0]} {key[1]} by {key[2]}: acknowledged {acks[key]} times, audited {audited[key]}")
    trail = defaultdict(list)
    for e in events:
        if e.action.startswith("problem."):
            trail[e.entity_id].append(e)
    four_eyes = 0
    for p in problems:
        state, rectifier = manifest["problems"].get(str(p.id), manifest["problems"].get(p.id, ["open", None]))
        for e in trail.get(str(p.id), []):
            action = e.action.split(".")[1]
            if state not in PROBLEM_ACTIONS[action]:
                bad.append(f"problem {p.id}: {action} (event {e.seq}) from state {state}")
            if action == "verify":
                four_eyes += 1
                if e.actor == rectifier:
                    bad.append(f"problem {p.id} verified by {e.actor}, who rectified it (event {e.seq})")
            if action == "rectify":
                rectifier = e.actor
            state = {"rectify": "rectified", "verify": "verified", "reopen": "reopened"}[action]
        if (state, rectifier) != (p.state, p.rectified_by):
            bad.append(f"problem {p.id} is {p.state} (rectified by {p.rectified_by}); its audit trail says {state} ({rectifier})")
        if p.state == "verified" and p.verified_by == p.rectified_by:
            bad.append(f"problem {p.id} verified and rectified by {p.verified_by}")

    # the scheduler: each (job, period) once, all done, matching what the scheduler reported
    keys = Counter((r.job, r.period) for r in runs)
    bad += [f"job run {k} exists {n} times" for k, n in keys.items() if n > 1]
    not_done = [(r.job, r.period, r.state, r.error) for r in runs if r.state != "done"]
    bad += [f"job run {j} {p} left {st}: {err}" for j, p, st, err in not_done]
    reported = Counter((r["job"], r["period"]) for recs in results.values() for r in recs if r["t"] == "job" and r["status"] == "done")
    bad += [f"job {k} reported done {n} times" for k, n in reported.items() if n > 1]
    bad += [f"job {k} reported done but not in job_run" for k in reported if k not in keys]
    bad += [f"job {k} done in the database but never reported" for k in keys if k not in reported and results.get("scheduler")]
    job_failures = [r for recs in results.values() for r in recs if r["t"] == "job" and r["status"] == "failed"]

    inserted = sum(1 for _, r in oks if r["kind"] == "inspection")
    return {
        "violations": bad,
        "checked": {"inspections": len(inspections), "inspections_acknowledged": inserted, "findings_decided": decided,
                    "findings_suspected_left": sum(f.state == "suspected" for f in findings),
                    "problem_transitions": sum(acks.values()), "verifications_four_eyes_checked": four_eyes,
                    "audit_events": len(events), "audit_chain_ok": verdict.ok, "job_runs": len(runs),
                    "job_runs_by_job": dict(Counter(r.job for r in runs)),
                    "job_attempts_over_1": sum(r.attempts > 1 for r in runs),
                    "job_failures_retried": [(r["job"], r["period"], (r["error"] or "")[:200]) for r in job_failures],
                    "lost": len(lost), "duplicated": len(duplicated), "unacknowledged": len(unacknowledged)},
    }


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))]  # nearest rank


def figures(results: dict[str, list[dict]], started: float, plan: LoadPlan) -> dict:
    """Throughput and latency from the officers' own records."""
    officer_recs = {w: r for w, r in results.items() if w != "scheduler"}
    ends = [r["at"] for recs in officer_recs.values() for r in recs if r["t"] == "done"]
    window = max(ends) - started if ends else plan.duration
    ok = defaultdict(list)
    audit_ms, commit_ms, total_ms = [], [], []
    counts = defaultdict(Counter)
    for recs in officer_recs.values():
        for r in recs:
            counts[r["t"]][r.get("kind", "-")] += 1
            if r["t"] == "ok":
                ok[r["kind"]].append(r["ms"])
                audit_ms.append(r["audit_ms"])
                commit_ms.append(r["commit_ms"])
                total_ms.append(r["ms"])
    retries = Counter(r["sqlstate"] for recs in results.values() for r in recs if r["t"] == "retry")
    all_ms = [m for ms in ok.values() for m in ms]
    sched = results.get("scheduler", [])
    ticks = [r for r in sched if r["t"] == "tick"]
    return {
        "window_s": round(window, 2),
        "ops": {k: len(v) for k, v in sorted(ok.items())} | {"total": len(all_ms)},
        "throughput_ops_s": {k: round(len(v) / window, 1) for k, v in sorted(ok.items())} | {"total": round(len(all_ms) / window, 1)},
        "latency_ms": {k: {"p50": round(_pct(v, 50), 1), "p95": round(_pct(v, 95), 1), "p99": round(_pct(v, 99), 1),
                           "max": round(max(v), 1)} for k, v in [*sorted(ok.items()), ("all", all_ms)] if v},
        "conflicts": dict(counts["conflict"]) | {"total": sum(counts["conflict"].values())},
        "four_eyes_refused": sum(counts["refused"].values()),
        "errors": sum(counts["error"].values()) + sum(counts["crash"].values()),
        "deadlocks_retried": retries.get("40P01", 0),
        "serialization_failures_retried": retries.get("40001", 0),
        "audit_head": {
            "share_of_write_time_in_audit_record": round(sum(audit_ms) / sum(total_ms), 3) if total_ms else None,
            "audit_record_ms_p50": round(_pct(audit_ms, 50), 1) if audit_ms else None,
            "audit_record_ms_p95": round(_pct(audit_ms, 95), 1) if audit_ms else None,
            "held_after_append_ms_p50": round(_pct(commit_ms, 50), 1) if commit_ms else None,
        },
        "scheduler": {"ticks": len(ticks), "simulated_days": len(ticks),
                      "tick_ms_p50": round(_pct([t["ms"] for t in ticks], 50), 1) if ticks else None,
                      "jobs_done": sum(1 for r in sched if r["t"] == "job" and r["status"] == "done"),
                      "jobs_failed_then_retried": sum(1 for r in sched if r["t"] == "job" and r["status"] == "failed")},
    }


def summary(report: dict) -> str:
    """The figures as lines for a human."""
    p, run_ = report["processes"], report["run"]
    lines = [f"officer load: {p['officers']} officer processes + {p['scheduler']} scheduler on PostgreSQL, "
             f"{run_['duration_s']:g} s of load (window {report['window_s']} s; seeding {run_['seed_s']} s, start-up {run_['startup_s']} s)"]
    lines.append(f"  {'operation':<18}{'ok':>7}{'ops/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}{'conflicts':>11}")
    for kind, lat in report["latency_ms"].items():
        n = report["ops"].get(kind if kind != "all" else "total", 0)
        rate = report["throughput_ops_s"].get(kind if kind != "all" else "total", 0)
        conflicts = report["conflicts"].get(kind if kind != "all" else "total", 0)
        lines.append(f"  {kind:<18}{n:>7}{rate:>8}{lat['p50']:>9}{lat['p95']:>9}{lat['p99']:>9}{lat['max']:>9}{conflicts:>11}")
    c, a = report["checked"], report["audit_head"]
    lines.append(f"  deadlocks retried {report['deadlocks_retried']} (PostgreSQL counted {report['pg']['deadlocks']}), "
                 f"serialization failures {report['serialization_failures_retried']}, four-eyes refusals {report['four_eyes_refused']}, "
                 f"errors {report['errors']}")
    lines.append(f"  lost {c['lost']}, duplicated {c['duplicated']}, unacknowledged {c['unacknowledged']}; "
                 f"{c['inspections']} inspections, {c['findings_decided']} findings decided ({c['findings_suspected_left']} left), "
                 f"{c['problem_transitions']} problem transitions ({c['verifications_four_eyes_checked']} verifications four-eyes checked)")
    lines.append(f"  audit: {c['audit_events']} events, chain {'intact' if c['audit_chain_ok'] else 'BROKEN'}; "
                 f"{a['share_of_write_time_in_audit_record']:.0%} of write time inside audit.record (audit_head lock wait + append), "
                 f"p50 {a['audit_record_ms_p50']} ms, p95 {a['audit_record_ms_p95']} ms; held after append p50 {a['held_after_append_ms_p50']} ms")
    s = report["scheduler"]
    lines.append(f"  scheduler: {s['ticks']} ticks (simulated days), {c['job_runs']} job runs {c['job_runs_by_job']}, "
                 f"each once; failed then retried {s['jobs_failed_then_retried']}")
    lines.append(f"  guarantees: {'all held' if not report['violations'] else str(len(report['violations'])) + ' BROKEN'}")
    lines += [f"    - {v}" for v in report["violations"][:30]]
    return "\n".join(lines)
