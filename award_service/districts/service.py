from __future__ import annotations

import re
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..actor import Actor
from ..audit import record
from ..errors import ValidationFailed
from ..extensions import DbSession
from ..text import text_field
from .models import District

CODE_RE = re.compile(r"^[a-z][a-z0-9_-]{1,31}$")


def all_districts(session: DbSession) -> list[District]:
    return list(session.scalars(select(District).order_by(District.name_kk)))


def create_district(session: DbSession, actor: Actor, data: dict[str, Any]) -> District:
    errors: dict[str, Any] = {}
    code = data.get("code")
    if not isinstance(code, str) or not CODE_RE.match(code.strip()):
        errors["code"] = _l("Use 2–32 lower-case Latin letters, digits, - or _, starting with a letter.")
    else:
        code = code.strip()
        if session.scalar(select(District.id).where(District.code == code)):
            errors["code"] = _l("This code is already used.")
    names = {
        key: text_field(data, key, errors, max_length=200, required=True) for key in ("name_kk", "name_ru", "name_en")
    }
    if errors:
        raise ValidationFailed(errors)
    district = District(code=code, **names)
    session.add(district)
    session.flush()
    record(session, actor, "district.create", "district", district.id, after=district.to_dict())
    session.commit()
    return district
