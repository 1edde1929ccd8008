"""corrections without deleting history: voided inspections, problems, findings, violations;
inspection corrections; renamed users

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02

A record made by mistake is voided (作废) with who, when and why, never deleted: it stays as it
was recorded (a decided cycle's stored checklist may cite it) and counts nowhere. A corrected
inspection is a new row pointing at the voided one (`corrects_id`). A renamed user keeps their
former names, which nobody else may take (the audit log still shows them).
"""
from alembic import op
import sqlalchemy as sa

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

VOID = ("voided_at", "voided_by", "void_reason")


def _void_columns(batch_op, by: bool = True) -> None:
    batch_op.add_column(sa.Column("voided_at", sa.DateTime(), nullable=True))
    if by:
        batch_op.add_column(sa.Column("voided_by", sa.String(), nullable=True))
    batch_op.add_column(sa.Column("void_reason", sa.String(), nullable=True))


def upgrade() -> None:
    with op.batch_alter_table("inspection", schema=None) as batch_op:
        _void_columns(batch_op)
        batch_op.add_column(sa.Column("corrects_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_inspection_corrects", "inspection", ["corrects_id"], ["id"])
    for table in ("problem", "finding"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            _void_columns(batch_op)
    with op.batch_alter_table("violation", schema=None) as batch_op:
        _void_columns(batch_op, by=False)
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("former_names", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_column("former_names")
    with op.batch_alter_table("violation", schema=None) as batch_op:
        batch_op.drop_column("void_reason")
        batch_op.drop_column("voided_at")
    for table in ("finding", "problem"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for col in reversed(VOID):
                batch_op.drop_column(col)
    with op.batch_alter_table("inspection", schema=None) as batch_op:
        batch_op.drop_constraint("fk_inspection_corrects", type_="foreignkey")
        batch_op.drop_column("corrects_id")
        for col in reversed(VOID):
            batch_op.drop_column(col)
