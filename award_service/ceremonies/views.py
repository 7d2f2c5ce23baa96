"""Public pages: upcoming ceremonies, registration, the attendee's manage page."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from .. import codes
from ..errors import Conflict, NotFound, ValidationFailed
from ..extensions import db, limiter
from ..forms import ActionForm, apply_errors
from ..http import actor
from ..i18n import locale_code
from ..timeutil import utcnow
from . import links, registrations, service, tickets, waitlist
from .forms import LostLinkForm, RegistrationForm

bp = Blueprint("ceremonies", __name__)


@bp.get("/")
def index():
    return render_template("ceremonies/index.html", ceremonies=service.upcoming_ceremonies(db.session), now=utcnow())


def _registration_limit():
    return current_app.config["AWARD_REGISTRATION_RATE_LIMIT"]


@bp.route("/ceremonies/<int:ceremony_id>", methods=["GET", "POST"])
@limiter.limit(_registration_limit, methods=["POST"])
def detail(ceremony_id: int):
    try:
        ceremony = service.get_ceremony(db.session, ceremony_id)
    except NotFound:
        return render_template("errors/error.html", status=404, message=_("No such ceremony.")), 404
    form = RegistrationForm()
    problem = existing = None
    status = 200
    if request.method == "POST":
        try:
            registration = registrations.register(
                db.session, actor(), ceremony.id, form.service_data(), language=locale_code()
            )
        except ValidationFailed as exc:
            apply_errors(form, exc.fields)
            status = 422
        except Conflict as exc:
            problem = exc.message
            existing = exc.extra.get("registration_id")
            status = 409
        else:
            return redirect(url_for(".manage", token=registration.token, new=1))
        db.session.rollback()
        ceremony = service.get_ceremony(db.session, ceremony_id)
    return render_template(
        "ceremonies/detail.html",
        ceremony=ceremony,
        form=form,
        problem=problem,
        existing=existing,
        state=ceremony.registration_state(utcnow()),
    ), status


@bp.route("/r/<token>", methods=["GET", "POST"])
@limiter.limit(_registration_limit, methods=["POST"])
def manage(token: str):
    try:
        registration = registrations.registration_by_token(db.session, token)
    except NotFound as exc:
        return render_template("errors/error.html", status=404, message=exc.message), 404
    form = ActionForm()
    if request.method == "POST":
        previous = registration.status
        try:
            registrations.cancel_registration(db.session, actor(), registration)
        except Conflict as exc:
            flash(str(exc.message), "error")
        else:
            if previous == "waitlisted":
                flash(_("You have left the waiting list."), "success")
            else:
                flash(_("Your registration is cancelled. The seats are free for others."), "success")
        return redirect(url_for(".manage", token=token))
    manage_link = current_app.config["AWARD_BASE_URL"] + url_for(".manage", token=token)
    qr = tickets.qr_svg(registration.ticket_code, _("Ticket QR code")) if registration.status == "confirmed" else None
    return render_template(
        "ceremonies/manage.html",
        registration=registration,
        form=form,
        new=request.args.get("new") == "1",
        manage_link=manage_link,
        now=utcnow(),
        qr=qr,
        ticket_code=codes.grouped(registration.ticket_code),
        position=waitlist.position(db.session, registration),
    )


@bp.get("/r/<token>/ticket.pdf")
def ticket(token: str):
    try:
        registration = registrations.registration_by_token(db.session, token)
        return tickets.ticket_response(registration)
    except (NotFound, Conflict) as exc:
        return render_template("errors/error.html", status=exc.status, message=exc.message), exc.status


def _lost_link_limit():
    return current_app.config["AWARD_LOST_LINK_RATE_LIMIT"]


@bp.route("/r/lost-link", methods=["GET", "POST"])
@limiter.limit(_lost_link_limit, methods=["POST"])
def lost_link():
    """Send the manage links again to the address registered with them; the
    same answer whether or not there is one (nobody learns who registered)."""
    form = LostLinkForm()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                links.resend_links(db.session, actor(), form.email.data, language=locale_code())
            except ValidationFailed as exc:
                db.session.rollback()
                apply_errors(form, exc.fields)
                status = 422
            else:
                return redirect(url_for(".lost_link", sent=1))
        else:
            status = 422
    return render_template("ceremonies/lost_link.html", form=form, sent=request.args.get("sent") == "1"), status
