"""Factories for the nomination tests: a medal with quotas, people in every role,
valid IINs, and nominations moved to any state through the real service.

Import the fixtures into a test module (``from .nomination_factories import *``)
so that pytest sees them there.
"""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from typing import ClassVar

import pytest
from sqlalchemy import func, select, update

from award_service.actor import Actor
from award_service.audit.models import AuditEvent
from award_service.extensions import db
from award_service.medals.service import create_medal
from award_service.nominations import iin as iin_module
from award_service.nominations import service, transitions
from award_service.nominations.models import Nomination

__all__ = [
    "DECREE",
    "MEDAL_CODE",
    "actor",
    "advance",
    "audit_actions",
    "cast",
    "make_iin",
    "medal",
    "nominate",
    "nomination_count",
    "nominee_data",
    "reload",
    "staff_user",
]

MEDAL_CODE = "victory80"
DECREE = {"decree_number": "45", "decree_date": "2025-04-28"}

_SURNAMES = (
    "Әбенов",
    "Сәтбаев",
    "Жұмабаев",
    "Қасымов",
    "Нұрпейісов",
    "Бектұров",
    "Оспанов",
    "Төлегенов",
    "Смагулов",
    "Ермеков",
    "Мусин",
    "Байжанов",
    "Үсенов",
    "Ғабитов",
    "Иванов",
    "Кенжебаев",
)
_GIVEN = (
    "Қайрат",
    "Мәди",
    "Сәкен",
    "Ерлан",
    "Бауыржан",
    "Аманкелді",
    "Шәкен",
    "Ғани",
    "Нұржан",
    "Тілеу",
    "Өмірзақ",
    "Үмбетәлі",
    "Иван",
    "Болат",
    "Жақып",
    "Дәулет",
)
_counter = itertools.count(1)
_serials = itertools.count(1)


def actor(user) -> Actor:
    return Actor(user=user)


def make_iin(birth: date, female: bool = False) -> str:
    """A valid IIN for this birth date (a fresh serial every call)."""
    while True:
        value = iin_module.make(birth, next(_serials) % 10_000, female)
        if value is not None:
            return value


def nominee_data(*, with_iin: bool = True, **overrides) -> dict:
    """A distinct person each call (distinct name and birth date: no duplicate flags)."""
    n = next(_counter)
    # 1929–1948, none repeated in 7300 calls; never January 1928, which the search tests keep for their own people
    birth = date(1929, 1, 1) + timedelta(days=37 * n % 7300)
    data = {
        "surname": _SURNAMES[n % len(_SURNAMES)],
        "given_name": _GIVEN[(n // len(_SURNAMES)) % len(_GIVEN)],
        "patronymic": "",
        "birth_date": birth.isoformat(),
        "iin": make_iin(birth) if with_iin else None,
        "category": "home_front_worker",
        "district": "zhezkazgan",
        "address": "Жезқазған, Абай к-сі, 1",
        "phone": "+7 701 234 56 78",
    }
    data.update(overrides)
    if "birth_date" in overrides and "iin" not in overrides and with_iin and isinstance(overrides["birth_date"], str):
        try:
            data["iin"] = make_iin(date.fromisoformat(overrides["birth_date"]))
        except ValueError:
            data["iin"] = None
    return data


_password_hash: list[str] = []


@pytest.fixture
def staff_user(app):
    """A staff member with these roles, like conftest's make_user but with one
    password hash made once per run (argon2 takes a good part of a second, and
    these tests authenticate with API tokens, never with the password)."""
    from award_service.accounts.models import User
    from award_service.accounts.service import hash_password
    from award_service.districts.models import District

    if not _password_hash:
        _password_hash.append(hash_password("correct-horse-battery"))

    def make(*roles, district=None):
        n = next(_counter)
        user = User(
            email=f"staff{n}-{'-'.join(roles)}@example.kz",
            name=f"Staff {n}",
            password_hash=_password_hash[0],
            active=True,
            district=db.session.scalar(select(District).where(District.code == district)) if district else None,
        )
        user.set_roles(roles)
        db.session.add(user)
        db.session.commit()
        return user

    return make


@pytest.fixture
def medal(app, system):
    """The jubilee medal, quota 397 for Zhezkazgan, 50 for Karazhal."""
    return create_medal(
        db.session,
        system,
        {
            "code": MEDAL_CODE,
            "name_kk": "1941–1945 жж. Ұлы Отан соғысындағы Жеңістің 80 жылы",
            "name_ru": "80 лет Победы в Великой Отечественной войне 1941–1945 гг.",
            "name_en": "80 Years of Victory in the Great Patriotic War 1941–1945",
            "serial_prefix": "ULY",
            "quotas": {"zhezkazgan": 397, "karazhal": 50},
        },
    )


class Cast:
    """One person per duty, made on first use (password hashing is slow): the
    nominator who enters, another nominator of the district, reviewers of the
    district, the regional commission, a clerk, an admin, an organiser, and
    Karazhal staff (another district)."""

    ROLES: ClassVar[dict[str, tuple[str, str | None]]] = {
        "nominator": ("nominator", "zhezkazgan"),
        "nominator2": ("nominator", "zhezkazgan"),
        "reviewer": ("reviewer", "zhezkazgan"),
        "reviewer2": ("reviewer", "zhezkazgan"),
        "commission": ("commission", None),
        "commission2": ("commission", None),
        "clerk": ("clerk", None),
        "admin": ("admin", None),
        "organiser": ("organiser", None),
        "far_nominator": ("nominator", "karazhal"),
        "far_reviewer": ("reviewer", "karazhal"),
        "far_clerk": ("clerk", "karazhal"),
    }

    def __init__(self, make_user):
        self._make_user = make_user
        self._made: dict = {}

    def __getattr__(self, name):
        if name.startswith("_") or name not in self.ROLES:
            raise AttributeError(name)
        if name not in self._made:
            role, district = self.ROLES[name]
            self._made[name] = self._make_user(role, district=district)
        return self._made[name]


@pytest.fixture
def cast(staff_user, medal) -> Cast:
    return Cast(staff_user)


def nominate(
    by, *, medal_code: str = MEDAL_CODE, grounds: str = "Тыл еңбеккері, 1941–1945 жж.", **nominee
) -> Nomination:
    return service.create_nomination(
        db.session, actor(by), {"nominee": nominee_data(**nominee), "medal": medal_code, "grounds": grounds}
    )


def advance(nomination: Nomination, target: str, cast: Cast, *, reviewer=None, commission=None) -> Nomination:
    """Move a draft along the ordinary path to ``target`` with the real service."""
    reviewer = reviewer or cast.reviewer
    commission = commission or cast.commission
    nominator = cast.nominator if nomination.district.code == "zhezkazgan" else cast.far_nominator
    paths = {
        "draft": [],
        "submitted": [(nominator, "submit", {})],
        "recommended": [(nominator, "submit", {}), (reviewer, "recommend", {})],
        "approved": [(nominator, "submit", {}), (reviewer, "recommend", {}), (commission, "approve", DECREE)],
        "awarded": [(nominator, "submit", {}), (reviewer, "recommend", {}), (commission, "approve", DECREE)],
        "returned": [(nominator, "submit", {}), (reviewer, "return", {"comment": "Архив анықтамасын қосыңыз."})],
        "rejected": [(nominator, "submit", {}), (reviewer, "reject", {"comment": "Құжаттар расталмады."})],
        "withdrawn": [(nominator, "withdraw", {})],
    }
    for user, action, extra in paths[target]:
        nomination = transitions.transition(
            db.session, actor(user), nomination, action, confirm_duplicate=True, **extra
        )
    if target == "awarded":  # reached when the medal is presented (the certificates' feature)
        db.session.execute(update(Nomination).where(Nomination.id == nomination.id).values(status="awarded"))
        db.session.commit()
        db.session.refresh(nomination)
    assert nomination.status == target
    return nomination


def reload(nomination_id: int) -> Nomination:
    db.session.expire_all()
    return db.session.get(Nomination, nomination_id)


def audit_actions(nomination_id: int) -> list[AuditEvent]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.object_type == "nomination", AuditEvent.object_id == str(nomination_id))
            .order_by(AuditEvent.id)
        )
    )


def nomination_count() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Nomination))
