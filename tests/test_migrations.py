"""The migrations build exactly the schema the models describe, and load the reference data."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select

from award_service.districts.models import District
from award_service.extensions import db, for_dialect


def test_migrated_schema_matches_the_models(app):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_object": for_dialect(connection.dialect.name)}
        )
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_first_migration_loads_the_ulytau_districts(app):
    codes = set(db.session.scalars(select(District.code)))
    assert codes == {"zhezkazgan", "satbayev", "karazhal", "ulytau", "zhanaarka"}


def test_outbox_messages_survive_0010_down_and_up(tmp_path):
    """Messages written before 0010 were composed and stay as they are; going
    back to 0009, a message not yet composed cannot be sent by the older code,
    so it is marked failed with the reason, not sent empty."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    from award_service import create_app

    from .conftest import BASE_CONFIG

    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'm.sqlite3'}"})
    insert = text(
        "INSERT INTO outbox_messages (kind, to_address, language, subject, body_text, status, attempts, "
        "next_attempt_at, created_at, updated_at, sent_at) VALUES (:kind, 'a@example.kz', 'kk', :subject, "
        ":body, :status, 0, '2026-01-01 00:00:00', '2026-01-01 00:00:00', '2026-01-01 00:00:00', :sent)"
    )
    with app.app_context():
        upgrade(revision="0009")
        db.session.execute(
            insert,
            {
                "kind": "registration_confirmed",
                "subject": "Сәлем",
                "body": "Мәтін",
                "status": "sent",
                "sent": "2026-01-01 00:00:00",
            },
        )
        db.session.commit()
        upgrade()
        assert db.session.execute(text("SELECT subject, body_text, status, params FROM outbox_messages")).all() == [
            ("Сәлем", "Мәтін", "sent", None)
        ]
        db.session.execute(
            text(
                "INSERT INTO outbox_messages (kind, to_address, language, params, status, attempts, next_attempt_at, "
                "created_at, updated_at) VALUES ('registration_waitlisted', 'b@example.kz', 'ru', '{\"position\": 2}', "
                "'queued', 0, '2026-01-02 00:00:00', '2026-01-02 00:00:00', '2026-01-02 00:00:00')"
            )
        )
        db.session.commit()
        downgrade(revision="0009")
        rows = db.session.execute(
            text("SELECT to_address, subject, status, last_error FROM outbox_messages ORDER BY id")
        ).all()
        assert rows[0] == ("a@example.kz", "Сәлем", "sent", None)
        assert rows[1][:3] == ("b@example.kz", "(registration_waitlisted)", "failed")
        assert "not sent before the downgrade" in rows[1][3]
        upgrade()
        db.session.remove()
        db.engine.dispose()


def test_0014_outbox_request_id_down_and_up(tmp_path):
    """The column is added empty (NULL for what was written before), and dropped
    again with the rows kept."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import inspect, text

    from award_service import create_app

    from .conftest import BASE_CONFIG

    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'm.sqlite3'}"})
    insert = text(
        "INSERT INTO outbox_messages (kind, to_address, language, params, status, attempts, next_attempt_at, "
        "created_at, updated_at) VALUES ('registration_confirmed', 'a@example.kz', 'kk', '{}', 'queued', 0, "
        "'2026-01-01 00:00:00', '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
    )

    def columns():
        return {c["name"] for c in inspect(db.engine).get_columns("outbox_messages")}

    with app.app_context():
        upgrade(revision="0013")
        assert "request_id" not in columns()
        db.session.execute(insert)
        db.session.commit()
        upgrade(revision="0014")
        assert "request_id" in columns()
        assert db.session.execute(text("SELECT to_address, request_id FROM outbox_messages")).all() == [
            ("a@example.kz", None)
        ]
        db.session.execute(text("UPDATE outbox_messages SET request_id = 'req-1'"))
        db.session.commit()
        downgrade(revision="0013")
        assert "request_id" not in columns()
        assert db.session.execute(text("SELECT to_address, status FROM outbox_messages")).all() == [
            ("a@example.kz", "queued")
        ]
        upgrade()
        assert "request_id" in columns()
        db.session.remove()
        db.engine.dispose()
