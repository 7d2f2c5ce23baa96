"""A checked file waiting between the preview and its "Save all": kept in the
database (the app runs on several servers), for the user who sent it, for a day."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ForeignKey, LargeBinary, String, delete, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Mapped, mapped_column

from ...extensions import db
from ...text import TextError, clean_text
from ...timeutil import UTCDateTime, utcnow

UPLOAD_LIFETIME = timedelta(hours=24)


class ImportUpload(db.Model):  # type: ignore[name-defined]  # Flask-SQLAlchemy builds db.Model at run time
    """An uploaded file waiting for its "Save all" (at most a day)."""

    __tablename__ = "import_uploads"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


def store_upload(session, user, filename: str, data: bytes) -> str:
    """Keep a checked file until its "Save all"; returns the token that names it."""
    try:
        name = clean_text(filename or "", max_length=200) or "upload"
    except TextError:
        name = "upload"
    session.execute(delete(ImportUpload).where(ImportUpload.created_at < utcnow() - UPLOAD_LIFETIME))
    token = secrets.token_urlsafe(32)
    session.add(ImportUpload(token=token, user_id=user.id, filename=name, data=data))
    session.commit()
    return token


def load_upload(session, user, token) -> ImportUpload | None:
    """The user's own upload named by ``token``, if it has not expired."""
    if not isinstance(token, str) or not 20 <= len(token) <= 64:
        return None
    upload = session.scalar(select(ImportUpload).where(ImportUpload.token == token))
    if upload is None or upload.user_id != user.id or upload.created_at < utcnow() - UPLOAD_LIFETIME:
        return None
    return upload


def discard_upload(session, upload: ImportUpload) -> None:
    session.execute(
        delete(ImportUpload).where(ImportUpload.id == id_of_upload(upload)).execution_options(synchronize_session=False)
    )
    session.commit()


def id_of_upload(upload: ImportUpload) -> int:
    """Its id, without a query (it may be expired, or deleted by another request)."""
    identity: tuple[Any, ...] | None = sa_inspect(upload).identity
    return identity[0] if identity else upload.id
