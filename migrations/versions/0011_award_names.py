"""awards: the name the certificate prints, in its parts (surname, given name, patronymic)

A reissue may correct the name printed on a certificate without rewriting the
nomination (its history stays as it was approved): the corrected name lives on
the new award.  Existing awards get the parts of their nominee's name, which is
what they were issued with (full_name was copied from it).

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

PARTS = ("surname", "given_name", "patronymic")


def upgrade():
    with op.batch_alter_table("awards", schema=None) as batch_op:
        for part in PARTS:
            batch_op.add_column(sa.Column(part, sa.String(length=100), nullable=False, server_default=""))
    for part in PARTS:
        op.execute(
            f"UPDATE awards SET {part} = COALESCE((SELECT nominees.{part} FROM nominations "
            "JOIN nominees ON nominees.id = nominations.nominee_id "
            f"WHERE nominations.id = awards.nomination_id), '')"
        )


def downgrade():
    with op.batch_alter_table("awards", schema=None) as batch_op:
        for part in reversed(PARTS):
            batch_op.drop_column(part)
