"""Staff accounts: creation, passwords, roles, API tokens."""

from __future__ import annotations

import contextlib
import hashlib
import secrets
from collections.abc import Iterable
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ..actor import Actor
from ..audit import diff, record
from ..districts.models import District
from ..errors import Conflict, ValidationFailed
from ..extensions import DbSession
from ..text import TextError, clean_text
from ..timeutil import utcnow
from .models import ROLES, ApiToken, User

MIN_PASSWORD_LENGTH = 10
# What the audit keeps of a password set: never the password, only whether a person
# chose it or the CLI generated and printed it (to be changed; the production check reads this).
CHANGED_PASSWORD = "(changed)"
ONE_TIME_PASSWORD = "(one-time)"


class _Hashing:
    """A password hasher and a hash of a dummy password made with it: verifying
    against that keeps the time of a login for an unknown e-mail equal to that
    of a wrong password."""

    def __init__(self, hasher: PasswordHasher) -> None:
        self.hasher = hasher
        self.dummy_hash = hasher.hash("not a real password")


_DEFAULT = _Hashing(PasswordHasher())  # argon2-cffi's default cost (RFC 9106 low-memory profile)


def _hashing() -> _Hashing:
    """The app's hasher: argon2-cffi's default cost unless ``AWARD_ARGON2_PARAMS``
    (PasswordHasher's keyword arguments) says otherwise; the tests set a cheap one."""
    if not has_app_context():
        return _DEFAULT
    hashing: _Hashing | None = current_app.extensions.get("award_password_hashing")
    if hashing is None:
        params = current_app.config.get("AWARD_ARGON2_PARAMS") or {}
        hashing = current_app.extensions["award_password_hashing"] = (
            _Hashing(PasswordHasher(**params)) if params else _DEFAULT
        )
    return hashing


def hash_password(password: str) -> str:
    return _hashing().hasher.hash(password)


def check_password(user: User, password: str) -> bool:
    try:
        return _hashing().hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def normalise_email(value: object) -> str:
    try:
        return validate_email(str(value or "").strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        raise ValidationFailed({"email": _l("Enter a valid e-mail address.")}) from None


def _clean_user_fields(
    session: DbSession, data: dict[str, Any], *, creating: bool, user_id: int | None = None
) -> dict[str, Any]:
    errors: dict[str, Any] = {}
    clean: dict[str, Any] = {}
    if creating or "email" in data:
        try:
            clean["email"] = normalise_email(data.get("email"))
        except ValidationFailed as exc:
            errors.update(exc.fields)
        else:
            if session.scalar(
                select(User.id).where(func.lower(User.email) == clean["email"], User.id != (user_id or 0))
            ):
                errors["email"] = _l("A user with this e-mail already exists.")
    if creating or "name" in data:
        try:
            clean["name"] = clean_text(data.get("name"), max_length=200)
            if not clean["name"]:
                errors["name"] = _l("Enter a name.")
        except TextError as exc:
            errors["name"] = exc.args[0]
    if creating or "roles" in data:
        roles = set(data.get("roles") or [])
        unknown = roles - set(ROLES)
        if unknown:
            errors["roles"] = _l("Unknown role: %(role)s.", role=", ".join(sorted(unknown)))
        elif not roles:
            errors["roles"] = _l("Choose at least one role.")
        clean["roles"] = roles
    if "district" in data:
        code = data.get("district") or None
        clean["district"] = None
        if code:
            district = session.scalar(select(District).where(District.code == code))
            if district is None:
                errors["district"] = _l("Unknown district: %(code)s.", code=code)
            clean["district"] = district
    if creating or data.get("password"):
        password = data.get("password") or ""
        if len(password) < MIN_PASSWORD_LENGTH:
            errors["password"] = _l("The password must be at least %(n)d characters.", n=MIN_PASSWORD_LENGTH)
        clean["password"] = password
    if "active" in data:
        clean["active"] = bool(data["active"])
    if errors:
        raise ValidationFailed(errors)
    return clean


def _user_snapshot(user: User) -> dict[str, Any]:
    return {
        "email": user.email,
        "name": user.name,
        "roles": sorted(user.roles),
        "district": user.district.code if user.district else None,
        "active": user.active,
    }


def create_user(
    session: DbSession,
    actor: Actor,
    *,
    email: str,
    name: str,
    roles: Iterable[str],
    district: str | None = None,
    password: str,
    one_time_password: bool = False,
) -> User:
    """``one_time_password``: the password was generated and printed (the CLI), to be
    changed by its holder; the audit says so, and the production check reads it."""
    clean = _clean_user_fields(
        session,
        {"email": email, "name": name, "roles": roles, "district": district, "password": password},
        creating=True,
    )
    user = User(
        email=clean["email"],
        name=clean["name"],
        password_hash=hash_password(clean["password"]),
        district=clean["district"],
        active=True,
    )
    user.set_roles(clean["roles"])
    session.add(user)
    session.flush()
    after = _user_snapshot(user)
    if one_time_password:
        after["password"] = ONE_TIME_PASSWORD
    record(session, actor, "user.create", "user", user.id, after=after)
    session.commit()
    return user


def update_user(
    session: DbSession, actor: Actor, user: User, data: dict[str, Any], *, one_time_password: bool = False
) -> User:
    """``one_time_password``: a new password in ``data`` was generated and printed
    (the CLI); the audit says ``(one-time)`` instead of ``(changed)``."""
    clean = _clean_user_fields(session, data, creating=False, user_id=user.id)
    if (
        actor.user is not None
        and actor.user.id == user.id
        and (
            clean.get("active") is False
            or ("roles" in clean and "admin" not in clean["roles"] and "admin" in user.roles)
        )
    ):
        raise Conflict(_l("You cannot deactivate yourself or remove your own admin role."))
    before = _user_snapshot(user)
    for key in ("email", "name", "active"):
        if key in clean:
            setattr(user, key, clean[key])
    if "district" in clean:
        user.district = clean["district"]
    if "roles" in clean:
        user.set_roles(clean["roles"])
    password_changed = bool(clean.get("password"))
    if password_changed:
        user.password_hash = hash_password(clean["password"])
    b, a = diff(before, _user_snapshot(user))
    if password_changed:
        b["password"], a["password"] = "***", ONE_TIME_PASSWORD if one_time_password else CHANGED_PASSWORD
    if a:
        record(session, actor, "user.update", "user", user.id, before=b, after=a)
    session.commit()
    return user


def authenticate(session: DbSession, email: str, password: str) -> User | None:
    email = (email or "").strip().lower()
    user = session.scalar(select(User).where(func.lower(User.email) == email)) if email else None
    if user is None:
        hashing = _hashing()
        with contextlib.suppress(VerificationError):
            hashing.hasher.verify(hashing.dummy_hash, password or "x")
        return None
    if not check_password(user, password or "") or not user.active:
        return None
    return user


def record_login(session: DbSession, user: User, actor: Actor) -> None:
    user.last_login_at = utcnow()
    record(session, actor, "user.login", "user", user.id)
    session.commit()


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_api_token(session: DbSession, actor: Actor, user: User) -> str:
    """A new bearer token for ``user``; returned once, stored as its hash."""
    token = "aws_" + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, token_hash=_token_hash(token))
    session.add(row)
    session.flush()
    record(session, actor, "api_token.create", "user", user.id, after={"token_id": row.id})
    session.commit()
    return token


def user_for_token(session: DbSession, token: str) -> User | None:
    if not token:
        return None
    row = session.scalar(
        select(ApiToken).where(ApiToken.token_hash == _token_hash(token), ApiToken.revoked_at.is_(None))
    )
    if row is None or not row.user.active:
        return None
    return row.user
