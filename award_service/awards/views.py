"""Staff pages for the award register: the clerk's printing page (filter,
preview, batch PDF, presentation sheet, mark presented, attach to a ceremony),
each certificate's page (history, presented, revoke and reissue); and the
public verification page behind the QR code."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select

from .. import codes
from ..audit import history
from ..ceremonies.models import Ceremony
from ..dates import local_today
from ..districts.service import all_districts
from ..errors import DomainError, NotFound, ValidationFailed
from ..extensions import db, limiter
from ..forms import apply_errors
from ..http import actor, check, refused, require
from ..i18n import local_date, locale_code
from ..medals.service import all_medals
from . import annex, printing, queries, revocation, service
from .forms import (
    FORMAT_LABELS,
    HISTORY_LABELS,
    NAME_LABELS,
    STATUS_LABELS,
    BulkForm,
    FilterForm,
    PresentedForm,
    ReissueForm,
    RevokeForm,
)
from .models import Award

bp = Blueprint("awards", __name__, url_prefix="/staff/awards")
public = Blueprint("verify", __name__)

EARLY = "ceremony_in_future"  # the service's code: ask to confirm
FILTER_KEYS = ("ceremony", "medal", "district", "status", "q", "format")


def _ceremony_choices(blank: str) -> list[tuple[str, str]]:
    ceremonies = db.session.scalars(
        select(Ceremony).where(Ceremony.status != "cancelled").order_by(Ceremony.starts_at.desc())
    )
    locale = locale_code()
    return [("", blank)] + [(str(c.id), f"{c.title(locale)} ({local_date(c.starts_at)})") for c in ceremonies]


def _filter_form() -> FilterForm:
    form = FilterForm(request.args)
    locale = locale_code()
    form.ceremony.choices = _ceremony_choices(_("Any ceremony"))
    form.medal.choices = [("", _("Any medal"))] + [(m.code, m.name(locale)) for m in all_medals(db.session())]
    form.district.choices = [("", _("Any district"))] + [(d.code, d.name(locale)) for d in all_districts(db.session)]
    return form


def _award_or_404(serial: str, permission: str = "awards.view") -> Award:
    try:
        award = queries.get_award(db.session, serial)
    except NotFound:
        abort(404)
    check(permission, award)
    return award


def _here() -> str:
    args: dict[str, Any] = {k: v for k, v in request.args.items() if k in (*FILTER_KEYS, "page") and v}
    return url_for("awards.index", **args)


def _bulk(form: BulkForm):
    """Mark the ticked certificates presented, or attach them to a ceremony."""
    action = request.form.get("action", "")
    serials = request.form.getlist("serials")
    try:
        if action == "present":
            check("awards.present")
            done = service.mark_presented(
                db.session, actor(), serials, form.date.data, confirm_early=form.confirm_early.data
            )
            flash(
                ngettext("%(num)d certificate marked presented.", "%(num)d certificates marked presented.", len(done)),
                "success",
            )
        elif action == "attach":
            check("awards.present")
            target = form.target.data
            ceremony = db.session.get(Ceremony, int(target)) if target and target.isdigit() else None
            if ceremony is None:
                raise ValidationFailed({"target": _("Choose the ceremony.")})
            done = service.attach_to_ceremony(db.session, actor(), ceremony, serials)
            flash(
                ngettext(
                    "%(num)d certificate attached to the ceremony.",
                    "%(num)d certificates attached to the ceremony.",
                    len(done),
                ),
                "success",
            )
        else:
            form.form_errors.append(_("Choose one of the action buttons under the list."))
            return 400
    except ValidationFailed as exc:
        db.session.rollback()
        if "serials" in exc.fields:
            form.form_errors.append(str(exc.fields.pop("serials")))
        apply_errors(form, exc.fields)
        return 422
    except DomainError as exc:
        if exc.code == EARLY:
            return _ask_to_confirm(form, exc)
        return refused(exc, form, prefix=_("Nothing was changed."))
    return redirect(_here())


def _ask_to_confirm(form, exc: DomainError) -> int:
    """The ceremony is more than a day away: the warning goes beside a box to
    tick, and the same button sends the form again."""
    db.session.rollback()
    apply_errors(form, {"confirm_early": f"{exc.message} {_('Nothing was changed.')}"})
    return exc.status


@bp.route("/", methods=["GET", "POST"])
@require("awards.view")
def index():
    filter_form = _filter_form()
    form = BulkForm()
    form.target.choices = _ceremony_choices(_("Choose a ceremony"))
    if not form.date.data:
        form.date.data = local_today().strftime("%d.%m.%Y")
    status, selected = 200, set()
    if request.method == "POST":
        outcome = _bulk(form)
        if not isinstance(outcome, int):
            return outcome
        status, selected = outcome, set(request.form.getlist("serials"))
    try:
        filters = queries.validate_filters(db.session, request.args)
    except ValidationFailed as exc:
        apply_errors(filter_form, exc.fields)
        return render_template(
            "awards/index.html",
            filter_form=filter_form,
            form=form,
            rows=[],
            pagination=None,
            page_args={},
            selected=selected,
            status_labels=STATUS_LABELS,
        ), 422
    page_args = {k: v for k, v in request.args.items() if k in FILTER_KEYS and v}
    page = request.args.get("page", "1")
    pagination = db.paginate(
        queries.list_query(current_user, **filters),
        page=int(page) if page.isdigit() and len(page) < 7 else 1,
        per_page=current_app.config["AWARD_PAGE_SIZE"],
        error_out=False,
    )
    if request.method == "GET" and request.args.get("select") == "all":
        selected = {a.serial for a in pagination.items}
    return render_template(
        "awards/index.html",
        filter_form=filter_form,
        form=form,
        rows=pagination.items,
        pagination=pagination,
        page_args=page_args,
        selected=selected,
        filters=filters,
        fmt=filter_form.format.data if filter_form.format.data in dict(FORMAT_LABELS) else "a4",
        status_labels={k: str(v) for k, v in STATUS_LABELS.items()},
    ), status


def _pdf_or_page(make):
    """A PDF, or the printing page again with what stood in the way."""
    try:
        return make()
    except DomainError as exc:
        refused(exc)
        return redirect(url_for("awards.index", **{k: v for k, v in request.args.items() if k in FILTER_KEYS}))


@bp.get("/batch.pdf")
@require("awards.print")
def batch_pdf():
    return _pdf_or_page(lambda: printing.batch_response(db.session, current_user, request.args))


@bp.get("/presentation-sheet.pdf")
@require("awards.print")
def presentation_sheet_pdf():
    return _pdf_or_page(lambda: printing.sheet_response(db.session, current_user, request.args))


@bp.get("/decree-annex.pdf")
@require("awards.view")
def decree_annex_pdf():
    """The list approved under one decree (``?number=&date=``), to sign."""

    def make():
        number, day = annex.decree_of(request.args)
        body = annex.annex_pdf(db.session, current_user, number, day)
        return printing.pdf_response(body, f"decree-{day.isoformat()}-annex.pdf")

    return _pdf_or_page(make)


def _render_show(award: Award, *, presented_form=None, revoke_form=None, reissue_form=None, status: int = 200):
    today = local_today().strftime("%d.%m.%Y")
    replacement = queries.replacement_of(db.session, award)
    return render_template(
        "awards/show.html",
        award=award,
        replacement=replacement,
        presented_form=presented_form or PresentedForm(data={"date": today}),
        revoke_form=revoke_form or RevokeForm(data=award.name_parts),
        reissue_form=reissue_form or ReissueForm(data=award.name_parts),
        events=history(db.session, "award", award.serial),
        history_labels=HISTORY_LABELS,
        name_labels=NAME_LABELS,
        status_labels=STATUS_LABELS,
        formats=FORMAT_LABELS,
        verify_url=printing.verify_url(award.verify_code),
        code=codes.grouped(award.verify_code),
    ), status


@bp.get("/<serial>")
@require("awards.view")
def show(serial: str):
    return _render_show(_award_or_404(serial))


@bp.get("/<serial>/certificate.pdf")
@require("awards.print")
def certificate_pdf(serial: str):
    award = _award_or_404(serial, "awards.print")
    return _pdf_or_page(
        lambda: printing.certificate_response(db.session, award, printing.check_format(request.args.get("format")))
    )


def _refused(award: Award, form, form_name: str, exc: DomainError):
    """The certificate page again, the form showing why it was refused."""
    db.session.rollback()
    if isinstance(exc, ValidationFailed):
        apply_errors(form, exc.fields)
    else:
        form.form_errors.append(str(exc.message))
    return _render_show(award, status=exc.status, **{form_name: form})


@bp.post("/<serial>/presented")
@require("awards.present")
def presented(serial: str):
    award = _award_or_404(serial, "awards.present")
    form = PresentedForm()
    if not form.validate_on_submit():
        return _render_show(award, presented_form=form, status=422)
    try:
        service.mark_presented(
            db.session, actor(), [award.serial], form.date.data, confirm_early=form.confirm_early.data
        )
    except DomainError as exc:
        if exc.code == EARLY:
            return _render_show(award, presented_form=form, status=_ask_to_confirm(form, exc))
        return _refused(award, form, "presented_form", exc)
    flash(_("Certificate %(serial)s marked presented.", serial=award.serial), "success")
    return redirect(url_for("awards.show", serial=award.serial))


@bp.post("/<serial>/revoke")
@require("awards.revoke")
def revoke(serial: str):
    award = _award_or_404(serial, "awards.revoke")
    form = RevokeForm()
    if not form.validate_on_submit():
        return _render_show(award, revoke_form=form, status=422)
    try:
        result = revocation.revoke(
            db.session, actor(), award, form.reason.data, reissue=form.reissue.data, corrections=form.corrections(award)
        )
    except DomainError as exc:
        return _refused(award, form, "revoke_form", exc)
    if result is not award:
        flash(
            _(
                "Certificate %(old)s revoked; certificate %(new)s issued in its place.",
                old=award.serial,
                new=result.serial,
            ),
            "success",
        )
        return redirect(url_for("awards.show", serial=result.serial))
    flash(_("Certificate %(serial)s revoked.", serial=award.serial), "success")
    return redirect(url_for("awards.show", serial=award.serial))


@bp.post("/<serial>/reissue")
@require("awards.revoke")
def reissue(serial: str):
    award = _award_or_404(serial, "awards.revoke")
    form = ReissueForm()
    if not form.validate_on_submit():
        return _render_show(award, reissue_form=form, status=422)
    try:
        new = revocation.reissue(
            db.session, actor(), award, reason=form.reason.data, corrections=form.corrections(award)
        )
    except DomainError as exc:
        return _refused(award, form, "reissue_form", exc)
    flash(_("Certificate %(new)s issued in place of %(old)s.", old=award.serial, new=new.serial), "success")
    return redirect(url_for("awards.show", serial=new.serial))


# ------------------------------------------------------------ verification


@public.get("/verify")
def verify_form():
    """A box to type the code printed under the QR code; a code that cannot be
    one is "not found" here, any other is looked up at its own address."""
    typed = request.args.get("code", "")
    if not typed.strip():
        return render_template("awards/verify.html", award=None, asking=True, typed="")
    code = codes.normalise(typed)
    if code is None:
        return render_template("awards/verify.html", award=None, asking=False, typed=typed[:40]), 404
    return redirect(url_for("verify.verify", code=code))


@public.get("/v/<code>")
@limiter.limit(lambda: current_app.config["AWARD_VERIFY_RATE_LIMIT"])
def verify(code: str):
    award = queries.find_by_code(db.session, code)
    if award is None:
        return render_template("awards/verify.html", award=None, asking=False, typed=code[:40]), 404
    return render_template(
        "awards/verify.html",
        award=award,
        revoked_on=printing.revoked_on(award),
        replacement=queries.replacement_of(db.session, award),
    )
