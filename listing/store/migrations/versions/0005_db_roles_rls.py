"""officers' own database roles: user.db_role, row-level security by jurisdiction, audit actor

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25

In the multi-user deployment every officer connects to PostgreSQL with a login role of their
own, mapped to their guapai user by `user.db_role` (`guapai db grant`). PostgreSQL itself then
enforces what matters most, so a modified client cannot bypass it:

- row-level security: such a role sees and writes only rows of companies in its user's
  jurisdiction (a city-level user, "*", sees all); a role mapped to no user sees nothing;
- the audit log: an event inserted by such a role must name that role's user as its actor.

Table owners (the migrating role, the scheduler's service role) are not subject to row-level
security; what each officer role may write at all is granted per role by `guapai db grant`
(listing/store/grants.py). SQLite has no roles: there only the column is added.
"""
from alembic import op
import sqlalchemy as sa

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# table -> the condition a row must meet to be visible/writable for an officer's role.
# Subqueries go through the parent table, whose own policy applies in turn.
BY_COMPANY = "company_id IN (SELECT c.id FROM company c)"
POLICIES = {
    "company": "guapai_sees(jurisdiction)",
    "vehicle": BY_COMPANY,
    "driver": BY_COMPANY,
    "accident": BY_COMPANY,
    "violation": BY_COMPANY,
    "listing": BY_COMPANY,
    "inspection": BY_COMPANY,
    "problem": BY_COMPANY,
    "sample": BY_COMPANY,
    "finding": BY_COMPANY,
    "inspection_miss": BY_COMPANY,
    "assignment": "vehicle_id IN (SELECT v.id FROM vehicle v)",
    "cycle": "listing_id IN (SELECT l.id FROM listing l)",
    "deadline": "listing_id IN (SELECT l.id FROM listing l)",
}


def upgrade() -> None:
    with op.batch_alter_table("user") as batch:
        batch.add_column(sa.Column("db_role", sa.String(), nullable=True))
        batch.create_unique_constraint("uq_user_db_role", ["db_role"])
    if op.get_bind().dialect.name != "postgresql":
        return
    # Invoker's rights on purpose: officers may read "user" (the CLI needs it to know who acts).
    # The table is named with its schema: unqualified, a temporary table "user" an officer made
    # would come first on the search path and say whatever they like.
    users = '"%s"."user"' % op.get_bind().exec_driver_sql("SELECT current_schema()").scalar_one().replace('"', '""')
    op.execute(f"""
        CREATE OR REPLACE FUNCTION guapai_sees(j text) RETURNS boolean
        LANGUAGE sql STABLE AS $$
            SELECT EXISTS (SELECT 1 FROM {users} u
                           WHERE u.db_role = current_user AND u.active AND u.jurisdiction IN ('*', j))
        $$""")
    for table, condition in POLICIES.items():
        op.execute(f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY')
        op.execute(f'CREATE POLICY guapai_jurisdiction ON "{table}" USING ({condition}) WITH CHECK ({condition})')
    op.execute(f"""
        CREATE OR REPLACE FUNCTION guapai_audit_actor() RETURNS trigger AS $$
        DECLARE
            mapped text;
        BEGIN
            SELECT u.name INTO mapped FROM {users} u WHERE u.db_role = current_user AND u.active;
            IF mapped IS NULL THEN
                -- only the owner of the audit table (or a superuser) writes as whoever it names
                IF pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'USAGE')
                   OR (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
                    RETURN NEW;
                END IF;
                RAISE EXCEPTION 'role % is not mapped to a guapai user', current_user
                    USING ERRCODE = 'insufficient_privilege';
            END IF;
            IF NEW.actor IS DISTINCT FROM mapped THEN
                RAISE EXCEPTION 'audit event names % but the connected role % is user %', NEW.actor, current_user, mapped
                    USING ERRCODE = 'insufficient_privilege';
            END IF;
            RETURN NEW;
        END $$ LANGUAGE plpgsql""")
    op.execute("CREATE TRIGGER audit_event_actor BEFORE INSERT ON audit_event "
               "FOR EACH ROW EXECUTE FUNCTION guapai_audit_actor()")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_event_actor ON audit_event")
        op.execute("DROP FUNCTION IF EXISTS guapai_audit_actor()")
        for table in POLICIES:
            op.execute(f'DROP POLICY IF EXISTS guapai_jurisdiction ON "{table}"')
            op.execute(f'ALTER TABLE "{table}" DISABLE ROW LEVEL SECURITY')
        op.execute("DROP FUNCTION IF EXISTS guapai_sees(text)")
    with op.batch_alter_table("user") as batch:
        batch.drop_constraint("uq_user_db_role", type_="unique")
        batch.drop_column("db_role")
