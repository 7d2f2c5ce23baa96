"""Finding the same person nominated twice for one medal: the same IIN among
active nominations, or a look-alike name with the same birth date."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import Conflict
from .models import Nomination, Nominee
from .workflow import INACTIVE_STATUSES


def active_with_iin(session: Session, medal_id: int, iin: str | None, exclude_id: int | None = None) -> int | None:
    if not iin:
        return None
    stmt = select(Nomination.id).where(
        Nomination.medal_id == medal_id, Nomination.iin == iin, Nomination.status.not_in(INACTIVE_STATUSES)
    )
    if exclude_id:
        stmt = stmt.where(Nomination.id != exclude_id)
    return session.scalar(stmt.limit(1))


def likely_duplicates(
    session: Session,
    medal_id: int,
    birth_date: date,
    skeleton: str,
    exclude_id: int | None = None,
) -> list[int]:
    """Active nominations for the same medal of someone born the same day whose
    name folds to the same skeleton (Жанболат / Джанбулатов, Cyrillic / Latin)."""
    stmt = (
        select(Nomination.id)
        .join(Nominee, Nominee.id == Nomination.nominee_id)
        .where(
            Nomination.medal_id == medal_id,
            Nomination.status.not_in(INACTIVE_STATUSES),
            Nominee.birth_date == birth_date,
            Nominee.name_skeleton == skeleton,
        )
        .order_by(Nomination.id)
        .limit(10)
    )
    if exclude_id:
        stmt = stmt.where(Nomination.id != exclude_id)
    return list(session.scalars(stmt))


def duplicate_nominee_error(existing_id: int) -> Conflict:
    return Conflict(
        _l("This person (same IIN) already has an active nomination for this medal: № %(id)d.", id=existing_id),
        code="duplicate_nominee",
        existing_id=existing_id,
    )
