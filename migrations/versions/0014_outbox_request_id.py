"""outbox_messages.request_id: the id of the request that decided a message

The sender (a thread of the web process, or the Celery worker) writes it in
its log lines about the message, so a message's sending can be found from
the request that caused it (issue 13, logs).  NULL for messages decided
outside a request (reminders, the CLI) and for those written before.

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("request_id", sa.String(length=128), nullable=True))


def downgrade():
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_column("request_id")
