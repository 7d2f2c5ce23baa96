from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..districts.models import District
from ..extensions import Model
from ..timeutil import UTCDateTime, utcnow
from .permissions import can, scoped_district_id

ROLES = ("admin", "organiser", "nominator", "reviewer", "commission", "clerk")
_ROLE_LIST = ", ".join(f"'{r}'" for r in ROLES)


class User(Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    district_id: Mapped[int | None] = mapped_column(ForeignKey("districts.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    language: Mapped[str] = mapped_column(String(2), default="kk")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    district: Mapped[District | None] = relationship(lazy="joined")
    role_rows: Mapped[list[UserRole]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def roles(self) -> set[str]:
        return {r.role for r in self.role_rows}

    def set_roles(self, roles) -> None:
        wanted = set(roles)
        self.role_rows = [r for r in self.role_rows if r.role in wanted] + [
            UserRole(role=r) for r in sorted(wanted - self.roles)
        ]

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    def can(self, permission: str, obj: object = None) -> bool:
        """Whether this user may do ``permission`` (on ``obj``): the one table in
        :mod:`.permissions` decides; the core's view helpers ask through here."""
        return can(self, permission, obj)

    @property
    def district_scope(self) -> int | None:
        """The district this user's lists are limited to (None: all)."""
        return scoped_district_id(self)

    # Flask-Login protocol
    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)

    def __repr__(self) -> str:
        return f"<User {self.email}>"


class UserRole(Model):
    __tablename__ = "user_roles"
    __table_args__ = (CheckConstraint(f"role IN ({_ROLE_LIST})", name="role_known"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(20), primary_key=True)

    user: Mapped[User] = relationship(back_populates="role_rows")


class ApiToken(Model):
    """A bearer token for the JSON API; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(lazy="joined")
