"""ceremonies: optional English title and venues in Kazakh, Russian and English

``title_en``, ``venue_kk``, ``venue_ru`` and ``venue_en`` are "" when not given;
pages, PDFs, mail, calendar files and the API show a ceremony's title and venue
in the reader's language, else Russian, else Kazakh (and ``venue`` last).

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

COLUMNS = ("title_en", "venue_kk", "venue_ru", "venue_en")


def upgrade():
    with op.batch_alter_table("ceremonies", schema=None) as batch_op:
        for name in COLUMNS:
            batch_op.add_column(sa.Column(name, sa.String(length=200), nullable=False, server_default=""))


def downgrade():
    with op.batch_alter_table("ceremonies", schema=None) as batch_op:
        for name in reversed(COLUMNS):
            batch_op.drop_column(name)
