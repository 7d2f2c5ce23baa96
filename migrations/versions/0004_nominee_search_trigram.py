"""trigram index for name search on PostgreSQL

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    # Searching names is LIKE '%word%' over nominees.search_key; a b-tree
    # cannot serve it, a trigram GIN index can (pg_trgm is a trusted extension).
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_index(
        "ix_nominees_search_key_trgm",
        "nominees",
        ["search_key"],
        postgresql_using="gin",
        postgresql_ops={"search_key": "gin_trgm_ops"},
    )


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index("ix_nominees_search_key_trgm", table_name="nominees")
