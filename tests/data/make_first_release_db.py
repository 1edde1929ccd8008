"""Build tests/data/guapai_first_release.sqlite: a database as the first release (alembic
revision 0001) left it, with a small, realistic set of rows in every table of that schema.

It was run ONCE to make the committed fixture; tests never run it (they read the .sqlite file,
so a later change to the code cannot silently change what "the first release wrote"):

    .venv/bin/python tests/data/make_first_release_db.py

Rows go in by plain SQL, in the storage forms the 0001-era code used on SQLite (times as naive
UTC 'YYYY-MM-DD HH:MM:SS.ffffff', dates 'YYYY-MM-DD', booleans 0/1, JSON as text). The audit
events carry a valid hash chain, computed by a frozen copy of the 0001-era chain code below, and
audit_head holds its end.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = Path(__file__).with_name("guapai_first_release.sqlite")
GENESIS = "0" * 64


# --- frozen copy of listing/domain/audit_chain.py as released with 0001 (commit 0dbdaec) ---
def _iso(value: dt.datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone.utc).isoformat(timespec="microseconds")


def canonical(seq, at, actor, action, entity, entity_id, before, after) -> bytes:
    body = {"seq": seq, "at": _iso(at), "actor": actor, "action": action, "entity": entity,
            "entity_id": entity_id, "before": before, "after": after}
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str).encode()


def chain_hash(prev_hash: str, content: bytes) -> str:
    return hashlib.sha256(prev_hash.encode() + content).hexdigest()
# --- end of the frozen copy ---


def t(s: str) -> str:
    """A UTC time as SQLAlchemy stored it on SQLite."""
    return dt.datetime.fromisoformat(s).strftime("%Y-%m-%d %H:%M:%S.%f")


COMPANIES = [
    (1, "91330106MA27Y5XH8W", "杭州甲运输有限公司", "freight", "西湖区"),
    (2, "91330102MA2AAAAA1B", "杭州乙客运有限公司", "passenger", "上城区"),
    (3, "91330109MA2BBBBB2U", "萧山丙危险品运输有限公司", "dangerous_goods", "萧山区"),
]
VEHICLES = [
    (1, "浙A12345", 1, "truck", "2023-01-10", None), (2, "浙AD12345", 1, "truck", "2024-05-01", "2026-06-30"),
    (3, "浙A54321", 2, "coach", "2022-03-15", None), (4, "浙A0001挂", 3, "tanker", "2021-08-08", None),
    (5, "浙A67890D", 2, "bus", "2025-01-01", None),
]
DRIVERS = [
    (1, "330106198001010013", "张三", "13800138000", 1), (2, "330102197512310026", "李四", None, 2),
    (3, "330109200002290036", "王五", "0571-88889999", 3),
]
ASSIGNMENTS = [
    (1, 1, 1, t("2026-09-01 00:00:00"), t("2026-09-01 10:00:00")), (2, 2, 3, t("2026-09-01 22:00:00"), None),
    (3, 3, 4, t("2026-09-02 01:30:00"), t("2026-09-02 09:30:00")),
]
ACCIDENTS = [
    (1, t("2026-03-14 06:20:00"), 3, 2, 2, 1, 3, "main", 0, "330102202600012"),
    (2, t("2026-07-02 11:05:30.250000"), 4, 3, 3, 0, 1, "full", 1, None),
    (3, t("2025-12-31 16:00:00"), 1, 1, None, 0, 0, "none", 0, "330106202500777"),
]
VIOLATIONS = [
    (1, t("2026-08-01 01:02:03"), 1, 1, 1, "1345", 3, "camera", "3301061234"),
    (2, t("2026-08-02 13:00:00"), 3, 2, 2, "13522", 6, "onsite", None),
    (3, t("2026-08-03 20:30:00"), 4, 3, None, "6046", 12, "trajectory", None),
    (4, t("2026-08-03 20:31:00"), 4, 3, 3, "6046", 12, "trajectory", "轨迹-0001"),
]
USERS = [
    (1, "admin", "admin", "信息中心", "*", 1, t("2026-01-05 01:00:00")),
    (2, "zhao", "reviewer", "交安委", "*", 1, t("2026-01-05 01:01:00")),
    (3, "wang", "police", "交警支队", "*", 1, t("2026-01-05 01:02:00")),
    (4, "li", "transport", "运管处", "*", 1, t("2026-01-05 01:03:00")),
    (5, "chen", "transport", "西湖运管所", "西湖区", 0, t("2026-01-05 01:04:00")),
]
EXPLANATION = {"criteria": [{"criterion": "violations_per_vehicle", "value": 5.2, "threshold": 3.0, "records": [1, 2]}]}
LISTINGS = [  # listed in cycle 2 (one failed review), delisted, proposed
    (1, 2, "listed", 2, "2026-08-01", "2026-10-31", 1, 0, "2026.1", json.dumps(EXPLANATION, ensure_ascii=False),
     t("2026-04-20 02:00:00"), None, 4),
    (2, 1, "delisted", 1, "2026-02-01", "2026-04-30", 0, 0, "2026.1", json.dumps({"criteria": []}),
     t("2026-01-20 02:00:00"), t("2026-05-02 03:00:00"), 3),
    (3, 3, "proposed", 0, None, None, 0, 0, "2026.1", json.dumps(EXPLANATION), t("2026-11-20 02:00:00"), None, 1),
]
CHECKLIST = {"inspections_complete": False, "problems_closed": True, "months": ["2026-05", "2026-06", "2026-07"]}
CYCLES = [
    (1, 1, 1, "2026-05-01", "2026-07-31", "fail", "zhao", t("2026-08-01 02:00:00"), "检查不全", json.dumps(CHECKLIST, ensure_ascii=False)),
    (2, 1, 2, "2026-08-01", "2026-10-31", None, None, None, None, None),
    (3, 2, 1, "2026-02-01", "2026-04-30", "pass", "zhao", t("2026-05-02 03:00:00"), "整改到位", json.dumps({"ok": True})),
]
DEADLINES = [
    (1, "cycle_end", 1, t("2026-10-31 16:00:00"), None), (2, "review_due", 1, t("2026-11-07 16:00:00"), None),
    (3, "cycle_end", 2, t("2026-04-30 16:00:00"), t("2026-05-02 03:00:00")),
]
INSPECTIONS = [
    (1, 2, 1, "transport", "li", "2026-08-15", "台账不全", json.dumps(["台账不全"], ensure_ascii=False), 0, t("2026-08-15 06:00:00")),
    (2, 2, 1, "police", "wang", "2026-08-20", None, None, 0, t("2026-08-20 07:30:00")),
    (3, 1, None, "transport", "li", "2026-09-03", "回访", json.dumps([]), 1, t("2026-09-03 02:00:00")),
]
PROBLEMS = [
    (1, 2, 1, "inspection", 1, "台账不全", "li", "2026-09-01", "verified", "li", t("2026-08-25 02:00:00"),
     "wang", t("2026-08-28 02:00:00"), t("2026-08-15 06:00:00"), 3),
    (2, 2, 1, "inspection", 1, "驾驶员培训记录缺失", "li", "2026-09-15", "open", None, None, None, None,
     t("2026-08-15 06:00:00"), 1),
]
AUDIT = [  # (at, actor, action, entity, entity_id, before, after)
    ("2026-01-05 01:00:00", "admin", "users.add", "user", "1", None, {"name": "admin", "role": "admin", "jurisdiction": "*"}),
    ("2026-01-05 01:01:00", "admin", "users.add", "user", "2", None, {"name": "zhao", "role": "reviewer", "jurisdiction": "*"}),
    ("2026-01-05 01:02:00", "admin", "users.add", "user", "3", None, {"name": "wang", "role": "police", "jurisdiction": "*"}),
    ("2026-01-05 01:03:00", "admin", "users.add", "user", "4", None, {"name": "li", "role": "transport", "jurisdiction": "*"}),
    ("2026-01-05 01:04:00", "admin", "users.add", "user", "5", None, {"name": "chen", "role": "transport", "jurisdiction": "西湖区"}),
    ("2026-01-06 02:00:00", "li", "import.companies", "company", None, None, {"file": "企业.csv", "rows": 3, "inserted": 3, "updated": 0}),
    ("2026-01-06 02:05:00.123456", "wang", "import.violations", "violation", None, None, {"file": "违法.xlsx", "rows": 4, "inserted": 4, "updated": 0}),
    ("2026-04-20 02:00:00", "zhao", "listing.propose", "listing", "1", None, {"state": "proposed", "company_id": 2}),
    ("2026-05-01 01:00:00", "zhao", "listing.confirm", "listing", "1", {"state": "proposed"}, {"state": "listed", "cycle": 1}),
    ("2026-08-01 02:00:00", "zhao", "review.decide", "listing", "1", {"state": "under_review"}, {"state": "listed", "cycle": 2, "reason": "检查不全"}),
    ("2026-08-28 02:00:00", "wang", "problems.verify", "problem", "1", {"state": "rectified"}, {"state": "verified"}),
    ("2026-09-01 00:00:00", "admin", "users.deactivate", "user", "5", {"active": True}, {"active": False}),
]


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from alembic import command

    from listing.store.db import _alembic_config, current_revision, make_engine

    OUT.unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{OUT}")
    command.upgrade(_alembic_config(engine), "0001")
    assert current_revision(engine) == "0001"
    engine.dispose()

    conn = sqlite3.connect(OUT)
    conn.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
    tables = [("company", COMPANIES), ("vehicle", VEHICLES), ("driver", DRIVERS), ("assignment", ASSIGNMENTS),
              ("accident", ACCIDENTS), ("violation", VIOLATIONS), ("user", USERS), ("listing", LISTINGS),
              ("cycle", CYCLES), ("deadline", DEADLINES), ("inspection", INSPECTIONS), ("problem", PROBLEMS)]
    for name, rows in tables:
        marks = ", ".join("?" * len(rows[0]))
        conn.executemany(f'INSERT INTO "{name}" VALUES ({marks})', rows)
    prev = GENESIS
    for seq, (at, actor, action, entity, eid, before, after) in enumerate(AUDIT, start=1):
        when = dt.datetime.fromisoformat(at).replace(tzinfo=dt.timezone.utc)
        digest = chain_hash(prev, canonical(seq, when, actor, action, entity, eid, before, after))
        conn.execute("INSERT INTO audit_event (id, seq, at, actor, action, entity, entity_id, before, after, prev_hash, hash) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     (seq, seq, t(at), actor, action, entity, eid, None if before is None else json.dumps(before),
                      None if after is None else json.dumps(after), prev, digest))
        prev = digest
    conn.execute("UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1", (len(AUDIT), prev))
    conn.commit()
    conn.execute("VACUUM")
    conn.close()
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
