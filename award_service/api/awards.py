"""Awards: the register, certificates and presentation sheets (clerks and
admins), and public verification."""

from __future__ import annotations

from flask import current_app, g, request

from ..audit import history_json
from ..awards import annex, printing, queries, revocation, service
from ..ceremonies.models import Ceremony
from ..errors import NotFound
from ..extensions import db, limiter
from ..http import iso
from ..i18n import locale_code
from . import api_actor, bp, json_body, list_page, staff_required
from . import responses as out
from .schemas import (
    AnnexQuery,
    AttachInput,
    AwardQuery,
    BatchQuery,
    FormatQuery,
    PresentedInput,
    ReissueInput,
    RevokeInput,
    SheetQuery,
)
from .spec import checked_body, checked_query, operation, respond


def award_json(a, *, with_history: bool = False) -> dict:
    body = {
        "serial": a.serial,
        "status": a.status,
        "full_name": a.full_name,
        **a.name_parts,
        "medal": a.medal.code,
        "district": a.district.code,
        "nomination_id": a.nomination_id,
        "decree_number": a.decree_number,
        "decree_date": a.decree_date.isoformat(),
        "ceremony": a.ceremony_id,
        "presented_on": a.presented_on.isoformat() if a.presented_on else None,
        "revoked_at": iso(a.revoked_at),
        "revoke_reason": a.revoke_reason or None,
        "reissue_of": a.reissue_of.serial if a.reissue_of_id else None,
        "verify_url": printing.verify_url(a.verify_code),
    }
    if with_history:
        body["history"] = history_json(db.session, "award", a.serial)
    return body


@bp.get("/awards")
@operation(
    "Awards in presentation order (Kazakh alphabetical by surname)",
    tag="awards",
    query=AwardQuery,
    response=out.AwardPage,
)
@staff_required("awards.view")
def list_awards():
    with checked_query(AwardQuery):
        filters = queries.validate_filters(db.session, request.args)
        page, per_page = list_page()
    pagination = db.paginate(
        queries.list_query(g.api_user, **filters), page=page, per_page=per_page, error_out=False, count=True
    )
    return respond(
        out.AwardPage,
        {
            "items": [award_json(a) for a in pagination.items],
            "page": page,
            "per_page": per_page,
            "total": pagination.total,
        },
    )


@bp.get("/awards/batch.pdf")
@operation(
    "One PDF of the valid certificates of a filter, streamed (clerk, admin)",
    tag="awards",
    query=BatchQuery,
    response=None,
    errors={404: ["not_found"]},
)
@staff_required("awards.print")
def batch_pdf():
    with checked_query(BatchQuery):
        response = printing.batch_response(db.session, g.api_user, request.args)
    return response


@bp.get("/awards/presentation-sheet.pdf")
@operation(
    "The presentation sheet of a ceremony: the list recipients sign (clerk, admin)",
    tag="awards",
    query=SheetQuery,
    response=None,
    errors={404: ["not_found"]},
)
@staff_required("awards.print")
def presentation_sheet_pdf():
    with checked_query(SheetQuery):
        response = printing.sheet_response(db.session, g.api_user, request.args)
    return response


@bp.get("/awards/decree-annex.pdf")
@operation(
    "The annex to a decree: the nominations approved under it, the list to sign (admin, commission, clerk)",
    tag="awards",
    query=AnnexQuery,
    response=None,
    errors={404: ["not_found"]},
    description="In Kazakh alphabetical order, with the name and serial each one's valid certificate prints; "
    "a district's staff get their district's part.",
)
@staff_required("awards.view")
def decree_annex_pdf():
    with checked_query(AnnexQuery):
        number, day = annex.decree_of(request.args)
    body = annex.annex_pdf(db.session, g.api_user, number, day)
    return printing.pdf_response(body, f"decree-{day.isoformat()}-annex.pdf")


@bp.get("/awards/<serial>")
@operation("One award with its history", tag="awards", response=out.AwardDetail)
@staff_required("awards.view")
def get_award(serial):
    return respond(
        out.AwardDetail, award_json(queries.visible_award(db.session, g.api_user, serial), with_history=True)
    )


@bp.get("/awards/<serial>/certificate.pdf")
@operation("The certificate (clerk, admin)", tag="awards", query=FormatQuery, response=None, errors={409: ["revoked"]})
@staff_required("awards.print")
def certificate_pdf(serial):
    with checked_query(FormatQuery):
        fmt = printing.check_format(request.args.get("format"))
    award = queries.visible_award(db.session, g.api_user, serial, "awards.print")
    return printing.certificate_response(db.session, award, fmt)


@bp.post("/awards/<serial>/revoke")
@operation(
    "Revoke (admin), optionally reissuing, with the name corrected if need be",
    tag="awards",
    body=RevokeInput,
    response=out.AwardRevoked,
    errors={409: ["revoked", "conflict", "invalid_transition"]},
)
@staff_required("awards.revoke")
def revoke_award(serial):
    award = queries.visible_award(db.session, g.api_user, serial, "awards.revoke")
    with checked_body(RevokeInput, json_body()) as body:
        result = revocation.revoke(
            db.session,
            api_actor(),
            award,
            body.get("reason"),
            reissue=body.get("reissue") is True,
            corrections=body.get("corrections"),
        )
    db.session.refresh(award)
    response = award_json(award)
    if result is not award:
        response["reissued_as"] = award_json(result)
    return respond(out.AwardRevoked, response)


@bp.post("/awards/<serial>/reissue")
@operation(
    "A new certificate (new serial) in place of this one (admin); the body is optional",
    tag="awards",
    body=ReissueInput,
    body_required=False,
    response=out.Award,
    status=201,
    errors={409: ["invalid_transition", "conflict"]},
    description="A valid certificate is revoked by the reissue (give the reason). With corrections, the new "
    "certificate prints the corrected name (give the reason); the old one then verifies as revoked and "
    "replaced by the new serial. Without a body, a revoked certificate is reissued as it was.",
)
@staff_required("awards.revoke")
def reissue_award(serial):
    award = queries.visible_award(db.session, g.api_user, serial, "awards.revoke")
    with checked_body(ReissueInput, json_body() if request.content_length else {}) as body:
        new = revocation.reissue(
            db.session, api_actor(), award, reason=body.get("reason"), corrections=body.get("corrections")
        )
    return respond(out.Award, award_json(new), 201)


@bp.post("/awards/<serial>/presented")
@operation(
    "Mark presented (clerk); the nomination becomes awarded",
    tag="awards",
    body=PresentedInput,
    response=out.Award,
    errors={409: ["revoked", "already_presented", "conflict", "ceremony_in_future"]},
)
@staff_required("awards.present")
def mark_presented(serial):
    award = queries.visible_award(db.session, g.api_user, serial, "awards.present")
    with checked_body(PresentedInput, json_body()) as body:
        (award,) = service.mark_presented(
            db.session, api_actor(), [award.serial], body.get("date"), confirm_early=body.get("confirm_early") is True
        )
    return respond(out.Award, award_json(award))


@bp.post("/ceremonies/<int:ceremony_id>/awards")
@operation(
    "Attach awards to the ceremony where they will be presented (clerk); all or nothing",
    tag="awards",
    body=AttachInput,
    response=out.Attached,
    errors={409: ["revoked", "already_presented", "ceremony_cancelled"]},
)
@staff_required("awards.present")
def attach_awards(ceremony_id):
    ceremony = db.session.get(Ceremony, ceremony_id)
    if ceremony is None:
        raise NotFound("No such ceremony.")
    with checked_body(AttachInput, json_body()) as body:
        awards = service.attach_to_ceremony(db.session, api_actor(), ceremony, body.get("serials"))
    return respond(out.Attached, {"ceremony": ceremony.id, "serials": [a.serial for a in awards]})


@bp.get("/verify/<code>")
@operation(
    "Check a certificate by the code on it (public, rate-limited)",
    tag="awards",
    response=out.Verification,
    rate_limited=True,
)
@limiter.limit(lambda: current_app.config["AWARD_VERIFY_RATE_LIMIT"])
def verify(code):
    award = queries.find_by_code(db.session, code)
    if award is None:
        raise NotFound("No certificate has this code.")
    # Only what the certificate itself shows, and its standing.
    return respond(
        out.Verification,
        {
            "status": award.status,
            "full_name": award.full_name,
            "medal": award.medal.name(locale_code()),
            "serial": award.serial,
            "decree_date": award.decree_date.isoformat(),
            "revoked_on": printing.revoked_on(award),
            "replaced_by": replacement.serial if (replacement := queries.replacement_of(db.session, award)) else None,
        },
    )
