"""The one place that decides who may do what.

Views, API endpoints and templates all ask :func:`can`.  A permission names the
roles that hold it; a user with a district scope (and without ``admin``) acts
only on objects of that district.
"""

from __future__ import annotations

from typing import Any

PERMISSIONS: dict[str, frozenset[str]] = {
    "users.manage": frozenset({"admin"}),
    "districts.manage": frozenset({"admin"}),
    "ceremonies.view_all": frozenset({"admin", "organiser", "clerk"}),
    "ceremonies.manage": frozenset({"admin", "organiser"}),
    "registrations.manage": frozenset({"admin", "organiser"}),
    "audit.view": frozenset({"admin", "organiser"}),
    "mail.view": frozenset({"admin", "organiser"}),
    "medals.manage": frozenset({"admin"}),
    "medals.view": frozenset({"admin", "nominator", "reviewer", "commission", "clerk"}),
    "nominations.view": frozenset({"admin", "nominator", "reviewer", "commission", "clerk"}),
    "nominations.create": frozenset({"nominator"}),
    "nominations.export": frozenset({"admin", "nominator", "reviewer", "commission", "clerk"}),
    "checkin.manage": frozenset({"admin", "organiser", "clerk"}),
    "awards.view": frozenset({"admin", "commission", "clerk"}),
    "awards.print": frozenset({"admin", "clerk"}),
    "awards.present": frozenset({"admin", "clerk"}),
    "awards.revoke": frozenset({"admin"}),
}


def district_of(obj: Any) -> int | None:
    """The district an object belongs to, for scope checks."""
    if obj is None:
        return None
    if getattr(obj, "__tablename__", None) == "districts":
        district_id: int | None = obj.id
        return district_id
    if hasattr(obj, "district_id"):
        own_district_id: int | None = obj.district_id
        return own_district_id
    ceremony = getattr(obj, "ceremony", None)
    if ceremony is not None:
        ceremony_district_id: int | None = ceremony.district_id
        return ceremony_district_id
    return None


def can(user: Any, permission: str, obj: Any = None) -> bool:
    if permission not in PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")
    if user is None or not getattr(user, "is_authenticated", False) or not user.active:
        return False
    roles = user.roles
    if not roles & PERMISSIONS[permission]:
        return False
    if "admin" in roles or user.district_id is None:
        return True
    district_id = district_of(obj)
    return district_id is None or district_id == user.district_id


def scoped_district_id(user: Any) -> int | None:
    """The district a non-admin staff member is limited to (None: all)."""
    if user is None or "admin" in user.roles:
        return None
    district_id: int | None = user.district_id
    return district_id
