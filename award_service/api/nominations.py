from __future__ import annotations

from flask import g, request

from ..accounts.permissions import can
from ..audit import history
from ..errors import Forbidden, NotFound, ValidationFailed
from ..extensions import db
from ..medals import service as medals
from ..nominations import service
from ..nominations import lists, transitions
from . import api_actor, bp, json_body, staff_required
from .ceremonies import _iso, _page_args


def medal_json(medal) -> dict:
    return {
        "code": medal.code, "name_kk": medal.name_kk, "name_ru": medal.name_ru, "name_en": medal.name_en,
        "serial_prefix": medal.serial_prefix, "award_year_from": medal.award_year_from,
        "award_year_to": medal.award_year_to, "active": medal.active,
        "signer_title_kk": medal.signer_title_kk, "signer_title_ru": medal.signer_title_ru,
        "signer_name": medal.signer_name,
        "quotas": {q.district.code: {"quota": q.quota, "used": q.used, "left": q.left} for q in medal.quotas},
    }


def nomination_json(n, *, with_history: bool = False) -> dict:
    nominee = n.nominee
    body = {
        "id": n.id, "status": n.status, "version": n.version,
        "nominee": {"surname": nominee.surname, "given_name": nominee.given_name,
                    "patronymic": nominee.patronymic, "full_name": nominee.full_name, "iin": nominee.iin,
                    "birth_date": nominee.birth_date.isoformat(), "category": nominee.category,
                    "district": nominee.district.code, "address": nominee.address, "phone": nominee.phone},
        "medal": n.medal.code, "district": n.district.code, "grounds": n.grounds,
        "possible_duplicate": n.possible_duplicate, "duplicate_confirmed": n.duplicate_confirmed,
        "last_comment": n.last_comment, "decree_number": n.decree_number,
        "decree_date": n.decree_date.isoformat() if n.decree_date else None,
        "created_at": _iso(n.created_at), "submitted_at": _iso(n.submitted_at),
        "recommended_at": _iso(n.recommended_at), "approved_at": _iso(n.approved_at),
    }
    if with_history:
        body["history"] = [{
            "at": _iso(e.occurred_at), "actor": e.actor_label, "action": e.action, "before": e.before,
            "after": e.after, "comment": e.reason,
        } for e in history(db.session, "nomination", n.id)]
    return body


@bp.get("/medals")
@staff_required("medals.view")
def list_medals():
    return {"items": [medal_json(m) for m in medals.all_medals(db.session, with_quotas=True)]}


@bp.post("/medals")
@staff_required("medals.manage")
def create_medal():
    return medal_json(medals.create_medal(db.session, api_actor(), json_body())), 201


@bp.put("/medals/<code>/quotas")
@staff_required("medals.manage")
def set_quotas(code):
    medal = medals.get_medal(db.session, code)
    if medal is None:
        raise NotFound()
    return medal_json(medals.set_quotas(db.session, api_actor(), medal, json_body()))


@bp.post("/nominations")
@staff_required("nominations.create")
def create_nomination():
    nomination = service.create_nomination(db.session, api_actor(), json_body())
    return {"id": nomination.id, "status": nomination.status,
            "possible_duplicate": nomination.possible_duplicate}, 201


def _visible(nomination_id):
    nomination = service.get_nomination(db.session, nomination_id)
    if not can(g.api_user, "nominations.view", nomination):
        raise Forbidden()
    return nomination


@bp.get("/nominations")
@staff_required("nominations.view")
def list_nominations():
    filters = lists.validate_filters(request.args)
    page, per_page = _page_args()
    stmt = lists.list_query(g.api_user, **filters)
    pagination = db.paginate(stmt, page=page, per_page=per_page, error_out=False, count=True)
    return {"items": [nomination_json(n) for n in pagination.items], "page": page, "per_page": per_page,
            "total": pagination.total}


@bp.get("/nominations/<nomination_id>")
@staff_required("nominations.view")
def get_nomination(nomination_id):
    return nomination_json(_visible(nomination_id), with_history=True)


@bp.post("/nominations/<nomination_id>/transitions")
@staff_required("nominations.view")
def transition(nomination_id):
    nomination = _visible(nomination_id)
    body = json_body()
    action = body.get("action")
    if not isinstance(action, str):
        raise ValidationFailed({"action": "Give the action: submit, recommend, approve, return, reject or withdraw."})
    version = body.get("version")
    if version is not None and (not isinstance(version, int) or isinstance(version, bool)):
        raise ValidationFailed({"version": "Must be a whole number."})
    nomination = transitions.transition(db.session, api_actor(), nomination, action, comment=body.get("comment"),
                                    decree_number=body.get("decree_number"), decree_date=body.get("decree_date"),
                                    confirm_duplicate=body.get("confirm_duplicate") is True,
                                    expected_version=version)
    return {"id": nomination.id, "status": nomination.status, "version": nomination.version}
