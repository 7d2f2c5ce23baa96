"""waiting list: a registration may be waitlisted, in an order organisers can change

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("waitlist_order", sa.Integer(), nullable=True))
        batch_op.drop_constraint(op.f("ck_registrations_status_known"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_registrations_status_known"), "status IN ('confirmed', 'waitlisted', 'cancelled')"
        )
        batch_op.create_check_constraint(
            op.f("ck_registrations_checkin_confirmed"), "checked_in_at IS NULL OR status = 'confirmed'"
        )
        batch_op.create_index("ix_registrations_waitlist", ["ceremony_id", "waitlist_order"], unique=False)


def downgrade():
    op.execute("UPDATE registrations SET status = 'cancelled' WHERE status = 'waitlisted'")
    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.drop_index("ix_registrations_waitlist")
        batch_op.drop_constraint(op.f("ck_registrations_checkin_confirmed"), type_="check")
        batch_op.drop_constraint(op.f("ck_registrations_status_known"), type_="check")
        batch_op.create_check_constraint(op.f("ck_registrations_status_known"), "status IN ('confirmed', 'cancelled')")
        batch_op.drop_column("waitlist_order")
