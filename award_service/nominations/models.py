from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, LargeBinary, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import User
from ..districts.models import District
from ..extensions import db, sql_in
from ..medals.models import Medal
from ..timeutil import UTCDateTime, utcnow
from .workflow import NominationStatus

NOMINEE_CATEGORIES = (
    "front_veteran",
    "home_front_worker",
    "siege_survivor",
    "partisan",
    "former_prisoner",
    "other_participant",
)
STATUSES = NominationStatus.values()


class Nominee(db.Model):  # type: ignore[name-defined]  # Flask-SQLAlchemy builds db.Model at run time
    __tablename__ = "nominees"
    __table_args__ = (
        CheckConstraint(sql_in("category", NOMINEE_CATEGORIES), name="category_known"),
        CheckConstraint("iin IS NULL OR length(iin) = 12", name="iin_length"),
        Index("ix_nominees_birth_date_skeleton", "birth_date", "name_skeleton"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    surname: Mapped[str] = mapped_column(String(100))
    given_name: Mapped[str] = mapped_column(String(100))
    patronymic: Mapped[str] = mapped_column(String(100), default="")
    iin: Mapped[str | None] = mapped_column(String(12), index=True)
    birth_date: Mapped[date] = mapped_column(Date)
    category: Mapped[str] = mapped_column(String(32))
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id"))
    address: Mapped[str] = mapped_column(String(300), default="")
    phone: Mapped[str | None] = mapped_column(String(20))
    # Derived search keys: the name folded to one Latin spelling, and its
    # consonant skeleton for likely-duplicate detection (see names.py).
    search_key: Mapped[str] = mapped_column(String(400))  # searched on the nomination's copy
    name_skeleton: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    district: Mapped[District] = relationship(lazy="joined")

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.surname, self.given_name, self.patronymic) if part)


class Nomination(db.Model):  # type: ignore[name-defined]  # Flask-SQLAlchemy builds db.Model at run time
    __tablename__ = "nominations"
    __table_args__ = (
        CheckConstraint(sql_in("status", STATUSES), name="status_known"),
        CheckConstraint(
            "status NOT IN ('approved', 'awarded') OR (decree_number IS NOT NULL AND "
            "decree_date IS NOT NULL AND approved_by_id IS NOT NULL)",
            name="approved_has_decree",
        ),
        CheckConstraint("status <> 'recommended' OR recommended_by_id IS NOT NULL", name="recommended_has_reviewer"),
        Index(
            "uq_nominations_active_iin_medal",
            "medal_id",
            "iin",
            unique=True,
            postgresql_where=text("iin IS NOT NULL AND status NOT IN ('rejected', 'withdrawn')"),
            sqlite_where=text("iin IS NOT NULL AND status NOT IN ('rejected', 'withdrawn')"),
        ),
        Index("ix_nominations_status_district", "status", "district_id", "id"),
        Index("ix_nominations_medal_district", "medal_id", "district_id"),
        # Name search is LIKE '%word%' on the nomination's copy of the nominee's
        # search key, so that a list filtered by status and district is one
        # table: PostgreSQL combines this trigram index with the status index
        # (migration 0005); SQLite has none and scans.
        Index(
            "ix_nominations_search_key_trgm",
            "search_key",
            postgresql_using="gin",
            postgresql_ops={"search_key": "gin_trgm_ops"},
        ).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    nominee_id: Mapped[int] = mapped_column(ForeignKey("nominees.id"), index=True)
    medal_id: Mapped[int] = mapped_column(ForeignKey("medals.id"))
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id"))
    iin: Mapped[str | None] = mapped_column(String(12))
    # Copied from the nominee (with iin) whenever the nominee is written.
    search_key: Mapped[str] = mapped_column(String(400), default="", server_default="")
    grounds: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="draft")
    version: Mapped[int] = mapped_column(Integer, default=1)
    possible_duplicate: Mapped[bool] = mapped_column(Boolean, default=False)
    duplicate_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    last_comment: Mapped[str] = mapped_column(Text, default="")
    decree_number: Mapped[str | None] = mapped_column(String(50))
    decree_date: Mapped[date | None] = mapped_column(Date)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    recommended_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recommended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    nominee: Mapped[Nominee] = relationship(lazy="joined")
    medal: Mapped[Medal] = relationship(lazy="joined")
    district: Mapped[District] = relationship(lazy="joined")
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    recommended_by: Mapped[User | None] = relationship(foreign_keys=[recommended_by_id])
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])
    documents: Mapped[list[NominationDocument]] = relationship(
        back_populates="nomination", order_by="NominationDocument.id"
    )


class NominationDocument(db.Model):  # type: ignore[name-defined]  # Flask-SQLAlchemy builds db.Model at run time
    """A supporting document, kept in the database so that any app server can
    serve it (the app stays stateless across several servers)."""

    __tablename__ = "nomination_documents"
    __table_args__ = (
        CheckConstraint("content_type IN ('application/pdf', 'image/jpeg', 'image/png')", name="type_allowed"),
        CheckConstraint("size > 0 AND size <= 10485760", name="size_limit"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    nomination_id: Mapped[int] = mapped_column(ForeignKey("nominations.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(50))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    nomination: Mapped[Nomination] = relationship(back_populates="documents")
