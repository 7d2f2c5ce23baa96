from __future__ import annotations

from flask import current_app, request, url_for
from sqlalchemy import func, select

from ..accounts.permissions import can
from ..ceremonies import checkin, registrations, service, tickets, waitlist
from ..errors import Forbidden, ValidationFailed
from ..extensions import db, limiter
from ..http import iso
from ..i18n import locale_code
from ..timeutil import utcnow
from . import api_actor, bp, json_body, list_page, optional_staff, staff_required
from . import responses as out
from .schemas import (
    CANCEL_REASON_MAX,
    ID,
    CancelInput,
    CeremonyInput,
    CheckinInput,
    RegistrationInput,
    RegistrationQuery,
)
from .spec import checked_body, checked_query, operation, respond


def ceremony_json(ceremony) -> dict:
    return {
        "id": ceremony.id,
        "title_kk": ceremony.title_kk,
        "title_ru": ceremony.title_ru,
        "title_en": ceremony.title_en or None,
        "description_kk": ceremony.description_kk,
        "description_ru": ceremony.description_ru,
        "starts_at": iso(ceremony.starts_at),
        "venue": ceremony.venue,
        "venue_kk": ceremony.venue_kk or None,
        "venue_ru": ceremony.venue_ru or None,
        "venue_en": ceremony.venue_en or None,
        "address": ceremony.address,
        "district": ceremony.district.code,
        "capacity": ceremony.capacity,
        "seats_taken": ceremony.seats_taken,
        "seats_left": ceremony.seats_left,
        "registration_opens_at": iso(ceremony.registration_opens_at),
        "registration_closes_at": iso(ceremony.registration_closes_at),
        "registration": ceremony.registration_state(utcnow()),
        "waitlist": ceremony.waitlist,
        "status": ceremony.status,
    }


def registration_json(registration) -> dict:
    return {
        "id": registration.id,
        "ceremony_id": registration.ceremony_id,
        "full_name": registration.full_name,
        "email": registration.email,
        "phone": registration.phone,
        "companions": registration.companions,
        "seats": registration.seats,
        "category": registration.category,
        "needs": registration.needs,
        "status": registration.status,
        "source": registration.source,
        "created_at": iso(registration.created_at),
        "cancelled_at": iso(registration.cancelled_at),
        "ticket_code": registration.ticket_code,
        "checked_in_at": iso(registration.checked_in_at),
        "companions_arrived": registration.companions_arrived,
    }


def manage_url(token: str) -> str:
    return current_app.config["AWARD_BASE_URL"] + url_for("ceremonies.manage", token=token)


@bp.get("/ceremonies")
@operation("Published upcoming ceremonies", tag="ceremonies", response=out.CeremonyList)
def list_ceremonies():
    return respond(out.CeremonyList, {"items": [ceremony_json(c) for c in service.upcoming_ceremonies(db.session)]})


@bp.get("/ceremonies/<ceremony_id>")
@operation(
    "One ceremony (drafts only for organisers with a token)",
    tag="ceremonies",
    response=out.Ceremony,
    path={"ceremony_id": ID},
)
def get_ceremony(ceremony_id):
    user = optional_staff()
    ceremony = service.get_ceremony(db.session, ceremony_id, include_drafts=True)
    if ceremony.status == "draft" and not can(user, "ceremonies.view_all", ceremony):
        service.get_ceremony(db.session, ceremony_id)  # raises not_found for the public
    return respond(out.Ceremony, ceremony_json(ceremony))


@bp.post("/ceremonies")
@operation("Create a ceremony (organiser)", tag="ceremonies", body=CeremonyInput, response=out.Ceremony, status=201)
@staff_required("ceremonies.manage")
def create_ceremony():
    actor = api_actor()
    with checked_body(CeremonyInput, json_body()) as data:
        ceremony = service.create_ceremony(db.session, actor, data, tz=current_app.config["AWARD_TIMEZONE"])
    return respond(out.Ceremony, ceremony_json(ceremony), 201)


@bp.post("/ceremonies/<ceremony_id>/registrations")
@operation(
    "Register (public); waitlisted with a position when full and the ceremony keeps a waiting list",
    tag="ceremonies",
    body=RegistrationInput,
    response=out.RegistrationCreated,
    status=201,
    path={"ceremony_id": ID},
    rate_limited=True,
    errors={409: ["ceremony_full", "registration_closed", "duplicate_registration"]},
)
@limiter.limit(lambda: current_app.config["AWARD_REGISTRATION_RATE_LIMIT"])
def register(ceremony_id):
    with checked_body(RegistrationInput, json_body()) as data:
        registration = registrations.register(
            db.session, api_actor(), ceremony_id, data, language=locale_code(), source="api"
        )
    body = {
        "id": registration.id,
        "status": registration.status,
        "seats": registration.seats,
        "token": registration.token,
        "manage_url": manage_url(registration.token),
    }
    if registration.status == "waitlisted":
        body["position"] = waitlist.position(db.session, registration)
    return respond(out.RegistrationCreated, body, 201)


@bp.get("/ceremonies/<ceremony_id>/registrations")
@operation(
    "Registrations of a ceremony (organiser)",
    tag="ceremonies",
    query=RegistrationQuery,
    response=out.RegistrationPage,
    path={"ceremony_id": ID},
)
@staff_required("registrations.manage")
def list_registrations(ceremony_id):
    actor = api_actor()
    ceremony = service.get_ceremony(db.session, ceremony_id, include_drafts=True)
    if not can(actor.user, "registrations.manage", ceremony):
        raise Forbidden()
    with checked_query(RegistrationQuery):
        page, per_page = list_page()
    stmt = registrations.registrations_for(
        db.session, ceremony, q=request.args.get("q"), status=request.args.get("status") or None
    )
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    items = db.session.scalars(stmt.limit(per_page).offset((page - 1) * per_page))
    return respond(
        out.RegistrationPage,
        {
            "ceremony": ceremony_json(ceremony),
            "items": [registration_json(r) for r in items],
            "page": page,
            "per_page": per_page,
            "total": total,
        },
    )


@bp.get("/registrations/<token>")
@operation("A registration by its manage token (public)", tag="ceremonies", response=out.PublicRegistration)
def get_registration(token):
    registration = registrations.registration_by_token(db.session, token)
    return respond(
        out.PublicRegistration,
        {
            "id": registration.id,
            "status": registration.status,
            "seats": registration.seats,
            "companions": registration.companions,
            "full_name": registration.full_name,
            "ceremony": ceremony_json(registration.ceremony),
            "manage_url": manage_url(registration.token),
            "ticket_code": registration.ticket_code if registration.status == "confirmed" else None,
            "checked_in_at": iso(registration.checked_in_at),
            "position": waitlist.position(db.session, registration),
        },
    )


@bp.get("/registrations/<token>/ticket.pdf")
@operation(
    "The admission ticket (public, by the manage token)",
    tag="ceremonies",
    response=None,
    errors={409: ["waitlisted", "cancelled"]},
)
def registration_ticket(token):
    """The admission ticket (public: the manage token is the key); 409 cancelled."""
    return tickets.ticket_response(registrations.registration_by_token(db.session, token))


@bp.post("/registrations/<token>/cancel")
@operation(
    "Cancel by the manage token (public); the body is optional",
    tag="ceremonies",
    body=CancelInput,
    body_required=False,
    response=out.Cancelled,
    rate_limited=True,
    errors={409: ["already_cancelled", "registration_closed"]},
)
@limiter.limit(lambda: current_app.config["AWARD_REGISTRATION_RATE_LIMIT"])
def cancel_registration(token):
    registration = registrations.registration_by_token(db.session, token)
    with checked_body(CancelInput, json_body() if request.content_length else {}) as body:
        reason = body.get("reason")
        registration = registrations.cancel_registration(
            db.session, api_actor(), registration, reason=str(reason)[:CANCEL_REASON_MAX] if reason else None
        )
    return respond(out.Cancelled, {"id": registration.id, "status": registration.status, "seats": registration.seats})


@bp.post("/checkin")
@operation(
    "Admit a ticket's holder at the door (organiser, clerk)",
    tag="ceremonies",
    body=CheckinInput,
    response=out.Checkin,
    errors={404: ["not_found"], 409: ["cancelled", "waitlisted", "wrong_ceremony"]},
)
@staff_required("checkin.manage")
def check_in():
    """Admit a ticket's holder at the door: ``{code, companions_arrived, ceremony?}``."""
    with checked_body(CheckinInput, json_body()) as body:
        registration = checkin.ticket(db.session, body.get("code"))
        ceremony = None
        if body.get("ceremony") is not None:
            if not isinstance(body["ceremony"], int) or isinstance(body["ceremony"], bool):
                raise ValidationFailed({"ceremony": "Give the ceremony's id (a number)."})
            ceremony = service.get_ceremony(db.session, body["ceremony"], include_drafts=True)
        admission = checkin.check_in(
            db.session, api_actor(), registration, body.get("companions_arrived"), ceremony=ceremony
        )
    return respond(
        out.Checkin,
        {
            "registration": registration_json(admission.registration),
            "checked_in_at": iso(admission.checked_in_at),
            "already": admission.already,
        },
    )
