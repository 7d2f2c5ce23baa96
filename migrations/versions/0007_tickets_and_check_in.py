"""tickets and door check-in: a ticket code per registration, who came in and when

Revision ID: 0007
Revises: 0006
"""

import base64
import secrets

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ticket_code", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("checked_in_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("checked_in_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("companions_arrived", sa.Integer(), nullable=True))
    # Every registration made before tickets gets its code (80 random bits).
    connection = op.get_bind()
    registrations = sa.table("registrations", sa.column("id", sa.Integer), sa.column("ticket_code", sa.String))
    ids = [row.id for row in connection.execute(sa.select(registrations.c.id))]
    for registration_id in ids:
        connection.execute(
            registrations.update()
            .where(registrations.c.id == registration_id)
            .values(ticket_code=base64.b32encode(secrets.token_bytes(10)).decode("ascii"))
        )
    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.alter_column("ticket_code", existing_type=sa.String(length=16), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_registrations_ticket_code"), ["ticket_code"])
        batch_op.create_foreign_key(
            batch_op.f("fk_registrations_checked_in_by_id_users"), "users", ["checked_in_by_id"], ["id"]
        )
        batch_op.create_check_constraint(
            op.f("ck_registrations_checkin_complete"), "(checked_in_at IS NULL) = (companions_arrived IS NULL)"
        )
        batch_op.create_check_constraint(
            op.f("ck_registrations_companions_arrived_range"),
            "companions_arrived IS NULL OR (companions_arrived >= 0 AND companions_arrived <= companions)",
        )


def downgrade():
    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_registrations_companions_arrived_range"), type_="check")
        batch_op.drop_constraint(op.f("ck_registrations_checkin_complete"), type_="check")
        batch_op.drop_constraint(batch_op.f("fk_registrations_checked_in_by_id_users"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("uq_registrations_ticket_code"), type_="unique")
        batch_op.drop_column("companions_arrived")
        batch_op.drop_column("checked_in_by_id")
        batch_op.drop_column("checked_in_at")
        batch_op.drop_column("ticket_code")
