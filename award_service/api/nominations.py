from __future__ import annotations

from flask import g, request

from ..accounts.permissions import can
from ..audit import history_json
from ..errors import Forbidden, NotFound, ValidationFailed
from ..extensions import db
from ..http import iso
from ..medals import service as medals
from ..nominations import lists, service, transitions
from . import api_actor, bp, json_body, list_page, staff_required
from . import responses as out
from .schemas import ID, MedalInput, NominationInput, NominationQuery, QuotaInput, TransitionInput
from .spec import checked_body, checked_query, operation, respond


def medal_json(medal) -> dict:
    return {
        "code": medal.code,
        "name_kk": medal.name_kk,
        "name_ru": medal.name_ru,
        "name_en": medal.name_en,
        "serial_prefix": medal.serial_prefix,
        "award_year_from": medal.award_year_from,
        "award_year_to": medal.award_year_to,
        "active": medal.active,
        "signer_title_kk": medal.signer_title_kk,
        "signer_title_ru": medal.signer_title_ru,
        "signer_name": medal.signer_name,
        "quotas": {q.district.code: {"quota": q.quota, "used": q.used, "left": q.left} for q in medal.quotas},
    }


def nomination_json(n, *, with_history: bool = False) -> dict:
    nominee = n.nominee
    body = {
        "id": n.id,
        "status": n.status,
        "version": n.version,
        "nominee": {
            "surname": nominee.surname,
            "given_name": nominee.given_name,
            "patronymic": nominee.patronymic,
            "full_name": nominee.full_name,
            "iin": nominee.iin,
            "birth_date": nominee.birth_date.isoformat(),
            "category": nominee.category,
            "district": nominee.district.code,
            "address": nominee.address,
            "phone": nominee.phone,
        },
        "medal": n.medal.code,
        "district": n.district.code,
        "grounds": n.grounds,
        "possible_duplicate": n.possible_duplicate,
        "duplicate_confirmed": n.duplicate_confirmed,
        "last_comment": n.last_comment,
        "decree_number": n.decree_number,
        "decree_date": n.decree_date.isoformat() if n.decree_date else None,
        "created_at": iso(n.created_at),
        "submitted_at": iso(n.submitted_at),
        "recommended_at": iso(n.recommended_at),
        "approved_at": iso(n.approved_at),
    }
    if with_history:
        body["history"] = history_json(db.session, "nomination", n.id)
    return body


@bp.get("/medals")
@operation("Medals with their quotas (staff)", tag="medals", response=out.MedalList)
@staff_required("medals.view")
def list_medals():
    return respond(out.MedalList, {"items": [medal_json(m) for m in medals.all_medals(db.session, with_quotas=True)]})


@bp.post("/medals")
@operation("Create a medal (admin)", tag="medals", body=MedalInput, response=out.Medal, status=201)
@staff_required("medals.manage")
def create_medal():
    with checked_body(MedalInput, json_body()) as data:
        medal = medals.create_medal(db.session, api_actor(), data)
    return respond(out.Medal, medal_json(medal), 201)


@bp.put("/medals/<code>/quotas")
@operation(
    "Set quotas per district (admin)",
    tag="medals",
    body=QuotaInput,
    response=out.Medal,
    errors={409: ["quota_exceeded"]},
)
@staff_required("medals.manage")
def set_quotas(code):
    medal = medals.get_medal(db.session, code)
    if medal is None:
        raise NotFound()
    with checked_body(QuotaInput, json_body()) as data:
        medal = medals.set_quotas(db.session, api_actor(), medal, data)
    return respond(out.Medal, medal_json(medal))


@bp.post("/nominations")
@operation(
    "Enter a nomination (nominator; created as draft)",
    tag="nominations",
    body=NominationInput,
    response=out.NominationCreated,
    status=201,
    errors={409: ["duplicate_nominee"]},
)
@staff_required("nominations.create")
def create_nomination():
    with checked_body(NominationInput, json_body()) as data:
        nomination = service.create_nomination(db.session, api_actor(), data)
    return respond(
        out.NominationCreated,
        {"id": nomination.id, "status": nomination.status, "possible_duplicate": nomination.possible_duplicate},
        201,
    )


def _visible(nomination_id):
    nomination = service.get_nomination(db.session, nomination_id)
    if not can(g.api_user, "nominations.view", nomination):
        raise Forbidden()
    return nomination


@bp.get("/nominations")
@operation(
    "Nominations visible to the token's user", tag="nominations", query=NominationQuery, response=out.NominationPage
)
@staff_required("nominations.view")
def list_nominations():
    with checked_query(NominationQuery):
        filters = lists.validate_filters(request.args)
        page, per_page = list_page()
    stmt = lists.list_query(g.api_user, **filters)
    pagination = db.paginate(stmt, page=page, per_page=per_page, error_out=False, count=True)
    return respond(
        out.NominationPage,
        {
            "items": [nomination_json(n) for n in pagination.items],
            "page": page,
            "per_page": per_page,
            "total": pagination.total,
        },
    )


@bp.get("/nominations/<nomination_id>")
@operation(
    "One nomination with its history", tag="nominations", response=out.NominationDetail, path={"nomination_id": ID}
)
@staff_required("nominations.view")
def get_nomination(nomination_id):
    return respond(out.NominationDetail, nomination_json(_visible(nomination_id), with_history=True))


@bp.post("/nominations/<nomination_id>/transitions")
@operation(
    "Move a nomination through the workflow (by role)",
    tag="nominations",
    body=TransitionInput,
    response=out.TransitionResult,
    path={"nomination_id": ID},
    errors={409: ["invalid_transition", "quota_exceeded", "conflict", "duplicate_nominee"]},
)
@staff_required("nominations.view")
def transition(nomination_id):
    nomination = _visible(nomination_id)
    with checked_body(TransitionInput, json_body()) as body:
        action = body.get("action")
        if not isinstance(action, str):
            raise ValidationFailed(
                {"action": "Give the action: submit, recommend, approve, return, reject or withdraw."}
            )
        version = body.get("version")
        if version is not None and (not isinstance(version, int) or isinstance(version, bool)):
            raise ValidationFailed({"version": "Must be a whole number."})
        nomination = transitions.transition(
            db.session,
            api_actor(),
            nomination,
            action,
            comment=body.get("comment"),
            decree_number=body.get("decree_number"),
            decree_date=body.get("decree_date"),
            confirm_duplicate=body.get("confirm_duplicate") is True,
            expected_version=version,
        )
    return respond(
        out.TransitionResult, {"id": nomination.id, "status": nomination.status, "version": nomination.version}
    )
