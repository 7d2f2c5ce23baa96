from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, LargeBinary, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..districts.models import District
from ..extensions import db
from ..timeutil import UTCDateTime, utcnow


class Medal(db.Model):  # type: ignore[name-defined]  # Flask-SQLAlchemy builds db.Model at run time
    __tablename__ = "medals"
    __table_args__ = (
        CheckConstraint("award_year_to IS NULL OR award_year_to >= award_year_from", name="years_ordered"),
        CheckConstraint("serial_counter >= 0", name="serial_counter_not_negative"),
        CheckConstraint(
            "signature_type IS NULL OR signature_type IN ('image/png', 'image/jpeg')", name="signature_type_allowed"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_kk: Mapped[str] = mapped_column(String(300))
    name_ru: Mapped[str] = mapped_column(String(300))
    name_en: Mapped[str] = mapped_column(String(300))
    serial_prefix: Mapped[str] = mapped_column(String(12))
    award_year_from: Mapped[int] = mapped_column(Integer)
    award_year_to: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The last certificate number given: bumped with UPDATE ... RETURNING inside
    # the approval's transaction, so numbers have no gaps and never repeat.
    serial_counter: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    # Who signs this medal's certificates, in both languages of the certificate.
    signer_title_kk: Mapped[str] = mapped_column(String(300), default="", server_default="")
    signer_title_ru: Mapped[str] = mapped_column(String(300), default="", server_default="")
    signer_name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    signature_image: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    signature_type: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    # Loaded where asked for (medal lists, the quota page): every award and
    # nomination row joins its medal, and would otherwise load its quotas too.
    quotas: Mapped[list[MedalQuota]] = relationship(back_populates="medal", cascade="all, delete-orphan")

    def name(self, locale: str) -> str:
        return {"kk": self.name_kk, "ru": self.name_ru}.get(locale, self.name_en)

    def serial(self, number: int) -> str:
        return f"{self.serial_prefix}-{number:05d}"

    def quota_for(self, district_id: int) -> MedalQuota | None:
        return next((q for q in self.quotas if q.district_id == district_id), None)


class MedalQuota(db.Model):  # type: ignore[name-defined]  # Flask-SQLAlchemy builds db.Model at run time
    """How many medals a district may have approved, and how many it has."""

    __tablename__ = "medal_quotas"
    __table_args__ = (
        CheckConstraint("quota >= 0", name="quota_not_negative"),
        CheckConstraint("used >= 0 AND used <= quota", name="used_within_quota"),
    )

    medal_id: Mapped[int] = mapped_column(ForeignKey("medals.id", ondelete="CASCADE"), primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id"), primary_key=True)
    quota: Mapped[int] = mapped_column(Integer, default=0)
    used: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))

    medal: Mapped[Medal] = relationship(back_populates="quotas")
    district: Mapped[District] = relationship(lazy="joined")

    @property
    def left(self) -> int:
        return max(self.quota - self.used, 0)
