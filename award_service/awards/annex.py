"""The decree annex: the nominations approved under one decree (number and
date), as the list to sign, in Kazakh alphabetical order, with the name and
serial of each one's valid certificate; read from the register for the PDF
kit.  Within the user's scope: a district's staff get their district's part."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from .. import pdf
from ..accounts.models import User
from ..accounts.permissions import scoped_district_id
from ..dates import parse_date
from ..errors import NotFound, ValidationFailed
from ..extensions import DbSession
from ..medals.models import Medal
from ..nominations.models import Nomination
from ..text import text_field
from .collation import sort_key
from .models import Award

DECREE_NUMBER_LENGTH = 50  # the nomination's column


def decree_of(args: Mapping[str, Any]) -> tuple[str, date]:
    """``?number=&date=`` checked: the decree's number and date."""
    errors: dict[str, Any] = {}
    number = text_field(args, "number", errors, max_length=DECREE_NUMBER_LENGTH, required=True)
    day = parse_date(args.get("date"), "date", errors) if args.get("date") else None
    if day is None and "date" not in errors:
        errors["date"] = _l("Give the decree's date.")
    if errors or day is None:
        raise ValidationFailed(errors)
    return number, day


def annex_rows(session: DbSession, user: User | None, number: str, day: date) -> list[tuple[Nomination, Award | None]]:
    """The approved (or already awarded) nominations of the decree the user may
    see, each with its valid certificate, in presentation order."""
    stmt = select(Nomination).where(
        Nomination.decree_number == number,
        Nomination.decree_date == day,
        Nomination.status.in_(("approved", "awarded")),
    )
    scope = scoped_district_id(user)
    if scope is not None:
        stmt = stmt.where(Nomination.district_id == scope)
    nominations = list(session.scalars(stmt))
    if not nominations:
        raise NotFound(
            _l(
                "No approved nomination you can see is under decree № %(number)s of %(date)s.",
                number=number,
                date=day.strftime("%d.%m.%Y"),
            )
        )
    valid = {
        a.nomination_id: a
        for a in session.scalars(
            select(Award).where(Award.nomination_id.in_([n.id for n in nominations]), Award.status == "valid")
        )
    }

    def order(n: Nomination) -> tuple[str, int]:
        award = valid.get(n.id)
        if award is not None:
            return award.sort_key, n.id
        return sort_key(n.nominee.surname, n.nominee.given_name, n.nominee.patronymic), n.id

    return [(n, valid.get(n.id)) for n in sorted(nominations, key=order)]


def annex_pdf(session: DbSession, user: User | None, number: str, day: date) -> bytes:
    rows = annex_rows(session, user, number, day)
    medals = list(
        session.scalars(select(Medal).where(Medal.id.in_({n.medal_id for n, _ in rows})).order_by(Medal.code))
    )
    stamp = day.strftime("%d.%m.%Y")
    lines = [f"{stamp} № {number} өкім / распоряжение № {number} от {stamp}"]
    lines += [f"{m.name_kk} / {m.name_ru}" for m in medals]
    lines.append(f"Барлығы / Всего: {len(rows)}")
    # One medal: its signer signs the list; several: the lines are left to fill in by hand.
    signer = (
        pdf.AnnexSigner(medals[0].signer_title_kk, medals[0].signer_title_ru, medals[0].signer_name)
        if len(medals) == 1
        else pdf.AnnexSigner("", "", "")
    )
    return pdf.decree_annex_pdf(
        pdf.SheetHeader(title_lines=tuple(lines)),
        (
            pdf.AnnexRow(
                number=i,
                full_name=award.full_name if award is not None else n.nominee.full_name,
                birth_year=str(n.nominee.birth_date.year),
                district=n.district.name_kk,
                serial=award.serial if award is not None else "",
            )
            for i, (n, award) in enumerate(rows, start=1)
        ),
        signer,
    )
