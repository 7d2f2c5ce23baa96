from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import User
from ..districts.models import District
from ..extensions import Model, sql_in
from ..i18n import in_language
from ..timeutil import UTCDateTime, utcnow
from .states import CeremonyStatus, RegistrationStatus

CEREMONY_STATUSES = CeremonyStatus.values()
REGISTRATION_STATUSES = RegistrationStatus.values()
CATEGORIES = ("veteran", "home_front_worker", "family", "guest", "resident")
MAX_COMPANIONS = 5


class Ceremony(Model):
    __tablename__ = "ceremonies"
    __table_args__ = (
        CheckConstraint(sql_in("status", CEREMONY_STATUSES), name="status_known"),
        CheckConstraint("capacity >= 0", name="capacity_not_negative"),
        CheckConstraint("seats_taken >= 0 AND seats_taken <= capacity", name="seats_within_capacity"),
        Index("ix_ceremonies_status_starts_at", "status", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title_kk: Mapped[str] = mapped_column(String(200))
    title_ru: Mapped[str] = mapped_column(String(200))
    # Optional, "" when not given: shown by the rule of i18n.in_language
    # (the requested language, then Russian, then Kazakh, then ``venue``).
    title_en: Mapped[str] = mapped_column(String(200), default="", server_default="")
    description_kk: Mapped[str] = mapped_column(Text, default="")
    description_ru: Mapped[str] = mapped_column(Text, default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    venue: Mapped[str] = mapped_column(String(200))
    venue_kk: Mapped[str] = mapped_column(String(200), default="", server_default="")
    venue_ru: Mapped[str] = mapped_column(String(200), default="", server_default="")
    venue_en: Mapped[str] = mapped_column(String(200), default="", server_default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id"), index=True)
    capacity: Mapped[int] = mapped_column(Integer)
    seats_taken: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    registration_opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    registration_closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    waitlist: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    district: Mapped[District] = relationship(lazy="joined")
    created_by: Mapped[User | None] = relationship()

    @property
    def seats_left(self) -> int:
        return max(self.capacity - self.seats_taken, 0)

    def title(self, locale: str) -> str:
        """The title in ``locale``, else in Russian, else in Kazakh."""
        return in_language({"kk": self.title_kk, "ru": self.title_ru, "en": self.title_en}, locale)

    def description(self, locale: str) -> str:
        return in_language({"kk": self.description_kk, "ru": self.description_ru}, locale)

    def venue_in(self, locale: str) -> str:
        """The venue in ``locale``, else in Russian, else in Kazakh, else ``venue``."""
        return in_language({"kk": self.venue_kk, "ru": self.venue_ru, "en": self.venue_en}, locale, self.venue)

    def place(self, locale: str) -> str:
        """Venue and address, as one line (calendar files, mail)."""
        return ", ".join(part for part in (self.venue_in(locale), self.address) if part)

    def printed_venue(self) -> str:
        """The venue on bilingual paper (ticket, presentation sheet): Kazakh / Russian when they differ."""
        kk, ru = self.venue_in("kk"), self.venue_in("ru")
        return kk if kk == ru else f"{kk} / {ru}"

    def registration_state(self, now: datetime) -> str:
        """'open', 'not_yet', 'closed', 'cancelled', 'draft', 'past' or 'full'."""
        if self.status == "cancelled":
            return "cancelled"
        if self.status == "draft":
            return "draft"
        if now >= self.starts_at:
            return "past"
        if self.status == "closed":
            return "closed"
        if self.registration_opens_at and now < self.registration_opens_at:
            return "not_yet"
        if self.registration_closes_at and now >= self.registration_closes_at:
            return "closed"
        if self.seats_left <= 0:
            return "full"
        return "open"

    def snapshot(self) -> dict:
        return {
            "title_kk": self.title_kk,
            "title_ru": self.title_ru,
            "title_en": self.title_en,
            "description_kk": self.description_kk,
            "description_ru": self.description_ru,
            "starts_at": self.starts_at,
            "venue": self.venue,
            "venue_kk": self.venue_kk,
            "venue_ru": self.venue_ru,
            "venue_en": self.venue_en,
            "address": self.address,
            "district": self.district.code if self.district else None,
            "capacity": self.capacity,
            "registration_opens_at": self.registration_opens_at,
            "registration_closes_at": self.registration_closes_at,
            "waitlist": self.waitlist,
            "status": self.status,
        }


class Registration(Model):
    __tablename__ = "registrations"
    __table_args__ = (
        CheckConstraint(sql_in("status", REGISTRATION_STATUSES), name="status_known"),
        CheckConstraint(sql_in("category", CATEGORIES), name="category_known"),
        CheckConstraint(f"companions >= 0 AND companions <= {MAX_COMPANIONS}", name="companions_range"),
        CheckConstraint("seats = companions + 1", name="seats_match"),
        CheckConstraint("email IS NOT NULL OR phone IS NOT NULL", name="has_contact"),
        # One active registration per ceremony and contact; the service looks
        # first, these indexes settle races.
        Index(
            "uq_registrations_active_email",
            "ceremony_id",
            "email",
            unique=True,
            postgresql_where=text("status <> 'cancelled' AND email IS NOT NULL"),
            sqlite_where=text("status <> 'cancelled' AND email IS NOT NULL"),
        ),
        Index(
            "uq_registrations_active_phone",
            "ceremony_id",
            "phone",
            unique=True,
            postgresql_where=text("status <> 'cancelled' AND phone IS NOT NULL"),
            sqlite_where=text("status <> 'cancelled' AND phone IS NOT NULL"),
        ),
        Index("ix_registrations_ceremony_status", "ceremony_id", "status"),
        CheckConstraint("(checked_in_at IS NULL) = (companions_arrived IS NULL)", name="checkin_complete"),
        CheckConstraint("checked_in_at IS NULL OR status = 'confirmed'", name="checkin_confirmed"),
        Index("ix_registrations_waitlist", "ceremony_id", "waitlist_order"),
        CheckConstraint(
            "companions_arrived IS NULL OR (companions_arrived >= 0 AND companions_arrived <= companions)",
            name="companions_arrived_range",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ceremony_id: Mapped[int] = mapped_column(ForeignKey("ceremonies.id"))
    token: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    # The name folded to one Latin spelling (names.search_key), for searching.
    name_key: Mapped[str] = mapped_column(String(400), index=True)
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(20))
    companions: Mapped[int] = mapped_column(Integer, default=0)
    seats: Mapped[int] = mapped_column(Integer, default=1)
    category: Mapped[str] = mapped_column(String(32))
    needs_wheelchair: Mapped[bool] = mapped_column(Boolean, default=False)
    needs_hearing: Mapped[bool] = mapped_column(Boolean, default=False)
    needs_near_exit: Mapped[bool] = mapped_column(Boolean, default=False)
    needs_note: Mapped[str] = mapped_column(String(500), default="")
    consent_at: Mapped[datetime] = mapped_column(UTCDateTime())
    language: Mapped[str] = mapped_column(String(2), default="kk")
    status: Mapped[str] = mapped_column(String(16), default="confirmed")
    source: Mapped[str] = mapped_column(String(16), default="online")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The code on the ticket (its QR code holds it): 80 random bits, not the id.
    ticket_code: Mapped[str] = mapped_column(String(16), unique=True)
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    checked_in_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    companions_arrived: Mapped[int | None] = mapped_column(Integer)
    # Place on the ceremony's waiting list (lower first; organisers may reorder).
    waitlist_order: Mapped[int | None] = mapped_column(Integer)

    ceremony: Mapped[Ceremony] = relationship(lazy="joined")
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    checked_in_by: Mapped[User | None] = relationship(foreign_keys=[checked_in_by_id])

    @property
    def arrived(self) -> int:
        """People of this registration who came in: the attendee and the companions who arrived."""
        return 0 if self.checked_in_at is None else 1 + (self.companions_arrived or 0)

    @property
    def needs(self) -> dict:
        return {
            "wheelchair": self.needs_wheelchair,
            "hearing": self.needs_hearing,
            "near_exit": self.needs_near_exit,
            "note": self.needs_note,
        }

    @property
    def active(self) -> bool:
        return self.status != "cancelled"
