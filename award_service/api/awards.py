"""Awards: the register, certificates and presentation sheets (clerks and
admins), and public verification."""
from __future__ import annotations

from flask import current_app, g, request

from ..audit import history
from ..awards import printing, service
from ..ceremonies.models import Ceremony
from ..errors import NotFound
from ..extensions import db, limiter
from ..i18n import locale_code
from . import api_actor, bp, json_body, staff_required
from .ceremonies import _iso, _page_args


def award_json(a, *, with_history: bool = False) -> dict:
    body = {
        "serial": a.serial, "status": a.status, "full_name": a.full_name, "medal": a.medal.code,
        "district": a.district.code, "nomination_id": a.nomination_id, "decree_number": a.decree_number,
        "decree_date": a.decree_date.isoformat(), "ceremony": a.ceremony_id,
        "presented_on": a.presented_on.isoformat() if a.presented_on else None,
        "revoked_at": _iso(a.revoked_at), "revoke_reason": a.revoke_reason or None,
        "reissue_of": a.reissue_of.serial if a.reissue_of_id else None,
        "verify_url": printing.verify_url(a.verify_code),
    }
    if with_history:
        body["history"] = [{"at": _iso(e.occurred_at), "actor": e.actor_label, "action": e.action,
                            "before": e.before, "after": e.after, "comment": e.reason}
                           for e in history(db.session, "award", a.serial)]
    return body


@bp.get("/awards")
@staff_required("awards.view")
def list_awards():
    filters = service.validate_filters(db.session, request.args)
    page, per_page = _page_args()
    pagination = db.paginate(service.list_query(g.api_user, **filters), page=page, per_page=per_page,
                             error_out=False, count=True)
    return {"items": [award_json(a) for a in pagination.items], "page": page, "per_page": per_page,
            "total": pagination.total}


@bp.get("/awards/batch.pdf")
@staff_required("awards.print")
def batch_pdf():
    return printing.batch_response(db.session, g.api_user, request.args)


@bp.get("/awards/presentation-sheet.pdf")
@staff_required("awards.print")
def presentation_sheet_pdf():
    return printing.sheet_response(db.session, g.api_user, request.args)


@bp.get("/awards/<serial>")
@staff_required("awards.view")
def get_award(serial):
    return award_json(service.visible_award(db.session, g.api_user, serial), with_history=True)


@bp.get("/awards/<serial>/certificate.pdf")
@staff_required("awards.print")
def certificate_pdf(serial):
    fmt = printing.check_format(request.args.get("format"))
    award = service.visible_award(db.session, g.api_user, serial, "awards.print")
    return printing.certificate_response(db.session, award, fmt)


@bp.post("/awards/<serial>/revoke")
@staff_required("awards.revoke")
def revoke_award(serial):
    award = service.visible_award(db.session, g.api_user, serial, "awards.revoke")
    body = json_body()
    result = service.revoke(db.session, api_actor(), award, body.get("reason"), reissue=body.get("reissue") is True)
    db.session.refresh(award)
    response = award_json(award)
    if result is not award:
        response["reissued_as"] = award_json(result)
    return response


@bp.post("/awards/<serial>/reissue")
@staff_required("awards.revoke")
def reissue_award(serial):
    award = service.visible_award(db.session, g.api_user, serial, "awards.revoke")
    return award_json(service.reissue(db.session, api_actor(), award)), 201


@bp.post("/awards/<serial>/presented")
@staff_required("awards.present")
def mark_presented(serial):
    award = service.visible_award(db.session, g.api_user, serial, "awards.present")
    body = json_body()
    (award,) = service.mark_presented(db.session, api_actor(), [award.serial], body.get("date"))
    return award_json(award)


@bp.post("/ceremonies/<int:ceremony_id>/awards")
@staff_required("awards.present")
def attach_awards(ceremony_id):
    ceremony = db.session.get(Ceremony, ceremony_id)
    if ceremony is None:
        raise NotFound("No such ceremony.")
    body = json_body()
    awards = service.attach_to_ceremony(db.session, api_actor(), ceremony, body.get("serials"))
    return {"ceremony": ceremony.id, "serials": [a.serial for a in awards]}


@bp.get("/verify/<code>")
@limiter.limit(lambda: current_app.config["AWARD_VERIFY_RATE_LIMIT"])
def verify(code):
    award = service.find_by_code(db.session, code)
    if award is None:
        raise NotFound("No certificate has this code.")
    # Only what the certificate itself shows, and its standing.
    return {"status": award.status, "full_name": award.full_name, "medal": award.medal.name(locale_code()),
            "serial": award.serial, "decree_date": award.decree_date.isoformat(),
            "revoked_on": printing.revoked_on(award)}
