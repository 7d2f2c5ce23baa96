"""outbox: messages are composed by the sender, not in the request (award_service/mail)

A message is written with what was decided (``params``, JSON) and no text; the
sender composes it at each attempt and keeps the subject and bodies it sent.
Rows already in the table have no params: they were composed when written and
are sent as they are.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("params", sa.Text(), nullable=True))
        batch_op.alter_column("subject", existing_type=sa.String(length=500), nullable=True)
        batch_op.alter_column("body_text", existing_type=sa.Text(), nullable=True)
        batch_op.create_check_constraint(
            op.f("ck_outbox_messages_sent_was_composed"),
            "status <> 'sent' OR (subject IS NOT NULL AND body_text IS NOT NULL)",
        )


def downgrade():
    # The older code cannot compose a message (nor render its attachments):
    # those waiting are marked failed, with the reason, rather than sent bare.
    op.execute(
        "UPDATE outbox_messages SET status = 'failed', last_error = 'composed by the sender of revision "
        "0010; not sent before the downgrade to revision 0009' "
        "WHERE params IS NOT NULL AND status IN ('queued', 'sending')"
    )
    op.execute("UPDATE outbox_messages SET subject = '(' || kind || ')', body_text = '' WHERE subject IS NULL")
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_outbox_messages_sent_was_composed"), type_="check")
        batch_op.alter_column("body_text", existing_type=sa.Text(), nullable=False)
        batch_op.alter_column("subject", existing_type=sa.String(length=500), nullable=False)
        batch_op.drop_column("params")
