"""The demo's staff: a nominator and a reviewer in each district (two
nominators in Zhezkazgan) and the regional commission, with their logins."""

from __future__ import annotations

from sqlalchemy import select

from ..accounts.models import User
from ..accounts.service import create_user
from ..actor import Actor

STAFF = {
    # district: [(e-mail local part, name, role)]
    "zhezkazgan": [
        ("nominator.zhezkazgan", "Айгүл Сейітқызы Мұқанова", "nominator"),
        ("nominator2.zhezkazgan", "Ержан Болатұлы Оспанов", "nominator"),
        ("reviewer.zhezkazgan", "Гүлнар Әбенқызы Ахметова", "reviewer"),
    ],
    "satbayev": [
        ("nominator.satbayev", "Дәурен Қасымұлы Есенов", "nominator"),
        ("reviewer.satbayev", "Ольга Николаевна Петрова", "reviewer"),
    ],
    "karazhal": [
        ("nominator.karazhal", "Сәуле Тұрсынқызы Жақыпова", "nominator"),
        ("reviewer.karazhal", "Мұрат Серікұлы Ғабитов", "reviewer"),
    ],
    "ulytau": [
        ("nominator.ulytau", "Нұржан Ермекұлы Тоқтаров", "nominator"),
        ("reviewer.ulytau", "Әсел Жұмабекқызы Үсенова", "reviewer"),
    ],
    "zhanaarka": [
        ("nominator.zhanaarka", "Қайрат Дүйсенұлы Бейсенов", "nominator"),
        ("reviewer.zhanaarka", "Жәния Оспанқызы Құдайбергенова", "reviewer"),
    ],
    None: [
        ("commission.chair", "Бақыт Төлегенұлы Сұлтанов", "commission"),
        ("commission.member", "Ирина Сергеевна Кузнецова", "commission"),
    ],
}


def staff_accounts(session, actor: Actor, password: str) -> tuple[dict, int]:
    """{(district, role): [user id, ...]} for the demo staff (created when missing), and how many were created."""
    staff: dict = {}
    created = 0
    for district, people in STAFF.items():
        for local, name, role in people:
            email = f"{local}@example.com"
            user = session.scalar(select(User).where(User.email == email))
            if user is None:
                user = create_user(
                    session, actor, email=email, name=name, roles=[role], district=district, password=password
                )
                created += 1
            staff.setdefault((district, role), []).append(user.id)
    return staff, created
