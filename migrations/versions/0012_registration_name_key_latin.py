"""registrations: the name key folded to one Latin spelling (award_service/names.py)

The staff's attendee search and the door's search by name now match any
spelling of a name, as the nominations' duplicate detection does: "Esenov"
finds "Есенов", "Sarsenova" finds "Сәрсенова".  The key was the name in lower
case; it becomes the folded Latin spelling (up to two letters for one
Cyrillic letter, so the column widens to 400), recomputed for every existing
registration.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

from award_service.names import search_key
from award_service.text import search_key as lower_case_key

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_registrations = sa.table(
    "registrations", sa.column("id", sa.Integer), sa.column("full_name", sa.String), sa.column("name_key", sa.String)
)


def _rekey(key) -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.select(_registrations.c.id, _registrations.c.full_name)).all()
    update = (
        _registrations.update()
        .where(_registrations.c.id == sa.bindparam("row_id"))
        .values(name_key=sa.bindparam("new_key"))
    )
    for start in range(0, len(rows), 1000):
        batch = rows[start : start + 1000]
        bind.execute(update, [{"row_id": row.id, "new_key": key(row.full_name)[:400]} for row in batch])


def upgrade():
    with op.batch_alter_table("registrations") as batch_op:
        batch_op.alter_column("name_key", existing_type=sa.String(length=200), type_=sa.String(length=400))
    _rekey(search_key)


def downgrade():
    _rekey(lambda name: lower_case_key(name)[:200])
    with op.batch_alter_table("registrations") as batch_op:
        batch_op.alter_column("name_key", existing_type=sa.String(length=400), type_=sa.String(length=200))
