"""sampling: the draw's inputs stored with it; platform failures recorded on the sample

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-02

- `sample_draw`: one row per (day, company) holding what the keyed draw saw (the active
  vehicles and the day each was last sampled) and what it chose, so `sample verify` reproduces
  every day's selection whatever order days were run in.
- `sample.attempts`, `sample.last_error`, `sample.waiting_since`: a vehicle-day the platform
  did not answer stays `selected` (never a finding against the company) and records why, so the
  scheduler's retries and the overdue notice can say so.

Existing samples keep their statuses; a `failed` sample of an earlier version (a platform
failure) goes back to `selected` so it is asked again, and its `no_data` finding, which blamed
the company for our platform's failure, is removed while still unreviewed.

(Revises 0005 on this branch; the lead re-chains it after the case engine's 0006 when merging.)
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sample_draw",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("listing_id", sa.Integer(), nullable=True),
        sa.Column("fraction", sa.Float(), nullable=False),
        sa.Column("vehicles", sa.JSON(), nullable=True),
        sa.Column("chosen", sa.JSON(), nullable=True),
        sa.Column("drawn_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["company_id"], ["company.id"]),
        sa.ForeignKeyConstraint(["listing_id"], ["listing.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("day", "company_id", name="uq_sample_draw_day_company"),
    )
    with op.batch_alter_table("sample_draw") as batch:
        batch.create_index(batch.f("ix_sample_draw_day"), ["day"], unique=False)
        batch.create_index(batch.f("ix_sample_draw_company_id"), ["company_id"], unique=False)
    with op.batch_alter_table("sample") as batch:
        batch.add_column(sa.Column("attempts", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("last_error", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch.add_column(sa.Column("waiting_since", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    op.execute("DELETE FROM finding WHERE rule = 'no_data' AND state = 'suspected' "
               "AND sample_id IN (SELECT id FROM sample WHERE status = 'failed')")
    op.execute("UPDATE sample SET status = 'selected', attempts = 1, last_error = 'platform failure (before 0007)' "
               "WHERE status = 'failed'")
    if op.get_bind().dialect.name == "postgresql":  # the same jurisdiction policy as the other company tables (0005)
        condition = "company_id IN (SELECT c.id FROM company c)"
        op.execute('ALTER TABLE "sample_draw" ENABLE ROW LEVEL SECURITY')
        op.execute(f'CREATE POLICY guapai_jurisdiction ON "sample_draw" USING ({condition}) WITH CHECK ({condition})')


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute('DROP POLICY IF EXISTS guapai_jurisdiction ON "sample_draw"')
    with op.batch_alter_table("sample") as batch:
        batch.drop_column("waiting_since")
        batch.drop_column("last_error")
        batch.drop_column("attempts")
    with op.batch_alter_table("sample_draw") as batch:
        batch.drop_index(batch.f("ix_sample_draw_company_id"))
        batch.drop_index(batch.f("ix_sample_draw_day"))
    op.drop_table("sample_draw")
