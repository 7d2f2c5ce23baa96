"""The award register: one award per approved nomination, numbered per medal."""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from ..accounts.models import User
from ..ceremonies.models import Ceremony
from ..districts.models import District
from ..extensions import Model, sql_in
from ..medals.models import Medal
from ..nominations.models import Nomination
from ..states import Labelled, machine
from ..timeutil import UTCDateTime, utcnow


@machine("award")
class AwardStatus(Labelled):
    VALID = "valid", _l("valid")
    REVOKED = "revoked", _l("revoked")


# A valid certificate may be revoked (and then reissued under a new serial); a revoked one stays revoked.
AWARD_TRANSITIONS: dict[str, frozenset[str]] = {
    AwardStatus.VALID: frozenset({AwardStatus.REVOKED}),
    AwardStatus.REVOKED: frozenset(),
}
AWARD_STATUSES = AwardStatus.values()


class Award(Model):
    __tablename__ = "awards"
    __table_args__ = (
        CheckConstraint(sql_in("status", AWARD_STATUSES), name="status_known"),
        CheckConstraint("(status = 'revoked') = (revoked_at IS NOT NULL)", name="revoked_has_date"),
        CheckConstraint("number > 0", name="number_positive"),
        UniqueConstraint("medal_id", "number", name="uq_awards_medal_number"),
        # One valid certificate per nomination: a reissue revokes the old one first.
        Index(
            "uq_awards_valid_nomination",
            "nomination_id",
            unique=True,
            postgresql_where=text("status = 'valid'"),
            sqlite_where=text("status = 'valid'"),
        ),
        Index("ix_awards_ceremony_order", "ceremony_id", "sort_key"),
        Index("ix_awards_medal_district", "medal_id", "district_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    serial: Mapped[str] = mapped_column(String(32), unique=True)
    medal_id: Mapped[int] = mapped_column(ForeignKey("medals.id"))
    number: Mapped[int] = mapped_column(Integer)
    nomination_id: Mapped[int] = mapped_column(ForeignKey("nominations.id"), index=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id"))
    # The name the certificate prints: the nominee's as approved, or as corrected
    # at a reissue (the nominee's record, and so the nomination's history, stay
    # as they were); ``full_name`` and ``sort_key`` are made from these parts.
    surname: Mapped[str] = mapped_column(String(100), default="", server_default="")
    given_name: Mapped[str] = mapped_column(String(100), default="", server_default="")
    patronymic: Mapped[str] = mapped_column(String(100), default="", server_default="")
    full_name: Mapped[str] = mapped_column(String(400))
    sort_key: Mapped[str] = mapped_column(String(800))
    decree_number: Mapped[str] = mapped_column(String(50))
    decree_date: Mapped[date] = mapped_column(Date)
    verify_code: Mapped[str] = mapped_column(String(32), unique=True)
    status: Mapped[str] = mapped_column(String(10), default="valid")
    ceremony_id: Mapped[int | None] = mapped_column(ForeignKey("ceremonies.id"))
    presented_on: Mapped[date | None] = mapped_column(Date)
    presented_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    revoke_reason: Mapped[str] = mapped_column(Text, default="")
    reissue_of_id: Mapped[int | None] = mapped_column(ForeignKey("awards.id"), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    medal: Mapped[Medal] = relationship(lazy="joined")
    district: Mapped[District] = relationship(lazy="joined")
    ceremony: Mapped[Ceremony | None] = relationship()
    # The backref gives a nomination its certificates (``nomination.awards``,
    # oldest first) without the nominations layer importing this one.
    nomination: Mapped[Nomination] = relationship(backref=backref("awards", order_by="Award.id", lazy="select"))
    reissue_of: Mapped[Award | None] = relationship(remote_side=[id], foreign_keys=[reissue_of_id])
    presented_by: Mapped[User | None] = relationship(foreign_keys=[presented_by_id])
    revoked_by: Mapped[User | None] = relationship(foreign_keys=[revoked_by_id])

    @property
    def name_parts(self) -> dict[str, str]:
        return {"surname": self.surname, "given_name": self.given_name, "patronymic": self.patronymic}
