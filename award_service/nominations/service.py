"""Nominations: entering, checking and deciding on jubilee-medal nominations.

Like every service here: plain arguments (the acting user included), domain
errors, the audit event in the same transaction, commit at the end.
"""
from __future__ import annotations

import hashlib
from datetime import date

from flask_babel import LazyString, get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from ..accounts.permissions import can, scoped_district_id
from ..actor import Actor
from ..audit import diff, record
from ..pdf.fonts import unprintable
from . import messages
from ..parsing import parse_phone
from ..dates import local_today
from ..dates import parse_date as _date
from ..districts.models import District
from ..errors import Conflict, Forbidden, NotFound, ValidationFailed
from ..medals.models import Medal, MedalQuota
from ..text import TextError, clean_text, text_field
from ..timeutil import utcnow
from . import iin as iin_module
from . import events, names, workflow
from .workflow import ACTION_LABELS, STATUS_LABELS
from .models import INACTIVE_STATUSES, NOMINEE_CATEGORIES, STATUSES, Nomination, NominationDocument, Nominee

MAX_DOCUMENT_SIZE = 10 * 1024 * 1024
DOCUMENT_SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)
IIN_MESSAGES = {
    "length": _l("The IIN has 12 digits."),
    "digits": _l("The IIN has digits only."),
    "checksum": _l("This IIN is not valid: its check digit does not match. Check for a typing error."),
    "century": _l("This IIN is not valid: its 7th digit must be 1 to 6."),
    "date": _l("This IIN is not valid: its first six digits are not a date."),
}
EARLIEST_BIRTH = date(1880, 1, 1)
SEARCH_KEY_LENGTH = Nominee.search_key.type.length
SKELETON_LENGTH = Nominee.name_skeleton.type.length


_text = text_field


def parse_nominee(session, data: dict, *, today: date, districts: dict[str, District] | None = None) -> dict:
    """The nominee's fields, cleaned and checked; ``districts`` (code ->
    district) saves a query per call when many rows are parsed (imports)."""
    errors: dict = {}
    clean = {
        "surname": _text(data, "surname", errors, max_length=100, required=True),
        "given_name": _text(data, "given_name", errors, max_length=100, required=True),
        "patronymic": _text(data, "patronymic", errors, max_length=100),
        "address": _text(data, "address", errors, max_length=300),
    }
    for key in ("surname", "given_name", "patronymic"):
        if clean[key] and not any(ch.isalpha() for ch in clean[key]):
            errors[key] = _l("A name must contain letters.")
        elif clean[key] and (missing := unprintable(clean[key])):
            errors[key] = _l("The certificate cannot print %(chars)s: write the name in Kazakh, Russian or "
                             "Latin letters.", chars=" ".join(missing))
    birth = _date(data.get("birth_date"), "birth_date", errors) if data.get("birth_date") not in (None, "") else None
    if birth is None and "birth_date" not in errors:
        errors["birth_date"] = _l("This field is required.")
    elif birth is not None and birth > today:
        errors["birth_date"] = _l("The birth date is in the future.")
    elif birth is not None and birth < EARLIEST_BIRTH:
        errors["birth_date"] = _l("The birth date is too early to be right.")
    clean["birth_date"] = birth
    raw_iin = data.get("iin")
    clean["iin"] = None
    if raw_iin not in (None, ""):
        if not isinstance(raw_iin, (str, int)) or isinstance(raw_iin, bool):
            errors["iin"] = IIN_MESSAGES["digits"]
        else:
            try:
                clean["iin"] = iin_module.parse(str(raw_iin))
            except iin_module.IINError as exc:
                errors["iin"] = IIN_MESSAGES[exc.code]
            else:
                if birth is not None and iin_module.birth_date_of(clean["iin"]) != birth:
                    errors["iin"] = _l("The IIN says the person was born on %(date)s, not on the birth date given.",
                                       date=iin_module.birth_date_of(clean["iin"]).isoformat())
    category = data.get("category")
    if not isinstance(category, str) or category not in NOMINEE_CATEGORIES:
        errors["category"] = _l("Choose a category.") if not category else _l("Unknown category.")
    clean["category"] = category
    code = data.get("district")
    if not isinstance(code, str) or not code:
        district = None
    elif districts is not None:
        district = districts.get(code)
    else:
        district = session.scalar(select(District).where(District.code == code))
    if district is None:
        errors["district"] = _l("Choose a district.") if not code else _l("Unknown district.")
    clean["district"] = district
    clean["phone"] = parse_phone(data.get("phone"), errors=errors)
    if errors:
        raise ValidationFailed(errors)
    # Derived keys bounded by their columns: transliteration can double a name's
    # length (Щ -> "sh", Ю -> "iu"), and PostgreSQL refuses a longer value.
    clean["search_key"] = names.search_key(clean["surname"], clean["given_name"], clean["patronymic"],
                                           clean["iin"] or "")[:SEARCH_KEY_LENGTH]
    clean["name_skeleton"] = names.skeleton(clean["surname"], clean["given_name"])[:SKELETON_LENGTH]
    return clean


def _medal(session, code) -> Medal | None:
    if not isinstance(code, str) or not code:
        return None
    return session.scalar(select(Medal).where(Medal.code == code))


# ------------------------------------------------------------- duplicates

def active_with_iin(session, medal_id: int, iin: str | None, exclude_id: int | None = None) -> int | None:
    if not iin:
        return None
    stmt = select(Nomination.id).where(Nomination.medal_id == medal_id, Nomination.iin == iin,
                                       Nomination.status.not_in(INACTIVE_STATUSES))
    if exclude_id:
        stmt = stmt.where(Nomination.id != exclude_id)
    return session.scalar(stmt.limit(1))


def likely_duplicates(session, medal_id: int, birth_date: date, skeleton: str,
                      exclude_id: int | None = None) -> list[int]:
    """Active nominations for the same medal of someone born the same day whose
    name folds to the same skeleton (Жанболат / Джанбулатов, Cyrillic / Latin)."""
    stmt = (select(Nomination.id).join(Nominee, Nominee.id == Nomination.nominee_id)
            .where(Nomination.medal_id == medal_id, Nomination.status.not_in(INACTIVE_STATUSES),
                   Nominee.birth_date == birth_date, Nominee.name_skeleton == skeleton)
            .order_by(Nomination.id).limit(10))
    if exclude_id:
        stmt = stmt.where(Nomination.id != exclude_id)
    return list(session.scalars(stmt))


def duplicate_nominee_error(existing_id: int) -> Conflict:
    return Conflict(_l("This person (same IIN) already has an active nomination for this medal: № %(id)d.",
                       id=existing_id), code="duplicate_nominee", existing_id=existing_id)


# ------------------------------------------------------------- nominations

def _nomination_snapshot(n: Nomination) -> dict:
    nominee = n.nominee
    return {"surname": nominee.surname, "given_name": nominee.given_name, "patronymic": nominee.patronymic,
            "iin": nominee.iin, "birth_date": nominee.birth_date, "category": nominee.category,
            "district": nominee.district.code, "address": nominee.address, "phone": nominee.phone,
            "medal": n.medal.code, "grounds": n.grounds}


def _check_may_enter(actor: Actor, district: District) -> None:
    if actor.user is None:
        return
    if not can(actor.user, "nominations.create", district):
        raise Forbidden(_l("You can enter nominations only for your own district."),
                        fields={"district": _l("Outside your district.")})


def _nominee_fields(session, data: dict, today: date, errors: dict) -> dict | None:
    """parse_nominee inside a nomination: its field errors go to ``errors`` as nominee.<field>."""
    try:
        return parse_nominee(session, data, today=today)
    except ValidationFailed as exc:
        errors.update({f"nominee.{k}": v for k, v in exc.fields.items()})
        return None


def create_nomination(session, actor: Actor, data: dict, *, today: date | None = None) -> Nomination:
    """A new draft nomination.  ``data``: {nominee: {...}, medal, grounds}."""
    today = today or local_today()
    nominee_data = data.get("nominee") if isinstance(data.get("nominee"), dict) else {}
    errors: dict = {}
    clean = _nominee_fields(session, nominee_data, today, errors)
    medal = _medal(session, data.get("medal"))
    if medal is None:
        errors["medal"] = _l("Choose a medal.") if not data.get("medal") else _l("Unknown medal.")
    elif not medal.active:
        errors["medal"] = _l("This medal is no longer awarded.")
    grounds = _text(data, "grounds", errors, max_length=5000, multiline=True, required=True)
    if not isinstance(data.get("nominee"), dict):
        errors["nominee"] = _l("Give the nominee's details.")
    if errors:
        raise ValidationFailed(errors)
    _check_may_enter(actor, clean["district"])
    existing = active_with_iin(session, medal.id, clean["iin"])
    if existing:
        raise duplicate_nominee_error(existing)
    district = clean.pop("district")
    nominee = Nominee(district_id=district.id, **clean)
    session.add(nominee)
    session.flush()
    similar = likely_duplicates(session, medal.id, nominee.birth_date, nominee.name_skeleton)
    nomination = Nomination(nominee_id=nominee.id, medal_id=medal.id, district_id=district.id, iin=nominee.iin,
                            search_key=nominee.search_key, grounds=grounds, status="draft", version=1, possible_duplicate=bool(similar),
                            created_by_id=actor.user.id if actor.user else None)
    session.add(nomination)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        existing = active_with_iin(session, medal.id, clean["iin"])
        if existing:
            raise duplicate_nominee_error(existing)
        raise
    record(session, actor, "nomination.create", "nomination", nomination.id,
           after={**_nomination_snapshot(nomination), "status": "draft", "possible_duplicate_of": similar})
    session.commit()
    return nomination


def update_nomination(session, actor: Actor, nomination: Nomination, data: dict,
                      *, today: date | None = None) -> Nomination:
    """Edit a draft or returned nomination (the nominator's)."""
    today = today or local_today()
    if nomination.status not in ("draft", "returned"):
        raise Conflict(_l("Only a draft or returned nomination can be edited."), code="invalid_transition")
    if actor.user is not None and not (actor.user.has_role("nominator")
                                       and can(actor.user, "nominations.create", nomination)):
        raise Forbidden()
    before = _nomination_snapshot(nomination)
    merged = {**before, **(data.get("nominee") or {})} if isinstance(data.get("nominee"), dict) else before
    errors: dict = {}
    clean = _nominee_fields(session, merged, today, errors)
    grounds = _text({"grounds": data.get("grounds", nomination.grounds)}, "grounds", errors, max_length=5000,
                    multiline=True, required=True)
    if errors:
        raise ValidationFailed(errors)
    _check_may_enter(actor, clean["district"])
    existing = active_with_iin(session, nomination.medal_id, clean["iin"], exclude_id=nomination.id)
    if existing:
        raise duplicate_nominee_error(existing)
    # Take the row only if it is still the draft or returned version this edit
    # was read from: a submission (or another edit) that got in first wins, and
    # this edit is refused rather than silently applied to a submitted nomination.
    version = nomination.version
    claimed = session.execute(
        update(Nomination).where(Nomination.id == nomination.id, Nomination.version == version,
                                 Nomination.status.in_(("draft", "returned")))
        .values(version=version + 1, updated_at=utcnow()).execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        session.rollback()
        raise _changed_meanwhile(nomination.id)
    set_committed_value(nomination, "version", version + 1)
    district = clean.pop("district")
    nominee = nomination.nominee
    try:
        for key, value in clean.items():
            setattr(nominee, key, value)
        nominee.district_id = district.id
        nomination.district_id = district.id
        nomination.iin = nominee.iin
        nomination.search_key = nominee.search_key
        nomination.grounds = grounds
        similar = likely_duplicates(session, nomination.medal_id, nominee.birth_date, nominee.name_skeleton,
                                    exclude_id=nomination.id)
        nomination.possible_duplicate = bool(similar)
        if not similar:
            nomination.duplicate_confirmed = False
        session.flush()
        session.expire(nominee, ["district"])
        b, a = diff(before, _nomination_snapshot(nomination))
        if a:
            record(session, actor, "nomination.update", "nomination", nomination.id, before=b, after=a)
        session.commit()
    except IntegrityError:  # the same IIN entered for this medal at the same moment
        session.rollback()
        existing = active_with_iin(session, nomination.medal_id, clean["iin"], exclude_id=nomination.id)
        if existing:
            raise duplicate_nominee_error(existing) from None
        raise Conflict(code="conflict") from None
    return nomination


def _changed_meanwhile(nomination_id: int) -> Conflict:
    return Conflict(_l("Someone else has just changed nomination № %(id)d. Reload it to see its state.",
                       id=nomination_id), code="conflict")


def get_nomination(session, nomination_id) -> Nomination:
    try:
        nomination_id = int(nomination_id)
    except (TypeError, ValueError):
        raise NotFound(_l("No such nomination."))
    nomination = session.get(Nomination, nomination_id) if 0 < nomination_id < 2**31 else None
    if nomination is None:
        raise NotFound(_l("No such nomination."))
    return nomination


def visible_to(user, nomination: Nomination) -> bool:
    return can(user, "nominations.view", nomination)


# -------------------------------------------------------------- workflow

def _invalid_transition(nomination: Nomination, action: str) -> Conflict:
    return Conflict(_l("A nomination that is %(status)s cannot be changed this way (%(action)s).",
                       status=STATUS_LABELS.get(nomination.status, nomination.status),
                       action=ACTION_LABELS.get(action, action)), code="invalid_transition")


def check_transition(user, nomination: Nomination, action: str) -> workflow.Transition:
    """The table row for this action from the nomination's state, if ``user`` may take it."""
    if action not in workflow.ACTIONS:
        raise ValidationFailed({"action": _l("Unknown action.")})
    step = workflow.find(action, nomination.status)
    if step is None:
        raise _invalid_transition(nomination, action)
    if user is not None:
        if not can(user, "nominations.view", nomination):
            raise Forbidden(_l("This step is for the %(role)s of the district.", role=ROLE_NAMES[step.role]))
        if not user.has_role(step.role):
            if any(user.has_role(t.role) for t in workflow.TRANSITIONS if t.action == action):
                # The user's role takes this action from another state (a reviewer
                # rejects a submitted nomination; this one was recommended meanwhile):
                # the state is what stands in the way, not the user's rights.
                raise _invalid_transition(nomination, action)
            raise Forbidden(_l("This step is for the %(role)s of the district.", role=ROLE_NAMES[step.role]))
        if action in ("recommend", "approve") and nomination.created_by_id == user.id:
            raise Forbidden(_l("You entered this nomination, so someone else must recommend or approve it."))
        if action == "approve" and nomination.recommended_by_id == user.id:
            raise Forbidden(_l("You recommended this nomination, so someone else must approve it."))
    return step


def _decision_fields(step, comment, decree_number, decree_date, medals=()) -> tuple[str, str | None, date | None]:
    """The comment and decree of a decision, checked; ``medals``: those being
    approved, whose years of award the decree's date must fall in."""
    errors: dict = {}
    if isinstance(decree_number, int) and not isinstance(decree_number, bool):
        decree_number = str(decree_number)  # {"decree_number": 45} in JSON means № 45
    comment = _text({"comment": comment}, "comment", errors, max_length=2000, multiline=True,
                    required=step.needs_reason)
    if step.needs_reason and "comment" in errors and not comment:
        errors["comment"] = _l("Say why: the reason is sent to the nominator.")
    number = dd = None
    if step.needs_decree:
        number = _text({"decree_number": decree_number}, "decree_number", errors, max_length=50, required=True)
        if decree_date in (None, ""):
            errors["decree_date"] = _l("Give the decree's date.")
        else:
            dd = _date(decree_date, "decree_date", errors)
            if dd is not None and dd > local_today():
                errors["decree_date"] = _l("The decree's date is in the future.")
            elif dd is not None:
                for medal in medals:
                    last = medal.award_year_to or dd.year
                    if not medal.award_year_from <= dd.year <= last:
                        errors["decree_date"] = _l(
                            "This medal is awarded in %(years)s; a decree of %(year)d cannot award it.",
                            years=f"{medal.award_year_from}–{medal.award_year_to or ''}", year=dd.year)
    if errors:
        raise ValidationFailed(errors)
    return comment, number or None, dd


def _apply(session, actor: Actor, nomination: Nomination, step, comment, number, dd, *,
           confirm_duplicate: bool, expected_version: int | None, take_quota: bool = True,
           tell_nominator: bool = True) -> None:
    """One transition inside the caller's transaction; raises without committing.
    ``take_quota=False``: an approval's place in the quota is the caller's to take
    (after every nomination row, see bulk_transition); ``tell_nominator=False``:
    so is the message to the nominator (one for the whole list)."""
    now = utcnow()
    if step.action == "submit" and nomination.possible_duplicate and not (nomination.duplicate_confirmed
                                                                         or confirm_duplicate):
        similar = likely_duplicates(session, nomination.medal_id, nomination.nominee.birth_date,
                                    nomination.nominee.name_skeleton, exclude_id=nomination.id)
        if similar:
            raise Conflict(_l("This may be the same person as nomination № %(ids)s (same birth date, similar "
                              "name). Check, then confirm that it is a different person to submit.",
                              ids=", ".join(map(str, similar))),
                           code="duplicate_nominee", possible_duplicates=similar)
    values = {"status": step.target, "version": Nomination.version + 1, "updated_at": now,
              "last_comment": comment or ""}
    if step.action == "submit":
        values.update(submitted_at=now, duplicate_confirmed=bool(nomination.duplicate_confirmed or confirm_duplicate))
    elif step.action == "recommend":
        values.update(recommended_by_id=actor.user.id if actor.user else None, recommended_at=now)
    elif step.action == "approve":
        values.update(approved_by_id=actor.user.id if actor.user else None, approved_at=now,
                      decree_number=number, decree_date=dd)
    conditions = [Nomination.id == nomination.id, Nomination.status == step.source]
    if expected_version is not None:
        conditions.append(Nomination.version == expected_version)
    else:
        conditions.append(Nomination.version == nomination.version)
    changed = session.execute(update(Nomination).where(*conditions).values(**values)
                              .execution_options(synchronize_session=False))
    if changed.rowcount != 1:
        raise _changed_meanwhile(nomination.id)
    if step.action == "approve" and take_quota:
        if not _take_places(session, nomination.medal_id, nomination.district_id, 1):
            raise quota_error(session, nomination)
        events.send_approved(session, actor, [nomination], decree_number=number, decree_date=dd)
    record(session, actor, f"nomination.{step.action}", "nomination", nomination.id,
           before={"status": step.source}, after={"status": step.target, **({"decree_number": number,
                                                                               "decree_date": dd} if number else {})},
           reason=comment or None)
    if tell_nominator and step.action in ("return", "approve", "reject"):
        # To the nominator, after the commit.
        messages.nomination_status_changed(session, nomination.id, step.action, comment=comment)


def _take_places(session, medal_id: int, district_id: int, count: int) -> bool:
    """Take ``count`` places of the district's quota, all or none, with one
    conditional UPDATE (under PostgreSQL's row lock a racing approval re-reads
    ``used`` before deciding)."""
    taken = session.execute(
        update(MedalQuota).where(MedalQuota.medal_id == medal_id, MedalQuota.district_id == district_id,
                                 MedalQuota.used + count <= MedalQuota.quota)
        .values(used=MedalQuota.used + count).returning(MedalQuota.used)
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


def quota_error(session, nomination: Nomination, requested: int = 1) -> Conflict:
    quota = session.scalar(select(MedalQuota).where(MedalQuota.medal_id == nomination.medal_id,
                                                    MedalQuota.district_id == nomination.district_id)
                           .execution_options(populate_existing=True))
    total, used = (quota.quota, quota.used) if quota else (0, 0)
    if requested > 1 and total - used > 0:
        return Conflict(_l("The quota of %(district)s for this medal is %(quota)d and %(used)d are used: "
                           "%(left)d left, fewer than the %(requested)d chosen. Nothing was approved.",
                           district=_name_in_reader_language(nomination.district), quota=total, used=used,
                           left=total - used, requested=requested),
                        code="quota_exceeded", quota=total, used=used, requested=requested)
    return Conflict(_l("The quota of %(district)s for this medal is %(quota)d and %(used)d are used: no more can "
                       "be approved.", district=_name_in_reader_language(nomination.district), quota=total,
                       used=used),
                    code="quota_exceeded", quota=total, used=used)


def transition(session, actor: Actor, nomination: Nomination, action: str, *, comment=None, decree_number=None,
               decree_date=None, confirm_duplicate: bool = False, expected_version: int | None = None) -> Nomination:
    step = check_transition(actor.user, nomination, action)
    comment, number, dd = _decision_fields(step, comment, decree_number, decree_date, [nomination.medal])
    try:
        _apply(session, actor, nomination, step, comment, number, dd, confirm_duplicate=confirm_duplicate,
               expected_version=expected_version)
    except Conflict:
        session.rollback()
        raise
    session.commit()
    session.refresh(nomination)
    return nomination


def bulk_transition(session, actor: Actor, ids, action: str, *, comment=None, decree_number=None,
                    decree_date=None) -> list[Nomination]:
    """Take one action on many nominations with one comment (and decree): all or
    nothing, so that a decree never covers half of its list."""
    try:
        wanted = sorted({int(i) for i in ids})
    except (TypeError, ValueError):
        raise ValidationFailed({"ids": _l("Choose nominations from the list.")})
    if not wanted:
        raise ValidationFailed({"ids": _l("Choose at least one nomination.")})
    if len(wanted) > 1000:
        raise ValidationFailed({"ids": _l("At most 1000 nominations at once.")})
    rows = {n.id: n for n in session.scalars(select(Nomination).where(Nomination.id.in_(wanted)))}
    missing = [i for i in wanted if i not in rows]
    if missing:
        raise NotFound(_l("No such nomination: %(ids)s.", ids=", ".join(map(str, missing[:20]))))
    steps = {i: check_transition(actor.user, rows[i], action) for i in wanted}
    first = steps[wanted[0]]
    medals = {rows[i].medal_id: rows[i].medal for i in wanted}
    comment, number, dd = _decision_fields(first, comment, decree_number, decree_date, medals.values())
    try:
        # Every nomination row first, in id order, then the quota rows in key
        # order: the locks are taken in the order a single approval takes them
        # (its nomination, then its quota), so a decree and a single approval of
        # one of its nominations cannot deadlock.
        places: dict[tuple[int, int], list[Nomination]] = {}
        for i in wanted:
            _apply(session, actor, rows[i], steps[i], comment, number, dd, confirm_duplicate=False,
                   expected_version=None, take_quota=False, tell_nominator=False)
            if steps[i].action == "approve":
                places.setdefault((rows[i].medal_id, rows[i].district_id), []).append(rows[i])
        for (medal_id, district_id), approving in sorted(places.items()):
            if not _take_places(session, medal_id, district_id, len(approving)):
                raise quota_error(session, approving[0], requested=len(approving))
        # Last, the medals' certificate counters: the lock order of a single
        # approval (nomination, quota, counter); numbers in id order.
        approved = [rows[i] for i in wanted if steps[i].action == "approve"]
        if approved:
            events.send_approved(session, actor, approved, decree_number=number, decree_date=dd)
        # Each nominator is told once, of all theirs in the list, after the commit.
        messages.nominations_decided(session, [rows[i] for i in wanted], first.action, comment=comment)
    except Conflict:
        session.rollback()
        raise
    session.commit()
    for n in rows.values():
        session.refresh(n)
    return [rows[i] for i in wanted]


# --------------------------------------------------------------- documents

def sniff_document(data: bytes) -> str | None:
    for signature, content_type in DOCUMENT_SIGNATURES:
        if data.startswith(signature):
            return content_type
    return None


def add_document(session, actor: Actor, nomination: Nomination, filename: str, data: bytes) -> NominationDocument:
    """A supporting document, added by a nominator of the nomination's district."""
    if actor.user is not None and not (actor.user.has_role("nominator")
                                       and can(actor.user, "nominations.create", nomination)):
        raise Forbidden(_l("Documents are added by the nominators of the nomination's district."))
    if nomination.status not in ("draft", "returned", "submitted"):
        raise Conflict(_l("Documents can be added until the nomination is recommended."), code="invalid_transition")
    if not data:
        raise ValidationFailed({"document": _l("The file is empty.")})
    if len(data) > MAX_DOCUMENT_SIZE:
        raise ValidationFailed({"document": _l("The file is larger than 10 MB.")})
    content_type = sniff_document(data)
    if content_type is None:
        raise ValidationFailed({"document": _l("Only PDF, JPEG and PNG files are accepted; this file is none of "
                                               "them, whatever its name says.")})
    try:
        name = clean_text(filename or "document", max_length=200) or "document"
    except TextError:
        name = "document"
    document = NominationDocument(nomination_id=nomination.id, filename=name, content_type=content_type,
                                  size=len(data), sha256=hashlib.sha256(data).hexdigest(), data=data,
                                  uploaded_by_id=actor.user.id if actor.user else None)
    session.add(document)
    session.flush()
    record(session, actor, "nomination.document_add", "nomination", nomination.id,
           after={"document_id": document.id, "filename": name, "content_type": content_type, "size": len(data)})
    session.commit()
    return document


# ----------------------------------------------------------------- lists

def list_query(user, *, status=None, district=None, medal=None, category=None, q=None, join_nominee=False):
    """Nominations visible to ``user`` with the filters; newest first.

    Nominees are joined only when a filter needs them (or the caller selects
    their columns, ``join_nominee``): a queue's COUNT otherwise joins every
    nominee for nothing (bench/nominations.py, 50,000 rows).  The name and IIN
    search uses the nomination's own copies, so a search within a status and
    district reads one table.
    """
    stmt = select(Nomination)
    if join_nominee or category:
        stmt = stmt.join(Nominee, Nominee.id == Nomination.nominee_id)
    scope = scoped_district_id(user)
    if scope is not None:
        stmt = stmt.where(Nomination.district_id == scope)
    if status:
        stmt = stmt.where(Nomination.status == status)
    if district:
        stmt = stmt.where(Nomination.district.has(District.code == district))
    if medal:
        stmt = stmt.where(Nomination.medal.has(Medal.code == medal))
    if category:
        stmt = stmt.where(Nominee.category == category)
    if q:
        key = names.search_key(q)
        conditions = []
        if key:
            conditions.append(and_(*[Nomination.search_key.like(f"%{word}%") for word in key.split()]))
        # An IIN typed in groups ("2801 0230"): its start.  Only when the query is
        # a number: in "Сәуле 2801" the digits narrow the name search instead.
        digits = "".join(ch for ch in q if ch.isdigit())
        if len(digits) >= 4 and all(ch.isdigit() or ch in " -" for ch in q.strip()):
            conditions.append(Nomination.iin.like(f"{digits}%"))
        stmt = stmt.where(or_(*conditions)) if conditions else stmt.where(False)
    return stmt.order_by(Nomination.id.desc())


def queue_query(user):
    """What waits for ``user``: by role, within the user's district scope."""
    states: list[str] = []
    for role, role_states in workflow.QUEUE_STATES.items():
        if user.has_role(role):
            states.extend(role_states)
    stmt = list_query(user).where(Nomination.status.in_(states or ["-"]))
    if user.has_role("nominator") and not user.has_role("reviewer", "commission", "clerk"):
        stmt = stmt.where(Nomination.created_by_id == user.id)
    return stmt


def validate_filters(args) -> dict:
    errors: dict = {}
    status = args.get("status") or None
    if status and status not in STATUSES:
        errors["status"] = _l("Unknown status.")
    category = args.get("category") or None
    if category and category not in NOMINEE_CATEGORIES:
        errors["category"] = _l("Unknown category.")
    q = args.get("q") or None
    if q and len(q) > 100:
        errors["q"] = _l("Must be at most %(n)d characters.", n=100)
    if errors:
        raise ValidationFailed(errors)
    return {"status": status, "district": args.get("district") or None, "medal": args.get("medal") or None,
            "category": category, "q": q}


ROLE_NAMES = {"nominator": _l("nominator"), "reviewer": _l("reviewer"), "commission": _l("commission"),
              "clerk": _l("clerk")}
