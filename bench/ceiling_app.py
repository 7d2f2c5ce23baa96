"""The ceiling for bench/registration.py: the least a registration can cost.

One endpoint that parses the same JSON body the registration API gets, INSERTs
one row into a one-table schema through Flask-SQLAlchemy + psycopg 3 and
commits.  Served by gunicorn exactly like the service (same worker count, same
kind of fresh PostgreSQL database), so the gap between the two is what the
service's own work costs: validation, the ceremony look-up, the duplicate
check, the audit event, the seat update and the extra round trips.

    DATABASE_URL=postgresql://postgres@127.0.0.1/db python bench/ceiling_app.py --create-schema
    DATABASE_URL=... gunicorn -w 2 --chdir bench ceiling_app:app

Like the service, the app opens no database connection at import time, so
workers forked by gunicorn each open their own.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

from flask import Flask, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import DateTime, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)


class Row(db.Model):
    __tablename__ = "ceiling_rows"

    id: Mapped[int] = mapped_column(primary_key=True)
    full_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def _database_url() -> str:
    url = os.environ["DATABASE_URL"]
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def create_app() -> Flask:
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = _database_url()
    # The same engine options the service uses (award_service/config.py): no
    # pre-ping on checkout, a dead connection is found by its first statement.
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {}
    db.init_app(app)

    @app.post("/insert")
    def insert():
        data = request.get_json()
        row = Row(
            full_name=str(data["full_name"])[:200],
            email=str(data["email"])[:254],
            created_at=datetime.now(UTC),
        )
        db.session.add(row)
        db.session.flush()  # INSERT … RETURNING id
        row_id = row.id
        db.session.commit()
        return {"id": row_id}, 201

    @app.get("/healthz")
    def healthz():
        return {"status": "ok"}

    return app


app = create_app()


if __name__ == "__main__":
    import sys

    if "--create-schema" in sys.argv[1:]:
        with app.app_context():
            db.create_all()
            db.engine.dispose()
        print("ceiling schema created")
    else:
        sys.exit("usage: DATABASE_URL=… python bench/ceiling_app.py --create-schema")
