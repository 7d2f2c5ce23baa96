"""The door: a page for a tablet, laptop or phone at the entrance.  A handheld
scanner types the ticket's code and Enter into the code field (which has the
focus); the page shows who it is and admits them with the companions who came
(Enter again); the next scan starts over.  People without their ticket are
found by name or phone."""

from __future__ import annotations

from collections.abc import Sequence

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from ..errors import Conflict, DomainError, NotFound
from ..extensions import db
from ..http import actor, check, require
from ..i18n import local_time, locale_code
from . import checkin, registrations, service, tickets
from .forms import CATEGORY_LABELS, CheckinForm, CodeForm
from .models import Ceremony, Registration

bp = Blueprint("checkin", __name__, url_prefix="/staff/ceremonies/<int:ceremony_id>/checkin")
MAX_FOUND = 30


def _ceremony(ceremony_id: int) -> Ceremony:
    try:
        ceremony = service.get_ceremony(db.session, ceremony_id, include_drafts=True)
    except NotFound:
        abort(404)
    check("checkin.manage", ceremony)
    return ceremony


def _at(moment) -> str:
    return local_time(moment)


def _page(
    ceremony: Ceremony,
    *,
    found: Registration | None = None,
    form: CheckinForm | None = None,
    code_form: CodeForm | None = None,
    problem: str | None = None,
    status: int = 200,
):
    q = (request.args.get("q") or "").strip()[:100]
    matches: Sequence[Registration] = []
    if q and found is None:
        matches = db.session.scalars(
            registrations.registrations_for(db.session, ceremony, q=q, status="confirmed").limit(MAX_FOUND)
        ).all()
    if found is not None and form is None:
        form = CheckinForm(formdata=None, data={"registration": found.id, "companions_arrived": found.companions})
    return render_template(
        "ceremonies/checkin.html",
        ceremony=ceremony,
        counts=checkin.counts(db.session, ceremony),
        code_form=code_form or CodeForm(formdata=None),
        found=found,
        form=form,
        problem=problem,
        q=q,
        matches=matches,
        admit_form=CheckinForm(formdata=None),
        category_labels=CATEGORY_LABELS,
        at=_at,
    ), status


@bp.get("/")
@require("checkin.manage")
def page(ceremony_id: int):
    return _page(_ceremony(ceremony_id))


@bp.get("/counts")
@require("checkin.manage")
def live_counts(ceremony_id: int):
    """Arrived / registered / capacity, for the page to refresh itself (several doors)."""
    counts = checkin.counts(db.session, _ceremony(ceremony_id))
    return {"arrived": counts.arrived, "registered": counts.registered, "capacity": counts.capacity}


@bp.post("/scan")
@require("checkin.manage")
def scan(ceremony_id: int):
    """A code scanned or typed: show who it is (nothing is recorded yet)."""
    ceremony = _ceremony(ceremony_id)
    code_form = CodeForm()
    if not code_form.validate_on_submit():
        return _page(ceremony, code_form=code_form, status=422)
    try:
        registration = checkin.ticket(db.session, code_form.code.data)
    except NotFound as exc:
        return _page(ceremony, code_form=code_form, problem=str(exc.message), status=404)
    return _found(ceremony, registration)


def _found(ceremony: Ceremony, registration: Registration, status: int = 200):
    """The person behind a ticket, or why they cannot come in."""
    if registration.ceremony_id != ceremony.id:
        title = registration.ceremony.title(locale_code())
        return _page(ceremony, problem=_("This ticket is for another ceremony: %(title)s.", title=title), status=409)
    if registration.status == "cancelled":
        return _page(
            ceremony,
            found=registration,
            problem=_("This registration was cancelled; the ticket is not valid."),
            status=409,
        )
    if registration.status == "waitlisted":
        return _page(ceremony, found=registration, problem=str(checkin.WAITLISTED), status=409)
    if registration.checked_in_at is not None:
        return _page(
            ceremony,
            found=registration,
            status=409,
            problem=_("Already checked in at %(time)s: do not admit again.", time=_at(registration.checked_in_at)),
        )
    return _page(ceremony, found=registration, status=status)


@bp.post("/admit")
@require("checkin.manage")
def admit(ceremony_id: int):
    ceremony = _ceremony(ceremony_id)
    form = CheckinForm()
    registration = (
        db.session.get(Registration, form.registration.data) if isinstance(form.registration.data, int) else None
    )
    if registration is None or registration.ceremony_id != ceremony.id:
        abort(404)
    if not form.validate_on_submit():
        return _page(ceremony, found=registration, form=form, status=422)
    try:
        admission = checkin.check_in(db.session, actor(), registration, form.companions_arrived.data, ceremony=ceremony)
    except DomainError as exc:
        db.session.rollback()
        form.companions_arrived.errors = list(exc.fields.values()) if exc.fields else []
        return _page(
            ceremony, found=registration, form=form, problem=None if exc.fields else str(exc.message), status=exc.status
        )
    if admission.already:
        return _found(ceremony, admission.registration)
    people = 1 + (admission.registration.companions_arrived or 0)  # set by the admission
    flash(
        ngettext(
            "Admitted: %(name)s, %(num)d person.",
            "Admitted: %(name)s, %(num)d people.",
            people,
            name=admission.registration.full_name,
        ),
        "success",
    )
    return redirect(url_for("checkin.page", ceremony_id=ceremony.id))


@bp.get("/tickets/<int:registration_id>.pdf")
@require("checkin.manage")
def ticket(ceremony_id: int, registration_id: int):
    """A registration's ticket for the desk to print or read out (phone-only
    registrations have no e-mail it was sent to)."""
    ceremony = _ceremony(ceremony_id)
    registration = db.session.get(Registration, registration_id)
    if registration is None or registration.ceremony_id != ceremony.id:
        abort(404)
    try:
        return tickets.ticket_response(registration)
    except Conflict as exc:
        return render_template("errors/error.html", status=exc.status, message=exc.message), exc.status
