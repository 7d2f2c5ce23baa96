"""outbox: messages are composed by the sender, not in the request (award_service/mail)

A message is written with what was decided (``params``) and no text; the
sender fills in the subject, bodies and attachments before the first attempt.
Rows already in the table were composed when written and stay as they are.

Revision ID: 0010
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('params', sa.Text(), nullable=True))
        batch_op.alter_column('subject', existing_type=sa.String(length=500), nullable=True)
        batch_op.alter_column('body_text', existing_type=sa.Text(), nullable=True)
        batch_op.create_check_constraint(
            op.f('ck_outbox_messages_sent_was_composed'),
            "status <> 'sent' OR (subject IS NOT NULL AND body_text IS NOT NULL)")


def downgrade():
    # The older code cannot compose a message: those never composed are marked
    # failed, with the reason, rather than sent empty.
    op.execute("UPDATE outbox_messages SET subject = '(' || kind || ')', body_text = '', status = 'failed', "
               "last_error = 'not composed before the downgrade to revision 0009' WHERE subject IS NULL")
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_outbox_messages_sent_was_composed'), type_='check')
        batch_op.alter_column('body_text', existing_type=sa.Text(), nullable=False)
        batch_op.alter_column('subject', existing_type=sa.String(length=500), nullable=False)
        batch_op.drop_column('params')
