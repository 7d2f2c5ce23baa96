"""The migrations build exactly the schema the models describe, and load the reference data."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select

from award_service.districts.models import District
from award_service.extensions import db, for_dialect


def test_migrated_schema_matches_the_models(app):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={
            "compare_type": True, "include_object": for_dialect(connection.dialect.name)})
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_first_migration_loads_the_ulytau_districts(app):
    codes = set(db.session.scalars(select(District.code)))
    assert codes == {"zhezkazgan", "satbayev", "karazhal", "ulytau", "zhanaarka"}
