from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import Model
from ..timeutil import UTCDateTime, utcnow


class District(Model):
    __tablename__ = "districts"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_kk: Mapped[str] = mapped_column(String(200))
    name_ru: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    def name(self, locale: str) -> str:
        return {"kk": self.name_kk, "ru": self.name_ru}.get(locale, self.name_en)

    def to_dict(self) -> dict:
        return {"code": self.code, "name_kk": self.name_kk, "name_ru": self.name_ru, "name_en": self.name_en}
