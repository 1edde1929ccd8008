"""The runs of the scheduled jobs, newest first (`guapai jobs list` shows each job's last)."""
from __future__ import annotations

from listing.services.read.sql import where
from listing.store.reader import JSON, TIME, Reader, Row, query


def _runs(job: bool):
    return query(f"""
        SELECT id, job, period, state, owner, attempts, started_at, heartbeat_at, finished_at, result, error
        FROM job_run {where(job and "job = :job")}
        ORDER BY started_at DESC
        LIMIT :limit""", started_at=TIME, heartbeat_at=TIME, finished_at=TIME, result=JSON)


def runs(db, job: str | None = None, limit: int = 100) -> list[Row]:
    """The newest runs (of `job`, or of every job), as rows read like the table's (run.state,
    run.period, ...). `db`: a Reader or an ORM session."""
    return Reader.of(db).rows(_runs(bool(job)), job=job, limit=limit)
