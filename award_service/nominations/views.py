"""Staff pages for nominations: the "waiting for me" queue, the filtered list,
the nomination page with its decisions, documents and history, entering and
editing.  Thin: parse, call :mod:`.service`, render."""

from __future__ import annotations

import io

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ..accounts.permissions import can, scoped_district_id
from ..audit import history
from ..districts.service import all_districts
from ..errors import Conflict, DomainError, Forbidden, NotFound, ValidationFailed
from ..extensions import db
from ..forms import ActionForm, apply_errors
from ..http import actor, check, require
from ..i18n import local_date, locale_code
from ..medals.service import all_medals
from . import duplicates, service, transitions, workflow
from .forms import (
    CATEGORY_LABELS,
    FIELD_LABELS,
    HISTORY_LABELS,
    DocumentForm,
    NominationForm,
    TransitionForm,
)
from .models import Nomination, NominationDocument

bp = Blueprint("nominations", __name__, url_prefix="/staff/nominations")

EDITABLE = ("draft", "returned")
DOCUMENT_STATES = ("draft", "returned", "submitted")
EXTENSIONS = {"application/pdf": (".pdf",), "image/jpeg": (".jpg", ".jpeg"), "image/png": (".png",)}


def dmy(value) -> str:
    """A date as people read it in the page's language (the core's one format;
    also the ``dmy`` template filter): 14.03.1927."""
    return local_date(value)


# ----------------------------------------------------------------- helpers


def _nomination_or_404(nomination_id: int, permission: str = "nominations.view") -> Nomination:
    try:
        nomination = service.get_nomination(db.session(), nomination_id)
    except NotFound:
        abort(404)
    check(permission, nomination)  # 403 outside the user's district
    return nomination


def district_choices() -> list[tuple[str, str]]:
    scope = scoped_district_id(current_user)
    lang = locale_code()
    return [(d.code, d.name(lang)) for d in all_districts(db.session) if scope is None or d.id == scope]


def medal_choices(*, active_only: bool = False) -> list[tuple[str, str]]:
    lang = locale_code()
    return [(m.code, m.name(lang)) for m in all_medals(db.session()) if m.active or not active_only]


def int_or_none(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _stale_message(nomination_id: int) -> str:
    return _(
        "Someone else changed nomination № %(id)d while you had it open, so nothing was done. "
        "Here is its current state: check it and decide again.",
        id=nomination_id,
    )


# ------------------------------------------------------------ lists, queue


# ----------------------------------------------------------- entering


def _nomination_form(*, data: dict | None = None) -> NominationForm:
    form = NominationForm(data=data) if data is not None else NominationForm()
    form.set_choices(district_choices(), medal_choices(active_only=True))
    return form


def _form_data(n: Nomination) -> dict:
    nominee = n.nominee
    return {
        "surname": nominee.surname,
        "given_name": nominee.given_name,
        "patronymic": nominee.patronymic,
        "iin": nominee.iin or "",
        "birth_date": dmy(nominee.birth_date),
        "category": nominee.category,
        "district": nominee.district.code,
        "address": nominee.address,
        "phone": nominee.phone or "",
        "medal": n.medal.code,
        "grounds": n.grounds,
        "version": n.version,
    }


def _entry_failed(form: NominationForm, exc: DomainError) -> tuple[int, int | None]:
    """Show a refused save on the form: (status, id of the existing nomination)."""
    db.session.rollback()
    if exc.fields:
        form.apply_service_errors(exc.fields)
    if not isinstance(exc, ValidationFailed):
        form.form_errors.append(str(exc.message))
    return exc.status, exc.extra.get("existing_id") if exc.code == "duplicate_nominee" else None


@bp.route("/new", methods=["GET", "POST"])
@require("nominations.create")
def create():
    form = _nomination_form()
    if request.method == "GET" and len(form.district.choices) == 1:
        form.district.data = form.district.choices[0][0]
    status, existing_id = 200, None
    if request.method == "POST":
        try:
            nomination = service.create_nomination(db.session, actor(), form.service_data())
        except DomainError as exc:
            status, existing_id = _entry_failed(form, exc)
        else:
            flash(
                _(
                    "Nomination № %(id)d is saved as a draft. Check it, add documents, then submit it for review.",
                    id=nomination.id,
                ),
                "success",
            )
            return redirect(url_for(".show", nomination_id=nomination.id))
    return render_template("nominations/edit.html", form=form, nomination=None, existing_id=existing_id), status


@bp.route("/<int:nomination_id>/edit", methods=["GET", "POST"])
@require("nominations.create")
def edit(nomination_id: int):
    nomination = _nomination_or_404(nomination_id, "nominations.create")
    if nomination.status not in EDITABLE:
        flash(_("Only a draft or a nomination returned for changes can be edited."), "error")
        return redirect(url_for(".show", nomination_id=nomination.id))
    form = _nomination_form(data=None if request.method == "POST" else _form_data(nomination))
    status, existing_id = 200, None
    if request.method == "POST":
        version = int_or_none(form.version.data)
        if version is not None and version != nomination.version:
            flash(_stale_message(nomination.id), "error")
            return redirect(url_for(".show", nomination_id=nomination.id))
        try:
            service.update_nomination(db.session(), actor(), nomination, form.service_data(with_medal=False))
        except Conflict as exc:
            if exc.code != "duplicate_nominee":  # changed or submitted meanwhile
                db.session.rollback()
                flash(_stale_message(nomination.id) if exc.code == "conflict" else str(exc.message), "error")
                return redirect(url_for(".show", nomination_id=nomination.id))
            status, existing_id = _entry_failed(form, exc)
        except DomainError as exc:
            status, existing_id = _entry_failed(form, exc)
        else:
            flash(_("Your changes to nomination № %(id)d are saved.", id=nomination.id), "success")
            return redirect(url_for(".show", nomination_id=nomination.id))
    return render_template("nominations/edit.html", form=form, nomination=nomination, existing_id=existing_id), status


# ------------------------------------------------------- the nomination page


def _page_actions(n: Nomination) -> tuple[list[workflow.Transition], list[str]]:
    """The steps this user may take now, and why a step of their role is barred."""
    steps, barred, seen = [], [], set()
    for step in workflow.available(n.status):
        if step.action in seen:
            continue
        seen.add(step.action)
        try:
            transitions.check_transition(current_user, n, step.action)
        except Forbidden as exc:
            if current_user.has_role(step.role) and str(exc.message) not in barred:
                barred.append(str(exc.message))
        except DomainError:
            continue
        else:
            steps.append(step)
    return steps, barred


def _render_show(
    n: Nomination, *, form: TransitionForm | None = None, document_form: DocumentForm | None = None, status: int = 200
):
    if form is None:
        form = TransitionForm(formdata=None)
        form.version.data = str(n.version)  # rendered as text either way
    steps, barred = _page_actions(n)
    similar = []
    if n.possible_duplicate:
        ids = duplicates.likely_duplicates(
            db.session(), n.medal_id, n.nominee.birth_date, n.nominee.name_skeleton, exclude_id=n.id
        )
        if ids:
            similar = list(db.session.scalars(select(Nomination).where(Nomination.id.in_(ids)).order_by(Nomination.id)))
    may_enter = current_user.has_role("nominator") and can(current_user, "nominations.create", n)
    return render_template(
        "nominations/show.html",
        nomination=n,
        form=form,
        document_form=document_form or DocumentForm(formdata=None),
        withdraw_form=ActionForm(formdata=None),
        steps=[s for s in steps if s.action != "withdraw"],
        can_withdraw=any(s.action == "withdraw" for s in steps),
        barred=barred,
        needs_decree=any(s.needs_decree for s in steps),
        can_submit=any(s.action == "submit" for s in steps),
        similar=similar,
        events=history(db.session, "nomination", n.id),
        awards=list(getattr(n, "awards", ())) if can(current_user, "awards.view", n) else [],
        can_edit=may_enter and n.status in EDITABLE,
        can_upload=may_enter and n.status in DOCUMENT_STATES,
        action_labels=workflow.ACTION_LABELS,
        status_labels=workflow.STATUS_LABELS,
        category_labels=CATEGORY_LABELS,
        history_labels=HISTORY_LABELS,
        field_labels=FIELD_LABELS,
    ), status


@bp.get("/<int:nomination_id>")
@require("nominations.view")
def show(nomination_id: int):
    return _render_show(_nomination_or_404(nomination_id))


@bp.post("/<int:nomination_id>/transition")
@require("nominations.view")
def transition(nomination_id: int):
    nomination = _nomination_or_404(nomination_id)
    form = TransitionForm()
    action = request.form.get("action", "")
    version = int_or_none(form.version.data)
    # A page opened before someone else's decision: say so, whatever the step
    # (the service checks the state before the version).
    if version is not None and version != nomination.version:
        flash(_stale_message(nomination.id), "error")
        return redirect(url_for(".show", nomination_id=nomination.id))
    try:
        transitions.transition(
            db.session(),
            actor(),
            nomination,
            action,
            comment=form.comment.data,
            decree_number=form.decree_number.data,
            decree_date=form.decree_date.data,
            confirm_duplicate=bool(form.confirm_duplicate.data),
            expected_version=version,
        )
    except ValidationFailed as exc:
        db.session.rollback()
        apply_errors(form, exc.fields)
        return _render_show(nomination, form=form, status=422)
    except Conflict as exc:
        db.session.rollback()
        if exc.code == "duplicate_nominee":
            form.confirm_duplicate.errors = [str(exc.message)]
            return _render_show(nomination, form=form, status=409)
        flash(_stale_message(nomination.id) if exc.code == "conflict" else str(exc.message), "error")
        return redirect(url_for(".show", nomination_id=nomination.id))
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc.message), "error")
        return redirect(url_for(".show", nomination_id=nomination.id))
    flash(
        _(
            "Done: nomination № %(id)d is now %(status)s.",
            id=nomination.id,
            status=workflow.STATUS_LABELS[nomination.status],
        ),
        "success",
    )
    return redirect(url_for(".show", nomination_id=nomination.id))


# ----------------------------------------------------------------- documents


@bp.post("/<int:nomination_id>/documents")
@require("nominations.create")
def upload(nomination_id: int):
    nomination = _nomination_or_404(nomination_id, "nominations.create")
    document_form = DocumentForm()
    upload_file = request.files.get("document")
    if upload_file is None or not upload_file.filename:
        document_form.document.errors = [_("Choose a file to upload.")]
        return _render_show(nomination, document_form=document_form, status=422)
    data = upload_file.read(service.MAX_DOCUMENT_SIZE + 1)
    filename = upload_file.filename.replace("\\", "/").rsplit("/", 1)[-1]
    try:
        document = service.add_document(db.session(), actor(), nomination, filename, data)
    except ValidationFailed as exc:
        db.session.rollback()
        apply_errors(document_form, exc.fields)
        return _render_show(nomination, document_form=document_form, status=422)
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc.message), "error")
        return redirect(url_for(".show", nomination_id=nomination.id))
    flash(_("The document %(name)s is added.", name=document.filename), "success")
    return redirect(url_for(".show", nomination_id=nomination.id, _anchor="documents"))


@bp.get("/<int:nomination_id>/documents/<int:document_id>")
@require("nominations.view")
def download(nomination_id: int, document_id: int):
    nomination = _nomination_or_404(nomination_id)
    document = db.session.get(NominationDocument, document_id)
    if document is None or document.nomination_id != nomination.id:
        abort(404)
    name = document.filename
    if not name.lower().endswith(EXTENSIONS[document.content_type]):
        name += EXTENSIONS[document.content_type][0]  # the file opens as what it is
    response = send_file(
        io.BytesIO(document.data),
        mimetype=document.content_type,
        as_attachment=True,
        download_name=name,
        conditional=False,
        etag=False,
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


from . import list_views  # noqa: E402,F401  (the queue and list routes on this blueprint)
