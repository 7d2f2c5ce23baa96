"""Demo data for the Ulytau region, sized from its real figures."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import select

from ..accounts.models import User
from ..accounts.service import create_user
from ..actor import Actor
from ..ceremonies import registrations as registering
from ..ceremonies import service
from ..errors import Conflict
from ..timeutil import to_local, utcnow, zone
from .nominations import load_nominations

DEMO_PASSWORD = "demo-password-2025"

SURNAMES = [
    "Жанболатов",
    "Әбенова",
    "Қасымов",
    "Нұрланова",
    "Сәтбаев",
    "Өмірзақов",
    "Ұлықбекова",
    "Иванов",
    "Петрова",
    "Ғабитов",
    "Құдайбергенова",
    "Тоқтаров",
    "Шәріпова",
    "Есенов",
    "Смирнова",
    "Бекмұхамбетов",
]
GIVEN = [
    "Айгүл",
    "Болат",
    "Ерлан",
    "Гүлнар",
    "Нұржан",
    "Сәуле",
    "Ирина",
    "Сергей",
    "Әсел",
    "Қайрат",
    "Дәурен",
    "Жәния",
    "Мұрат",
    "Ольга",
]


def _next_may_9(now: datetime, tz: str) -> datetime:
    local = to_local(now, tz)
    year = local.year if (local.month, local.day) < (5, 1) else local.year + 1
    return datetime(year, 5, 9, 19, 0, tzinfo=zone(tz))


def load(session, tz: str) -> dict:
    actor = Actor.system("demo")
    now = utcnow()
    victory_day = _next_may_9(now, tz)
    users = [
        ("organiser@example.com", "Айгерім Сейітқызы", ["organiser"], None),
        ("zhezkazgan.organiser@example.com", "Болат Жақыпов", ["organiser"], "zhezkazgan"),
        ("clerk@example.com", "Гүлмира Оспанова", ["clerk"], None),
    ]
    created_users = 0
    for email, name, roles, district in users:
        if session.scalar(select(User.id).where(User.email == email)) is None:
            create_user(session, actor, email=email, name=name, roles=roles, district=district, password=DEMO_PASSWORD)
            created_users += 1
    ceremonies = [
        {
            "title_kk": "Ұлы Жеңіс — ұрпаққа мұра",
            "title_ru": "Великая Победа — наследие поколениям",
            "description_kk": "Жеңістің 80 жылдығына арналған салтанатты жиын. Ардагерлер мен тыл еңбеккерлеріне "
            "мерейтойлық медальдар табыс етіледі.",
            "description_ru": "Торжественное собрание к 80-летию Победы. Вручение юбилейных медалей ветеранам и "
            "труженикам тыла.",
            "starts_at": victory_day,
            "venue": "Алаш алаңы",
            "address": "Жезқазған қ., Алаш алаңы",
            "district": "zhezkazgan",
            "capacity": 400,
            "waitlist": True,
            "status": "published",
        },
        {
            "title_kk": "Тыл еңбеккерлерін құрметтеу кеші",
            "title_ru": "Вечер чествования тружеников тыла",
            "description_kk": "Сәтбаев қаласының тыл еңбеккерлеріне арналған кеш.",
            "description_ru": "Вечер в честь тружеников тыла города Сатпаев.",
            "starts_at": victory_day - timedelta(days=2),
            "venue": "Мәдениет үйі",
            "address": "Сәтбаев қ., Қ. Сәтбаев даңғылы, 110",
            "district": "satbayev",
            "capacity": 150,
            "waitlist": False,
            "status": "published",
        },
        {
            "title_kk": "Ұлытау ауданының ардагерлерімен кездесу",
            "title_ru": "Встреча с ветеранами Улытауского района",
            "starts_at": victory_day - timedelta(days=5),
            "venue": "Аудандық мәдениет үйі",
            "address": "Ұлытау ауылы",
            "district": "ulytau",
            "capacity": 20,
            "waitlist": True,
            "status": "published",
        },
        {
            "title_kk": "Жаңаарқа: Жеңіс күніне дайындық",
            "title_ru": "Жанаарка: подготовка ко Дню Победы",
            "starts_at": victory_day - timedelta(days=1),
            "venue": "Атасу ауылы, мектеп залы",
            "district": "zhanaarka",
            "capacity": 80,
            "status": "draft",
        },
    ]
    made = []
    for data in ceremonies:
        made.append(service.create_ceremony(session, actor, data, tz=tz, now=now))
    rng = random.Random(1945)
    registrations = 0
    categories = ["veteran", "home_front_worker", "family", "guest", "resident"]
    for ceremony, count in zip(made[:3], (60, 25, 19)):
        for i in range(count):
            name = f"{rng.choice(SURNAMES)} {rng.choice(GIVEN)}"
            data = {
                "full_name": name,
                "phone": f"+7701{ceremony.id:02d}{i:05d}",
                "category": rng.choice(categories),
                "companions": rng.choice([0, 0, 1, 2]),
                "needs_wheelchair": rng.random() < 0.1,
                "needs_hearing": rng.random() < 0.08,
                "consent": True,
            }
            try:
                registering.register(session, actor, ceremony.id, data, language=rng.choice(["kk", "ru"]), now=now)
                registrations += 1
            except Conflict:
                session.rollback()
    summary = {"users": created_users, "ceremonies": len(made), "registrations": registrations}
    summary.update(load_nominations(session, password=DEMO_PASSWORD))
    return summary
