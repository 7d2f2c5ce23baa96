"""Organisers' pages: ceremonies, their registrations, history."""

from __future__ import annotations

import csv
import io
from typing import Any

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from ..accounts.permissions import scoped_district_id
from ..audit import history
from ..audit.display import present, with_values
from ..districts.service import all_districts
from ..errors import Conflict, DomainError, NotFound, ValidationFailed
from ..extensions import db
from ..forms import ActionForm, apply_errors
from ..http import actor, check, require
from ..i18n import locale_code
from ..spreadsheets import BOM, CSV_MIMETYPE, export_text
from ..timeutil import to_local, utcnow
from . import registrations, service, waitlist
from .forms import CATEGORY_LABELS, CeremonyForm, ReasonForm, RegistrationForm, RegistrationSearchForm
from .history import CEREMONY_HISTORY, REGISTRATION_HISTORY
from .models import Ceremony, Registration
from .states import CEREMONY_TRANSITIONS, CeremonyStatus, RegistrationStatus

bp = Blueprint("staff_ceremonies", __name__, url_prefix="/staff/ceremonies")


def _ceremony_or_404(ceremony_id: int, permission: str = "ceremonies.manage") -> Ceremony:
    try:
        ceremony = service.get_ceremony(db.session, ceremony_id, include_drafts=True)
    except NotFound:
        abort(404)
    check(permission, ceremony)
    return ceremony


def _district_choices(form: CeremonyForm) -> None:
    scope = scoped_district_id(current_user)
    lang = locale_code()
    form.district.choices = [("", _("— choose —"))] + [
        (d.code, d.name(lang)) for d in all_districts(db.session) if scope is None or d.id == scope
    ]


@bp.get("/")
@require("ceremonies.view_all")
def index():
    stmt = select(Ceremony).order_by(Ceremony.starts_at.desc(), Ceremony.id.desc())
    scope = scoped_district_id(current_user)
    if scope is not None:
        stmt = stmt.where(Ceremony.district_id == scope)
    return render_template("ceremonies/staff_index.html", ceremonies=db.session.scalars(stmt).all())


@bp.route("/new", methods=["GET", "POST"])
@require("ceremonies.manage")
def create():
    form = CeremonyForm()
    _district_choices(form)
    status = 200
    if request.method == "POST":
        data = form.service_data()
        data["status"] = "published" if request.form.get("publish") else "draft"
        try:
            ceremony = service.create_ceremony(db.session, actor(), data, tz=current_app.config["AWARD_TIMEZONE"])
        except ValidationFailed as exc:
            apply_errors(form, exc.fields)
            status = 422
        except DomainError as exc:
            flash(str(exc.message), "error")
            status = exc.status
        else:
            flash(_("The ceremony is saved."), "success")
            return redirect(url_for(".show", ceremony_id=ceremony.id))
    return render_template("ceremonies/edit.html", form=form, ceremony=None), status


@bp.route("/<int:ceremony_id>/edit", methods=["GET", "POST"])
@require("ceremonies.manage")
def edit(ceremony_id: int):
    ceremony = _ceremony_or_404(ceremony_id)
    form = CeremonyForm(obj=None if request.method == "POST" else _FormObject(ceremony))
    _district_choices(form)
    status = 200
    if request.method == "POST":
        try:
            service.update_ceremony(
                db.session, actor(), ceremony, form.service_data(), tz=current_app.config["AWARD_TIMEZONE"]
            )
        except ValidationFailed as exc:
            db.session.rollback()
            apply_errors(form, exc.fields)
            status = 422
        except DomainError as exc:
            db.session.rollback()
            flash(str(exc.message), "error")
            status = exc.status
        else:
            flash(_("The ceremony is saved."), "success")
            return redirect(url_for(".show", ceremony_id=ceremony.id))
    return render_template("ceremonies/edit.html", form=form, ceremony=ceremony), status


class _FormObject:
    """A ceremony as the form shows it: times in the deployment's zone."""

    def __init__(self, ceremony: Ceremony):
        tz = current_app.config["AWARD_TIMEZONE"]
        for name in CeremonyForm.DATA_FIELDS:
            value: Any = getattr(ceremony, name) if name != "district" else ceremony.district.code
            if name in ("starts_at", "registration_opens_at", "registration_closes_at") and value is not None:
                value = to_local(value, tz).replace(tzinfo=None)
            setattr(self, name, value)


@bp.get("/<int:ceremony_id>")
@require("ceremonies.view_all")
def show(ceremony_id: int):
    ceremony = _ceremony_or_404(ceremony_id, "ceremonies.view_all")
    search = RegistrationSearchForm(request.args)
    stmt = registrations.registrations_for(db.session, ceremony, q=search.q.data, status=search.status.data or None)
    page = min(max(request.args.get("page", 1, type=int), 1), 1_000_000)
    pagination = db.paginate(stmt, page=page, per_page=current_app.config["AWARD_PAGE_SIZE"], error_out=False)
    confirmed = db.session.scalar(
        select(func.count()).where(Registration.ceremony_id == ceremony.id, Registration.status == "confirmed")
    )
    return render_template(
        "ceremonies/staff_show.html",
        ceremony=ceremony,
        search=search,
        pagination=pagination,
        registrations_count=confirmed,
        action_form=ActionForm(),
        reason_form=ReasonForm(),
        transitions=CEREMONY_TRANSITIONS,
        category_labels=CATEGORY_LABELS,
        waiting=waitlist.waiting(db.session, ceremony.id),
    )


@bp.post("/<int:ceremony_id>/waitlist/<int:registration_id>/<direction>")
@require("registrations.manage")
def move_waiting(ceremony_id: int, registration_id: int, direction: str):
    """Move someone up or down the waiting list (one place)."""
    ceremony = _ceremony_or_404(ceremony_id, "registrations.manage")
    registration = db.session.get(Registration, registration_id)
    if registration is None or registration.ceremony_id != ceremony.id or direction not in ("up", "down"):
        abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        place = waitlist.move(db.session, actor(), registration, direction)
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc.message), "error")
    else:
        flash(_("%(name)s is now number %(n)d on the waiting list.", name=registration.full_name, n=place), "success")
    return redirect(url_for(".show", ceremony_id=ceremony.id) + "#waiting-list")


@bp.post("/<int:ceremony_id>/<action>")
@require("ceremonies.manage")
def transition(ceremony_id: int, action: str):
    ceremony = _ceremony_or_404(ceremony_id)
    if action not in CEREMONY_TRANSITIONS:
        abort(404)
    form = ReasonForm()
    try:
        service.transition_ceremony(db.session, actor(), ceremony, action, reason=form.reason.data or None)
    except DomainError as exc:
        flash(str(exc.message), "error")
    else:
        flash(_("Done: the ceremony is now %(status)s.", status=CeremonyStatus(ceremony.status).phrase), "success")
    return redirect(url_for(".show", ceremony_id=ceremony_id))


@bp.route("/<int:ceremony_id>/registrations/new", methods=["GET", "POST"])
@require("registrations.manage")
def register_on_behalf(ceremony_id: int):
    ceremony = _ceremony_or_404(ceremony_id, "registrations.manage")
    form = RegistrationForm()
    status = 200
    if request.method == "POST":
        try:
            registration = registrations.register(
                db.session,
                actor(),
                ceremony.id,
                form.service_data(),
                language=locale_code(),
                source="staff",
                staff_override_window=True,
            )
        except ValidationFailed as exc:
            apply_errors(form, exc.fields)
            status = 422
        except Conflict as exc:
            flash(str(exc.message), "error")
            status = 409
        else:
            link = current_app.config["AWARD_BASE_URL"] + url_for("ceremonies.manage", token=registration.token)
            position = waitlist.position(db.session, registration)
            if position is not None:
                flash(
                    _(
                        "All seats are taken: %(name)s is added to the waiting list, position %(n)d "
                        "(%(seats)d seat(s)). Manage link: %(link)s",
                        name=registration.full_name,
                        n=position,
                        seats=registration.seats,
                        link=link,
                    ),
                    "info",
                )
            else:
                flash(
                    _(
                        "Registered: %(name)s, %(seats)d seat(s). Manage link: %(link)s",
                        name=registration.full_name,
                        seats=registration.seats,
                        link=link,
                    ),
                    "success",
                )
            return redirect(url_for(".show", ceremony_id=ceremony.id))
        db.session.rollback()
        ceremony = _ceremony_or_404(ceremony_id, "registrations.manage")
    return render_template(
        "ceremonies/on_behalf.html",
        ceremony=ceremony,
        form=form,
        waiting=len(waitlist.waiting(db.session, ceremony.id)),
    ), status


@bp.post("/<int:ceremony_id>/registrations/<int:registration_id>/cancel")
@require("registrations.manage")
def cancel_registration(ceremony_id: int, registration_id: int):
    ceremony = _ceremony_or_404(ceremony_id, "registrations.manage")
    registration = db.session.get(Registration, registration_id)
    if registration is None or registration.ceremony_id != ceremony.id:
        abort(404)
    form = ReasonForm()
    previous = registration.status
    try:
        registrations.cancel_registration(db.session, actor(), registration, reason=form.reason.data or None)
    except DomainError as exc:
        flash(str(exc.message), "error")
    else:
        if previous == "waitlisted":
            flash(_("%(name)s is taken off the waiting list.", name=registration.full_name), "success")
        else:
            flash(_("The registration of %(name)s is cancelled.", name=registration.full_name), "success")
    return redirect(url_for(".show", ceremony_id=ceremony_id))


@bp.get("/<int:ceremony_id>/registrations.csv")
@require("registrations.manage")
def export_csv(ceremony_id: int):
    ceremony = _ceremony_or_404(ceremony_id, "registrations.manage")
    stmt = registrations.registrations_for(
        db.session, ceremony, q=request.args.get("q"), status=request.args.get("status") or None
    )
    zone = current_app.config["AWARD_TIMEZONE"]
    out = io.StringIO()
    out.write(BOM)  # so that Excel opens UTF-8 (Kazakh letters) correctly
    writer = csv.writer(out)
    writer.writerow(
        [
            _("No."),
            _("Full name"),
            _("Phone"),
            _("E-mail"),
            _("Seats"),
            _("Companions"),
            _("Category"),
            _("Wheelchair access"),
            _("Hearing assistance"),
            _("A seat near the exit"),
            _("Other needs"),
            _("Status"),
            _("Registered at"),
            _("Checked in"),
            _("Status code"),
        ]
    )
    yes, no = _("yes"), _("no")
    status_labels = RegistrationStatus.labels()
    for r in db.session.scalars(stmt):
        writer.writerow(
            [
                export_text(v, zone)
                for v in (
                    r.id,
                    r.full_name,
                    r.phone,
                    r.email,
                    r.seats,
                    r.companions,
                    str(CATEGORY_LABELS[r.category]),
                    yes if r.needs_wheelchair else no,
                    yes if r.needs_hearing else no,
                    yes if r.needs_near_exit else no,
                    r.needs_note,
                    str(status_labels.get(r.status, r.status)),
                    r.created_at,
                    r.checked_in_at,
                    r.status,
                )
            ]
        )
    filename = f"registrations-{ceremony.id}-{utcnow():%Y%m%d}.csv"
    return Response(
        out.getvalue().encode("utf-8"),
        content_type=CSV_MIMETYPE,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _ceremony_history_labels():
    locale = locale_code()
    return with_values(CEREMONY_HISTORY, "district", {d.code: d.name(locale) for d in all_districts(db.session)})


@bp.get("/<int:ceremony_id>/history")
@require("audit.view")
def ceremony_history(ceremony_id: int):
    ceremony = _ceremony_or_404(ceremony_id, "audit.view")
    return render_template(
        "audit/history.html",
        title=ceremony.title(locale_code()),
        rows=present(history(db.session, "ceremony", ceremony.id), _ceremony_history_labels()),
        back=url_for(".show", ceremony_id=ceremony.id),
    )


@bp.get("/<int:ceremony_id>/registrations/<int:registration_id>/history")
@require("audit.view")
def registration_history(ceremony_id: int, registration_id: int):
    ceremony = _ceremony_or_404(ceremony_id, "audit.view")
    registration = db.session.get(Registration, registration_id)
    if registration is None or registration.ceremony_id != ceremony.id:
        abort(404)
    return render_template(
        "audit/history.html",
        title=registration.full_name,
        rows=present(history(db.session, "registration", registration.id), REGISTRATION_HISTORY),
        back=url_for(".show", ceremony_id=ceremony.id),
    )
