from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..districts.models import District
from ..extensions import db
from ..timeutil import UTCDateTime, utcnow


class Medal(db.Model):
    __tablename__ = "medals"
    __table_args__ = (
        CheckConstraint("award_year_to IS NULL OR award_year_to >= award_year_from", name="years_ordered"),
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
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    quotas: Mapped[list["MedalQuota"]] = relationship(back_populates="medal", lazy="selectin",
                                                      cascade="all, delete-orphan")

    def name(self, locale: str) -> str:
        return {"kk": self.name_kk, "ru": self.name_ru}.get(locale, self.name_en)

    def quota_for(self, district_id: int) -> "MedalQuota | None":
        return next((q for q in self.quotas if q.district_id == district_id), None)


class MedalQuota(db.Model):
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
