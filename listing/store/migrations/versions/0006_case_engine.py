"""case engine: the notification outbox, monthly inspection obligations, vehicle ownership history

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02

- `outbox`: notifications written with the event that causes them, sent after commit, one row
  per (key, channel). Keys already in `sent_notification` were sent before: they are copied in
  as sent so an upgrade never notifies twice.
- `inspection_obligation`: one row per (company, month, department) owed.
- `vehicle_ownership`: filled from each vehicle's current company and active period.
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

BY_COMPANY = "company_id IN (SELECT c.id FROM company c)"
POLICIES = {"inspection_obligation": BY_COMPANY, "vehicle_ownership": BY_COMPANY}


def upgrade() -> None:
    text, dtm = sqlmodel.sql.sqltypes.AutoString, sqlmodel.sql.sqltypes.UTCDateTime
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", text(), nullable=False),
        sa.Column("channel", text(), nullable=False),
        sa.Column("title", text(), nullable=False),
        sa.Column("text", text(), nullable=False),
        sa.Column("created_at", dtm(), nullable=False),
        sa.Column("next_attempt_at", dtm(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_by", text(), nullable=True),
        sa.Column("claimed_at", dtm(), nullable=True),
        sa.Column("sent_at", dtm(), nullable=True),
        sa.Column("last_error", text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key", "channel", name="uq_outbox_key_channel"),
    )
    op.create_index(op.f("ix_outbox_key"), "outbox", ["key"], unique=False)
    op.create_index(op.f("ix_outbox_next_attempt_at"), "outbox", ["next_attempt_at"], unique=False)
    op.execute("INSERT INTO outbox (key, channel, title, text, created_at, next_attempt_at, attempts, sent_at) "
               "SELECT key, channel, '', '', sent_at, sent_at, 1, sent_at FROM sent_notification")
    op.create_table(
        "inspection_obligation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("listing_id", sa.Integer(), nullable=False),
        sa.Column("month", text(), nullable=False),
        sa.Column("department", text(), nullable=False),
        sa.Column("due_at", dtm(), nullable=False),
        sa.Column("state", text(), nullable=False),
        sa.Column("created_at", dtm(), nullable=False),
        sa.Column("settled_at", dtm(), nullable=True),
        sa.ForeignKeyConstraint(["company_id"], ["company.id"]),
        sa.ForeignKeyConstraint(["listing_id"], ["listing.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("company_id", "month", "department", name="uq_inspection_obligation"),
    )
    op.create_index(op.f("ix_inspection_obligation_company_id"), "inspection_obligation", ["company_id"], unique=False)
    op.create_index(op.f("ix_inspection_obligation_listing_id"), "inspection_obligation", ["listing_id"], unique=False)
    op.create_index(op.f("ix_inspection_obligation_due_at"), "inspection_obligation", ["due_at"], unique=False)
    op.create_table(
        "vehicle_ownership",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("vehicle_id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("end", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["company_id"], ["company.id"]),
        sa.ForeignKeyConstraint(["vehicle_id"], ["vehicle.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("vehicle_id", "start", name="uq_vehicle_ownership"),
    )
    op.create_index(op.f("ix_vehicle_ownership_vehicle_id"), "vehicle_ownership", ["vehicle_id"], unique=False)
    op.create_index("ix_vehicle_ownership_company", "vehicle_ownership", ["company_id", "start"], unique=False)
    op.execute('INSERT INTO vehicle_ownership (vehicle_id, company_id, start, "end") '
               "SELECT id, company_id, active_from, active_to FROM vehicle")
    if op.get_bind().dialect.name == "postgresql":
        for table, condition in POLICIES.items():
            op.execute(f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY')
            op.execute(f'CREATE POLICY guapai_jurisdiction ON "{table}" USING ({condition}) WITH CHECK ({condition})')


def downgrade() -> None:
    op.drop_table("vehicle_ownership")
    op.drop_table("inspection_obligation")
    op.drop_table("outbox")
