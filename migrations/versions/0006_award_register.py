"""award register: awards, a certificate counter and the signer per medal

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "awards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("serial", sa.String(length=32), nullable=False),
        sa.Column("medal_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("nomination_id", sa.Integer(), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.Column("full_name", sa.String(length=400), nullable=False),
        sa.Column("sort_key", sa.String(length=800), nullable=False),
        sa.Column("decree_number", sa.String(length=50), nullable=False),
        sa.Column("decree_date", sa.Date(), nullable=False),
        sa.Column("verify_code", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("ceremony_id", sa.Integer(), nullable=True),
        sa.Column("presented_on", sa.Date(), nullable=True),
        sa.Column("presented_by_id", sa.Integer(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by_id", sa.Integer(), nullable=True),
        sa.Column("revoke_reason", sa.Text(), nullable=False),
        sa.Column("reissue_of_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("(status = 'revoked') = (revoked_at IS NOT NULL)", name=op.f("ck_awards_revoked_has_date")),
        sa.CheckConstraint("status IN ('valid', 'revoked')", name=op.f("ck_awards_status_known")),
        sa.CheckConstraint("number > 0", name=op.f("ck_awards_number_positive")),
        sa.ForeignKeyConstraint(["ceremony_id"], ["ceremonies.id"], name=op.f("fk_awards_ceremony_id_ceremonies")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_awards_created_by_id_users")),
        sa.ForeignKeyConstraint(["district_id"], ["districts.id"], name=op.f("fk_awards_district_id_districts")),
        sa.ForeignKeyConstraint(["medal_id"], ["medals.id"], name=op.f("fk_awards_medal_id_medals")),
        sa.ForeignKeyConstraint(
            ["nomination_id"], ["nominations.id"], name=op.f("fk_awards_nomination_id_nominations")
        ),
        sa.ForeignKeyConstraint(["presented_by_id"], ["users.id"], name=op.f("fk_awards_presented_by_id_users")),
        sa.ForeignKeyConstraint(["reissue_of_id"], ["awards.id"], name=op.f("fk_awards_reissue_of_id_awards")),
        sa.ForeignKeyConstraint(["revoked_by_id"], ["users.id"], name=op.f("fk_awards_revoked_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_awards")),
        sa.UniqueConstraint("medal_id", "number", name="uq_awards_medal_number"),
        sa.UniqueConstraint("reissue_of_id", name=op.f("uq_awards_reissue_of_id")),
        sa.UniqueConstraint("serial", name=op.f("uq_awards_serial")),
        sa.UniqueConstraint("verify_code", name=op.f("uq_awards_verify_code")),
    )
    with op.batch_alter_table("awards", schema=None) as batch_op:
        batch_op.create_index("ix_awards_ceremony_order", ["ceremony_id", "sort_key"], unique=False)
        batch_op.create_index("ix_awards_medal_district", ["medal_id", "district_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_awards_nomination_id"), ["nomination_id"], unique=False)
        batch_op.create_index(
            "uq_awards_valid_nomination",
            ["nomination_id"],
            unique=True,
            postgresql_where=sa.text("status = 'valid'"),
            sqlite_where=sa.text("status = 'valid'"),
        )

    with op.batch_alter_table("medals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("serial_counter", sa.Integer(), server_default=sa.text("0"), nullable=False))
        batch_op.add_column(sa.Column("signer_title_kk", sa.String(length=300), server_default="", nullable=False))
        batch_op.add_column(sa.Column("signer_title_ru", sa.String(length=300), server_default="", nullable=False))
        batch_op.add_column(sa.Column("signer_name", sa.String(length=200), server_default="", nullable=False))
        batch_op.add_column(sa.Column("signature_image", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("signature_type", sa.String(length=20), nullable=True))
    # SQLite cannot add a CHECK without copying the table, and copying medals
    # with foreign keys on would cascade into medal_quotas: there the service
    # alone keeps these two; PostgreSQL gets the constraints.
    if op.get_bind().dialect.name == "postgresql":
        op.create_check_constraint(op.f("ck_medals_serial_counter_not_negative"), "medals", "serial_counter >= 0")
        op.create_check_constraint(
            op.f("ck_medals_signature_type_allowed"),
            "medals",
            "signature_type IS NULL OR signature_type IN ('image/png', 'image/jpeg')",
        )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(op.f("ck_medals_signature_type_allowed"), "medals", type_="check")
        op.drop_constraint(op.f("ck_medals_serial_counter_not_negative"), "medals", type_="check")
    with op.batch_alter_table("medals", schema=None) as batch_op:
        batch_op.drop_column("signature_type")
        batch_op.drop_column("signature_image")
        batch_op.drop_column("signer_name")
        batch_op.drop_column("signer_title_ru")
        batch_op.drop_column("signer_title_kk")
        batch_op.drop_column("serial_counter")

    with op.batch_alter_table("awards", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_awards_valid_nomination",
            postgresql_where=sa.text("status = 'valid'"),
            sqlite_where=sa.text("status = 'valid'"),
        )
        batch_op.drop_index(batch_op.f("ix_awards_nomination_id"))
        batch_op.drop_index("ix_awards_medal_district")
        batch_op.drop_index("ix_awards_ceremony_order")

    op.drop_table("awards")
