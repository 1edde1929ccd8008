"""findings from full-fleet screening: finding.source, sample_id optional

Revision ID: 0008
Revises: 0005
Create Date: 2026-12-02

`guapai screen --store` puts findings of every vehicle (not only the 10% sample) before the
officers, marked source = 'screening' and without a sample; at most one per (vehicle, rule,
start), so a rerun inserts nothing. (Revises 0005: the lead re-chains it after 0006/0007.)
"""
from alembic import op
import sqlalchemy as sa

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

WHERE = "source = 'screening'"


def upgrade() -> None:
    with op.batch_alter_table("finding", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source", sa.String(), nullable=False, server_default="sampling"))
        batch_op.alter_column("sample_id", existing_type=sa.Integer(), nullable=True)
        batch_op.create_index("uq_finding_screening", ["vehicle_id", "rule", "start"], unique=True,
                              sqlite_where=sa.text(WHERE), postgresql_where=sa.text(WHERE))


def downgrade() -> None:
    op.execute("DELETE FROM finding WHERE source = 'screening'")
    with op.batch_alter_table("finding", schema=None) as batch_op:
        batch_op.drop_index("uq_finding_screening", sqlite_where=sa.text(WHERE), postgresql_where=sa.text(WHERE))
        batch_op.alter_column("sample_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("source")
