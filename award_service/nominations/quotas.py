"""A district's quota of a medal: places taken in the approval's transaction with
one conditional UPDATE, so simultaneous approvals never exceed it."""

from __future__ import annotations

from flask_babel import LazyString, get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..districts.models import District
from ..errors import Conflict
from ..medals.models import MedalQuota
from .models import Nomination


def take_places(session: Session, medal_id: int, district_id: int, count: int) -> bool:
    """Take ``count`` places of the district's quota, all or none, with one
    conditional UPDATE (under PostgreSQL's row lock a racing approval re-reads
    ``used`` before deciding)."""
    taken = session.execute(
        update(MedalQuota)
        .where(
            MedalQuota.medal_id == medal_id,
            MedalQuota.district_id == district_id,
            MedalQuota.used + count <= MedalQuota.quota,
        )
        .values(used=MedalQuota.used + count)
        .returning(MedalQuota.used)
        .execution_options(synchronize_session=False)
    ).first()
    return taken is not None


def _name_in_reader_language(district: District) -> LazyString:
    """The district's name in the language the message is shown in (chosen then)."""
    names = {"kk": district.name_kk, "ru": district.name_ru, "en": district.name_en}

    def pick() -> str:
        locale = get_locale()
        return names.get(locale.language if locale else "kk", names["kk"])

    return LazyString(pick)


def quota_error(session: Session, nomination: Nomination, requested: int = 1) -> Conflict:
    quota = session.scalar(
        select(MedalQuota)
        .where(MedalQuota.medal_id == nomination.medal_id, MedalQuota.district_id == nomination.district_id)
        .execution_options(populate_existing=True)
    )
    total, used = (quota.quota, quota.used) if quota else (0, 0)
    if requested > 1 and total - used > 0:
        return Conflict(
            _l(
                "The quota of %(district)s for this medal is %(quota)d and %(used)d are used: "
                "%(left)d left, fewer than the %(requested)d chosen. Nothing was approved.",
                district=_name_in_reader_language(nomination.district),
                quota=total,
                used=used,
                left=total - used,
                requested=requested,
            ),
            code="quota_exceeded",
            quota=total,
            used=used,
            requested=requested,
        )
    return Conflict(
        _l(
            "The quota of %(district)s for this medal is %(quota)d and %(used)d are used: no more can be approved.",
            district=_name_in_reader_language(nomination.district),
            quota=total,
            used=used,
        ),
        code="quota_exceeded",
        quota=total,
        used=used,
    )
