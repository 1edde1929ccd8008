"""Keeping the vehicle ownership history (vehicle_ownership) in step with the vehicle register.

Run after vehicles are written (the import's bulk upsert). A vehicle whose company changed
closes its last ownership on the day it was registered with the new company (its new
`active_from`) and opens a new one; a deregistration (`active_to`) closes the current one; a
vehicle without history gets its first row. Plain SQL for SQLite and PostgreSQL alike.
"""
from __future__ import annotations

_LATEST = ('o.start = (SELECT max(o2.start) FROM vehicle_ownership o2 WHERE o2.vehicle_id = o.vehicle_id)')

STATEMENTS = (
    # the company changed: the old ownership ends when the new registration starts
    f"""UPDATE vehicle_ownership SET "end" = (
            SELECT CASE WHEN v.active_from > vehicle_ownership.start THEN v.active_from ELSE vehicle_ownership.start END
            FROM vehicle v WHERE v.id = vehicle_ownership.vehicle_id)
        WHERE vehicle_ownership.id IN (
            SELECT o.id FROM vehicle_ownership o JOIN vehicle v ON v.id = o.vehicle_id
            WHERE v.company_id <> o.company_id AND {_LATEST})""",
    # a new owner, or a vehicle without history: open its ownership
    f"""INSERT INTO vehicle_ownership (vehicle_id, company_id, start, "end")
        SELECT v.id, v.company_id, v.active_from, v.active_to FROM vehicle v
        WHERE NOT EXISTS (SELECT 1 FROM vehicle_ownership o WHERE o.vehicle_id = v.id AND o.company_id = v.company_id
                          AND {_LATEST})
          AND NOT EXISTS (SELECT 1 FROM vehicle_ownership o WHERE o.vehicle_id = v.id AND o.start = v.active_from)""",
    # the same owner: its current ownership follows the register's end date
    f"""UPDATE vehicle_ownership SET "end" = (SELECT v.active_to FROM vehicle v WHERE v.id = vehicle_ownership.vehicle_id)
        WHERE vehicle_ownership.id IN (
            SELECT o.id FROM vehicle_ownership o JOIN vehicle v ON v.id = o.vehicle_id
            WHERE v.company_id = o.company_id AND {_LATEST}
              AND (o."end" IS NULL AND v.active_to IS NOT NULL OR o."end" IS NOT NULL AND v.active_to IS NULL
                   OR o."end" <> v.active_to))""",
)


def sync(connection) -> None:
    """Bring the history in step with the register, in the caller's transaction."""
    for statement in STATEMENTS:
        connection.exec_driver_sql(statement)
