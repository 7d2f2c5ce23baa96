"""Finding awards: by serial (within the user's scope), by verification code,
and the filtered lists in presentation order that the clerk's page, the API
and batch printing share."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, or_, select

from .. import codes
from ..accounts.models import User
from ..accounts.permissions import can, scoped_district_id
from ..ceremonies.models import Ceremony
from ..districts.models import District
from ..errors import Forbidden, NotFound, ValidationFailed
from ..extensions import DbSession
from ..medals.models import Medal
from .collation import sort_key
from .models import Award


def get_award(session: DbSession, serial: object) -> Award:
    award = session.scalar(select(Award).where(Award.serial == serial)) if isinstance(serial, str) else None
    if award is None:
        raise NotFound(_l("No award has the serial number %(serial)s.", serial=str(serial)[:40]))
    return award


def visible_award(session: DbSession, user: User | None, serial: object, permission: str = "awards.view") -> Award:
    award = get_award(session, serial)
    if not can(user, permission, award):
        raise Forbidden()
    return award


def validate_filters(session: DbSession, args: Mapping[str, Any]) -> dict[str, Any]:
    """Filters from a query string: unknown codes are a clear 422, not an
    empty list that looks like "nobody"."""
    errors: dict[str, Any] = {}
    filters: dict[str, Any] = {}
    for key, model in (("medal", Medal), ("district", District)):
        code = (args.get(key) or "").strip()
        if code:
            filters[key] = session.scalar(select(model).where(model.code == code))
            if filters[key] is None:
                errors[key] = _l("Unknown medal.") if key == "medal" else _l("Unknown district.")
    ceremony_id = (args.get("ceremony") or "").strip()
    if ceremony_id:
        ceremony = session.get(Ceremony, int(ceremony_id)) if ceremony_id.isdigit() and len(ceremony_id) < 10 else None
        if ceremony is None:
            errors["ceremony"] = _l("Unknown ceremony.")
        filters["ceremony"] = ceremony
    status = (args.get("status") or "").strip()
    if status:
        if status not in ("valid", "revoked", "presented", "not_presented"):
            errors["status"] = _l("Choose valid, revoked, presented or not presented.")
        filters["status"] = status
    q = (args.get("q") or "").strip()
    if q:
        filters["q"] = q[:100]
    if errors:
        raise ValidationFailed(errors)
    return filters


def list_query(
    user: User | None,
    *,
    medal: Medal | None = None,
    district: District | None = None,
    ceremony: Ceremony | None = None,
    status: str | None = None,
    q: str | None = None,
) -> Select[Award]:
    """Awards ``user`` may see, in presentation order: Kazakh alphabetical
    order by surname, then given name and patronymic, then serial."""
    stmt = select(Award)
    scope = scoped_district_id(user)
    if scope is not None:
        stmt = stmt.where(Award.district_id == scope)
    if medal is not None:
        stmt = stmt.where(Award.medal_id == medal.id)
    if district is not None:
        stmt = stmt.where(Award.district_id == district.id)
    if ceremony is not None:
        stmt = stmt.where(Award.ceremony_id == ceremony.id)
    if status == "valid":
        stmt = stmt.where(Award.status == "valid")
    elif status == "revoked":
        stmt = stmt.where(Award.status == "revoked")
    elif status == "presented":
        stmt = stmt.where(Award.status == "valid", Award.presented_on.is_not(None))
    elif status == "not_presented":
        stmt = stmt.where(Award.status == "valid", Award.presented_on.is_(None))
    if q:
        serial = q.upper()
        words = [w for w in q.replace("-", " ").split() if w]
        key = sort_key(" ".join(words)) if words else ""
        conditions = [Award.serial == serial]
        if key:
            conditions.append(Award.sort_key.like(f"{key}%"))
        stmt = stmt.where(or_(*conditions))
    return stmt.order_by(Award.sort_key, Award.serial)


def printable_query(user: User | None, **filters: Any) -> Select[Award]:
    """What a batch prints: the valid awards of the filter (a revoked
    certificate is never printed), in presentation order."""
    if filters.get("status") not in ("presented", "not_presented"):
        filters["status"] = "valid"
    return list_query(user, **filters)


def find_by_code(session: DbSession, code: object) -> Award | None:
    normalised = codes.normalise(code)
    if normalised is None:
        return None
    return session.scalar(select(Award).where(Award.verify_code == normalised))


def replacement_of(session: DbSession, award: Award) -> Award | None:
    """The certificate reissued in place of ``award``, if any."""
    return session.scalar(select(Award).where(Award.reissue_of_id == award.id))
