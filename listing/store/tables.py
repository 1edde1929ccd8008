"""Persistence records (SQLModel tables). They do not validate: services validate input first.

Times are stored as naive UTC; dates are local (Asia/Shanghai) calendar dates.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Optional

from sqlalchemy import JSON, Column, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel


class Company(SQLModel, table=True):
    """运输企业."""

    id: Optional[int] = Field(default=None, primary_key=True)
    uscc: str = Field(max_length=18, unique=True)  # 统一社会信用代码
    name: str
    business_type: str = Field(index=True)  # passenger / freight / dangerous_goods / taxi / bus / other
    jurisdiction: str = Field(index=True)  # 县市区


class Vehicle(SQLModel, table=True):
    """车辆. Active from/to are the days it was registered to the company."""

    id: Optional[int] = Field(default=None, primary_key=True)
    plate: str = Field(max_length=10, unique=True)
    company_id: int = Field(foreign_key="company.id", index=True)
    vehicle_class: str
    active_from: dt.date
    active_to: Optional[dt.date] = None


class Driver(SQLModel, table=True):
    """驾驶员. ID number and phone are personal data, masked in output."""

    id: Optional[int] = Field(default=None, primary_key=True)
    id_number: str = Field(max_length=18, unique=True)
    name: str
    phone: Optional[str] = None
    company_id: int = Field(foreign_key="company.id", index=True)


class Assignment(SQLModel, table=True):
    """Who drove which vehicle when (排班/签到)."""

    __table_args__ = (UniqueConstraint("driver_id", "vehicle_id", "start", name="uq_assignment"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    driver_id: int = Field(foreign_key="driver.id", index=True)
    vehicle_id: int = Field(foreign_key="vehicle.id", index=True)
    start: dt.datetime
    end: Optional[dt.datetime] = None


class Accident(SQLModel, table=True):
    """交通事故. Natural key: (vehicle, time)."""

    __table_args__ = (
        UniqueConstraint("vehicle_id", "occurred_at", name="uq_accident"),
        Index("ix_accident_company_time", "company_id", "occurred_at"),
    )
    id: Optional[int] = Field(default=None, primary_key=True)
    occurred_at: dt.datetime
    vehicle_id: int = Field(foreign_key="vehicle.id")
    company_id: int = Field(foreign_key="company.id")
    driver_id: Optional[int] = Field(default=None, foreign_key="driver.id")
    fatalities: int = 0
    injuries: int = 0
    responsibility: str  # full / main / equal / secondary / none
    dangerous_goods_release: bool = False
    record_no: Optional[str] = None


class Violation(SQLModel, table=True):
    """交通违法. Natural key: (vehicle, time, code)."""

    __table_args__ = (
        UniqueConstraint("vehicle_id", "occurred_at", "code", name="uq_violation"),
        Index("ix_violation_company_time", "company_id", "occurred_at"),
    )
    id: Optional[int] = Field(default=None, primary_key=True)
    occurred_at: dt.datetime
    vehicle_id: int = Field(foreign_key="vehicle.id")
    company_id: int = Field(foreign_key="company.id")
    driver_id: Optional[int] = Field(default=None, foreign_key="driver.id")
    code: str
    points: int = 0
    source: str  # camera / onsite / trajectory
    record_no: Optional[str] = None
    # a trajectory violation whose finding was reopened or voided: kept, counted nowhere
    voided_at: Optional[dt.datetime] = None
    void_reason: Optional[str] = None


class User(SQLModel, table=True):
    """An officer or administrator."""

    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(unique=True)
    role: str  # police / transport / reviewer / admin
    department: str
    jurisdiction: str  # a county/district, or "*" for city level
    active: bool = True
    created_at: dt.datetime
    # PostgreSQL login role this user connects as (multi-user deployment, `guapai db grant`):
    # on such a connection the database, not --as, says who is acting.
    db_role: Optional[str] = Field(default=None, unique=True)
    # names this user had before a rename (`guapai users rename`): never given to anyone else,
    # since the audit log still shows them
    former_names: Any = Field(default=None, sa_column=Column(JSON))


class Listing(SQLModel, table=True):
    """A listed-rectification case (挂牌整治案件). At most one open per company."""

    __table_args__ = (
        Index(
            "uq_listing_open_company",
            "company_id",
            unique=True,
            sqlite_where=text("state IN ('proposed','listed','under_review')"),
            postgresql_where=text("state IN ('proposed','listed','under_review')"),
        ),
    )
    id: Optional[int] = Field(default=None, primary_key=True)
    company_id: int = Field(foreign_key="company.id", index=True)
    state: str = Field(index=True)
    cycle: int = 0
    cycle_start: Optional[dt.date] = None
    cycle_due: Optional[dt.date] = None
    consecutive_failures: int = 0
    escalated: bool = False
    rules_version: str
    explanation: Any = Field(default=None, sa_column=Column(JSON))
    proposed_at: dt.datetime
    closed_at: Optional[dt.datetime] = None
    version: int = 1  # optimistic lock: concurrent changes cannot both win


class Cycle(SQLModel, table=True):
    """One three-month rectification cycle of a listing, with its acceptance decision."""

    __table_args__ = (UniqueConstraint("listing_id", "number", name="uq_cycle"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    listing_id: int = Field(foreign_key="listing.id", index=True)
    number: int
    start: dt.date
    due: dt.date
    outcome: Optional[str] = None  # pass / fail
    decided_by: Optional[str] = None
    decided_at: Optional[dt.datetime] = None
    reason: Optional[str] = None
    checklist: Any = Field(default=None, sa_column=Column(JSON))


class Deadline(SQLModel, table=True):
    """A due time as a row, so a restarted system finds every deadline again."""

    __table_args__ = (UniqueConstraint("kind", "listing_id", "due_at", name="uq_deadline"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    kind: str = Field(index=True)  # cycle_end / review_due / ...
    listing_id: int = Field(foreign_key="listing.id", index=True)
    due_at: dt.datetime = Field(index=True)
    done_at: Optional[dt.datetime] = None


class Inspection(SQLModel, table=True):
    """安全检查 by the transport bureau or the traffic police."""

    id: Optional[int] = Field(default=None, primary_key=True)
    company_id: int = Field(foreign_key="company.id", index=True)
    listing_id: Optional[int] = Field(default=None, foreign_key="listing.id")
    department: str  # transport / police
    inspector: str
    day: dt.date = Field(index=True)
    notes: Optional[str] = None
    findings: Any = Field(default=None, sa_column=Column(JSON))
    company_not_listed: bool = False
    recorded_at: dt.datetime
    # voided (作废) by mistake: kept as recorded, counted nowhere; a correction is a new row
    # pointing at the one it corrects (listing.domain.corrections)
    voided_at: Optional[dt.datetime] = None
    voided_by: Optional[str] = None
    void_reason: Optional[str] = None
    corrects_id: Optional[int] = Field(default=None, foreign_key="inspection.id")


class Problem(SQLModel, table=True):
    """问题清单: open -> rectified -> verified (or reopened); verified by a different officer."""

    id: Optional[int] = Field(default=None, primary_key=True)
    company_id: int = Field(foreign_key="company.id", index=True)
    listing_id: Optional[int] = Field(default=None, foreign_key="listing.id")
    source: str  # inspection / finding
    source_id: Optional[int] = None
    description: str
    owner: Optional[str] = None
    due: Optional[dt.date] = None
    state: str = "open"
    rectified_by: Optional[str] = None
    rectified_at: Optional[dt.datetime] = None
    verified_by: Optional[str] = None
    verified_at: Optional[dt.datetime] = None
    created_at: dt.datetime
    version: int = 1
    voided_at: Optional[dt.datetime] = None  # state "voided": opened by mistake, counted nowhere
    voided_by: Optional[str] = None
    void_reason: Optional[str] = None


class AuditEvent(SQLModel, table=True):
    """审计日志, hash-chained: each event's hash covers its content and the previous hash."""

    __tablename__ = "audit_event"
    id: Optional[int] = Field(default=None, primary_key=True)
    seq: int = Field(unique=True)
    at: dt.datetime
    actor: str
    action: str = Field(index=True)
    entity: str
    entity_id: Optional[str] = None
    before: Any = Field(default=None, sa_column=Column(JSON))
    after: Any = Field(default=None, sa_column=Column(JSON))
    prev_hash: str
    hash: str


class AuditHead(SQLModel, table=True):
    """The chain's last (seq, hash): one row, locked by every append, so a deleted tail shows."""

    __tablename__ = "audit_head"
    id: int = Field(default=1, primary_key=True)
    seq: int = 0
    hash: str


class RuleVersion(SQLModel, table=True):
    """A version of the listing criteria (the TOML text as loaded), kept readable forever."""

    __tablename__ = "rule_version"
    id: Optional[int] = Field(default=None, primary_key=True)
    version: str = Field(unique=True)
    effective_from: dt.date = Field(index=True)
    source: str
    sha256: str
    loaded_by: str
    loaded_at: dt.datetime


class JobRun(SQLModel, table=True):
    """A scheduled job's run for one period, claimed before its work starts: the unique
    (job, period) key is what makes a second scheduler or a rerun do nothing twice."""

    __tablename__ = "job_run"
    __table_args__ = (UniqueConstraint("job", "period", name="uq_job_period"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    job: str
    period: str  # a local date (YYYY-MM-DD) or month (YYYY-MM)
    state: str  # running / done / failed
    owner: str  # host:pid of the worker holding it
    attempts: int = 1
    started_at: dt.datetime
    heartbeat_at: dt.datetime
    finished_at: Optional[dt.datetime] = None
    result: Any = Field(default=None, sa_column=Column(JSON))
    error: Optional[str] = None


class Sample(SQLModel, table=True):
    """One vehicle drawn in the daily 10% sampling (抽查) for one day."""

    __table_args__ = (UniqueConstraint("day", "vehicle_id", name="uq_sample_day_vehicle"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    day: dt.date = Field(index=True)  # the local day whose trajectory is checked
    company_id: int = Field(foreign_key="company.id", index=True)
    listing_id: Optional[int] = Field(default=None, foreign_key="listing.id")
    vehicle_id: int = Field(foreign_key="vehicle.id", index=True)
    rank: int  # position in the verifiable selection order
    # selected (no real answer yet: waiting for the platform) / scanned (complete data: the only
    # status that can be a clean vehicle-day) / partial / no_data / not_on_platform (rules/sampling.py)
    status: str = "selected"
    points: int = 0
    coverage: Any = Field(default=None, sa_column=Column(JSON))
    scanned_at: Optional[dt.datetime] = None
    attempts: int = Field(default=0, sa_column_kwargs={"server_default": "0"})  # platform failures so far
    last_error: Optional[str] = None  # the last platform failure (not the company's fault)
    waiting_since: Optional[dt.datetime] = None  # first platform failure, for the overdue notice


class SampleDraw(SQLModel, table=True):
    """The inputs of one company's daily draw, stored with it, so `sample verify` recomputes the
    selection from exactly what the draw saw, in whatever order days were run."""

    __tablename__ = "sample_draw"
    __table_args__ = (UniqueConstraint("day", "company_id", name="uq_sample_draw_day_company"),)
    id: Optional[int] = Field(default=None, primary_key=True)  # draw order: history is what earlier draws stored
    day: dt.date = Field(index=True)
    company_id: int = Field(foreign_key="company.id", index=True)
    listing_id: Optional[int] = Field(default=None, foreign_key="listing.id")
    fraction: float
    vehicles: Any = Field(default=None, sa_column=Column(JSON))  # [[plate, last sampled day or null], ...]
    chosen: Any = Field(default=None, sa_column=Column(JSON))  # [plate, ...] in rank order
    drawn_at: dt.datetime


class Finding(SQLModel, table=True):
    """A suspected violation (or a data gap) found in a trajectory, for police review: in the daily
    sample (source "sampling", with its sample) or by full-fleet screening (source "screening")."""

    __table_args__ = (
        UniqueConstraint("sample_id", "rule", "start", name="uq_finding"),
        Index("uq_finding_screening", "vehicle_id", "rule", "start", unique=True,
              sqlite_where=text("source = 'screening'"), postgresql_where=text("source = 'screening'")),
    )
    id: Optional[int] = Field(default=None, primary_key=True)
    sample_id: Optional[int] = Field(default=None, foreign_key="sample.id", index=True)
    source: str = Field(default="sampling", sa_column_kwargs={"server_default": "sampling"})
    day: dt.date = Field(index=True)
    company_id: int = Field(foreign_key="company.id", index=True)
    vehicle_id: int = Field(foreign_key="vehicle.id")
    driver_id: Optional[int] = Field(default=None, foreign_key="driver.id")
    rule: str
    regulation: Optional[str] = None
    start: dt.datetime
    end: dt.datetime
    evidence: Any = Field(default=None, sa_column=Column(JSON))
    state: str = "suspected"  # suspected / confirmed / dismissed
    decided_by: Optional[str] = None
    decided_at: Optional[dt.datetime] = None
    reason: Optional[str] = None
    violation_id: Optional[int] = Field(default=None, foreign_key="violation.id")
    problem_id: Optional[int] = Field(default=None, foreign_key="problem.id")
    version: int = 1
    voided_at: Optional[dt.datetime] = None  # state "voided": not a finding at all (e.g. a glitch)
    voided_by: Optional[str] = None
    void_reason: Optional[str] = None


class InspectionMiss(SQLModel, table=True):
    """A month in which a department recorded no inspection of a listed company."""

    __tablename__ = "inspection_miss"
    __table_args__ = (UniqueConstraint("listing_id", "month", "department", name="uq_inspection_miss"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    listing_id: int = Field(foreign_key="listing.id", index=True)
    company_id: int = Field(foreign_key="company.id")
    month: str  # YYYY-MM
    department: str
    recorded_at: dt.datetime


class SentNotification(SQLModel, table=True):
    """Idempotency record for notifications: a rerun never notifies twice."""

    __tablename__ = "sent_notification"
    id: Optional[int] = Field(default=None, primary_key=True)
    key: str = Field(unique=True)
    channel: str
    sent_at: dt.datetime


class OutboxMessage(SQLModel, table=True):
    """A notification to send (发件箱): written in the transaction of the event that causes it,
    sent after commit by a retrying sender. One row per (key, channel): each robot gets each
    notice once, whatever another robot does."""

    __tablename__ = "outbox"
    __table_args__ = (UniqueConstraint("key", "channel", name="uq_outbox_key_channel"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    key: str = Field(index=True)
    channel: str  # dingtalk / wecom / log
    title: str
    text: str
    created_at: dt.datetime
    next_attempt_at: dt.datetime = Field(index=True)
    attempts: int = 0
    claimed_by: Optional[str] = None  # the sender posting it now (host:pid)
    claimed_at: Optional[dt.datetime] = None
    sent_at: Optional[dt.datetime] = None
    last_error: Optional[str] = None


class InspectionObligation(SQLModel, table=True):
    """One month's inspection duty of a listed company for one department, created when the month
    is owed; owed -> met | missed | waived (listing.domain.months)."""

    __tablename__ = "inspection_obligation"
    __table_args__ = (UniqueConstraint("company_id", "month", "department", name="uq_inspection_obligation"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    company_id: int = Field(foreign_key="company.id", index=True)
    listing_id: int = Field(foreign_key="listing.id", index=True)
    month: str  # YYYY-MM
    department: str
    due_at: dt.datetime = Field(index=True)  # local midnight starting the next month
    state: str = "owed"
    created_at: dt.datetime
    settled_at: Optional[dt.datetime] = None


class VehicleOwnership(SQLModel, table=True):
    """Which company a vehicle belonged to when (local days start <= day < end): a vehicle sold to
    another company keeps its exposure and violations with the old one for the time before."""

    __tablename__ = "vehicle_ownership"
    __table_args__ = (UniqueConstraint("vehicle_id", "start", name="uq_vehicle_ownership"),
                      Index("ix_vehicle_ownership_company", "company_id", "start"))
    id: Optional[int] = Field(default=None, primary_key=True)
    vehicle_id: int = Field(foreign_key="vehicle.id", index=True)
    company_id: int = Field(foreign_key="company.id")
    start: dt.date
    end: Optional[dt.date] = None
