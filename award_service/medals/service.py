"""Medals and their quotas per district (admin)."""

from __future__ import annotations

import io
import re
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from ..actor import Actor
from ..audit import record
from ..districts.models import District
from ..errors import ValidationFailed
from ..parsing import parse_int
from ..text import text_field
from .models import Medal, MedalQuota

CODE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{1,31}$")
PREFIX_RE = re.compile(r"^[A-Z0-9]{1,8}$")
MAX_QUOTA = 1_000_000


def all_medals(session: Session, *, with_quotas: bool = False) -> list[Medal]:
    """Newest first; ``with_quotas`` loads every district's quota too (one query)."""
    stmt = select(Medal).order_by(Medal.award_year_from.desc(), Medal.code)
    return list(session.scalars(stmt.options(selectinload(Medal.quotas)) if with_quotas else stmt))


def get_medal(session: Session, code: object) -> Medal | None:
    if not isinstance(code, str):
        return None
    return session.scalar(select(Medal).options(selectinload(Medal.quotas)).where(Medal.code == code))


def _parse_quotas(
    session: Session, quotas: object, errors: dict[str, Any], field: str = "quotas"
) -> dict[District, int]:
    if quotas is None:
        return {}
    if not isinstance(quotas, dict):
        errors[field] = _l("Give quotas as {district code: number}.")
        return {}
    districts = {d.code: d for d in session.scalars(select(District))}
    parsed: dict[District, int] = {}
    for code, value in quotas.items():
        district = districts.get(code)
        if district is None:
            errors[f"{field}.{code}"[:80]] = _l("Unknown district.")
            continue
        number = parse_int(value, field=f"{field}.{code}", errors=errors, minimum=0, maximum=MAX_QUOTA)
        if number is not None:
            parsed[district] = number
    return parsed


SIGNER_FIELDS = (("signer_title_kk", 300), ("signer_title_ru", 300), ("signer_name", 200))


def _signer_fields(data: dict[str, Any], errors: dict[str, Any]) -> dict[str, str]:
    """Who signs the certificates: optional texts, cleaned like every other."""
    return {
        key: text_field(data, key, errors, max_length=length, required=False) or "" for key, length in SIGNER_FIELDS
    }


def create_medal(session: Session, actor: Actor, data: dict[str, Any]) -> Medal:
    errors: dict[str, Any] = {}
    code = data.get("code")
    if not isinstance(code, str) or not CODE_RE.match(code):
        errors["code"] = _l("Use 2–32 lower-case Latin letters, digits, - or _.")
    elif get_medal(session, code):
        errors["code"] = _l("This code is already used.")
    names = {
        key: text_field(data, key, errors, max_length=300, required=True) for key in ("name_kk", "name_ru", "name_en")
    }
    prefix = data.get("serial_prefix")
    if not isinstance(prefix, str) or not PREFIX_RE.match(prefix):
        errors["serial_prefix"] = _l("Use 1–8 capital Latin letters or digits, for example ULY.")
    year_from = parse_int(
        data.get("award_year_from"), field="award_year_from", errors=errors, minimum=1945, maximum=2100, default=2025
    )
    year_to = None
    if data.get("award_year_to") not in (None, ""):
        year_to = parse_int(data.get("award_year_to"), field="award_year_to", errors=errors, minimum=1945, maximum=2100)
        if year_to is not None and year_from is not None and year_to < year_from:
            errors["award_year_to"] = _l("The last year comes before the first.")
    quotas = _parse_quotas(session, data.get("quotas"), errors)
    signer = _signer_fields(data, errors)
    if errors:
        raise ValidationFailed(errors)
    medal = Medal(
        code=code,
        serial_prefix=prefix,
        award_year_from=year_from,
        award_year_to=year_to,
        active=True,
        **names,
        **signer,
    )
    medal.quotas = [MedalQuota(district_id=d.id, quota=n, used=0) for d, n in quotas.items()]
    session.add(medal)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise ValidationFailed({"code": _l("This code is already used.")}) from None
    record(
        session,
        actor,
        "medal.create",
        "medal",
        medal.id,
        after={
            "code": code,
            **names,
            "serial_prefix": prefix,
            "award_year_from": year_from,
            "award_year_to": year_to,
            "quotas": {d.code: n for d, n in quotas.items()},
        },
    )
    session.commit()
    return medal


def set_quotas(session: Session, actor: Actor, medal: Medal, quotas: object) -> Medal:
    """Set some districts' quotas; a quota cannot go below what is already used."""
    errors: dict[str, Any] = {}
    parsed = _parse_quotas(session, quotas, errors, field="quotas")
    if not parsed and not errors:
        errors["quotas"] = _l("Give at least one district's quota.")
    before: dict[str, int | None] = {}
    after: dict[str, int] = {}
    for district, number in parsed.items():
        # Lock the quota row only (its district is joined-eager with an outer
        # join, which PostgreSQL cannot lock), and read it afresh.
        row = session.scalar(
            select(MedalQuota)
            .where(MedalQuota.medal_id == medal.id, MedalQuota.district_id == district.id)
            .with_for_update(of=MedalQuota)
            .execution_options(populate_existing=True)
        )
        if row is None:
            row = MedalQuota(medal_id=medal.id, district_id=district.id, quota=number, used=0)
            session.add(row)
            before[district.code], after[district.code] = None, number
        elif number < row.used:
            errors[f"quotas.{district.code}"] = _l(
                "%(used)d are already approved; the quota cannot be lower.", used=row.used
            )
        elif number != row.quota:
            before[district.code], after[district.code] = row.quota, number
            row.quota = number
    if errors:
        session.rollback()
        raise ValidationFailed(errors)
    if after:
        record(session, actor, "medal.quotas", "medal", medal.id, before=before, after=after)
    try:
        session.commit()
    except IntegrityError:  # approvals used the quota meanwhile
        session.rollback()
        raise ValidationFailed({"quotas": _l("More were approved meanwhile; reload and try again.")}) from None
    session.refresh(medal)
    return medal


def quota_table(session: Session, medal: Medal) -> list[dict[str, Any]]:
    """Used and left per district, every district listed."""
    rows = {q.district_id: q for q in medal.quotas}
    table = []
    for district in session.scalars(select(District).order_by(District.name_kk)):
        q = rows.get(district.id)
        table.append(
            {"district": district, "quota": q.quota if q else 0, "used": q.used if q else 0, "left": q.left if q else 0}
        )
    return table


MAX_SIGNATURE = 1024 * 1024
SIGNATURE_TYPES = ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"))


def _decodes(data: bytes) -> bool:
    """The image opens and decodes whole (the certificate draws it on every page)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > 4000 * 4000:
                return False
            image.load()
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return False
    return True


def set_signer(
    session: Session,
    actor: Actor,
    medal: Medal,
    data: dict[str, Any],
    signature: bytes | None = None,
    remove_signature: bool = False,
) -> Medal:
    """Who signs this medal's certificates (title in Kazakh and Russian, name),
    and an optional image of the signature (PNG or JPEG, checked by content)."""
    errors: dict[str, Any] = {}
    values = _signer_fields(data, errors)
    kind = None
    if signature:
        kind = next((k for magic, k in SIGNATURE_TYPES if signature.startswith(magic)), None)
        if kind is None or not _decodes(signature):
            errors["signature"] = _l("The signature must be a PNG or JPEG image.")
        elif len(signature) > MAX_SIGNATURE:
            errors["signature"] = _l("The signature image is over 1 MB.")
    if errors:
        raise ValidationFailed(errors)
    before = {key: getattr(medal, key) for key in values}
    for key, value in values.items():
        setattr(medal, key, value)
    after: dict[str, str | None] = dict(values)
    if signature:
        medal.signature_image, medal.signature_type = signature, kind
        after["signature"] = f"{kind}, {len(signature)} bytes"
    elif remove_signature:
        medal.signature_image, medal.signature_type = None, None
        after["signature"] = None
    record(session, actor, "medal.signer", "medal", medal.id, before=before, after=after)
    session.commit()
    return medal
