"""import uploads: a checked file kept between its preview and its "Save all"

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 21:55:44.906736

The file waits in the database, not on one server's disk: the app runs on
several servers.

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "import_uploads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_import_uploads_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_uploads")),
        sa.UniqueConstraint("token", name=op.f("uq_import_uploads_token")),
    )
    with op.batch_alter_table("import_uploads", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_import_uploads_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_import_uploads_user_id"), ["user_id"], unique=False)


def downgrade():
    with op.batch_alter_table("import_uploads", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_import_uploads_user_id"))
        batch_op.drop_index(batch_op.f("ix_import_uploads_created_at"))

    op.drop_table("import_uploads")
