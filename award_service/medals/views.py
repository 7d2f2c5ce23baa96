"""Staff pages for medals: the list, a new medal, and each medal's quotas per district."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from ..districts.service import all_districts
from ..errors import DomainError, ValidationFailed
from ..extensions import db
from ..forms import ActionForm, apply_errors
from ..http import actor, refused, require
from ..i18n import locale_code
from . import service
from .forms import MedalForm, SignerForm
from .models import Medal

bp = Blueprint("medals", __name__, url_prefix="/staff/medals")


def _medal_or_404(code: str) -> Medal:
    medal = service.get_medal(db.session(), code)
    if medal is None:
        abort(404)
    return medal


def _typed_quotas(districts, current: dict[str, int] | None = None) -> tuple[dict[str, str], dict[str, str]]:
    """The quota boxes as typed: (all typed values, the ones to send: typed and changed)."""
    typed, changed = {}, {}
    for district in districts:
        raw = (request.form.get(f"quota-{district.code}") or "").strip()
        typed[district.code] = raw
        if raw == "" or (current is not None and raw == str(current.get(district.code, 0))):
            continue
        changed[district.code] = raw
    return typed, changed


def _split_errors(fields: dict) -> tuple[dict[str, str], dict[str, str]]:
    """A service's errors: (per district code, the rest)."""
    by_district, rest = {}, {}
    for key, message in fields.items():
        if key.startswith("quotas."):
            by_district[key.removeprefix("quotas.")] = str(message)
        else:
            rest[key] = message
    return by_district, rest


@bp.get("/")
@require("medals.view")
def index():
    return render_template("medals/index.html", medals=service.all_medals(db.session, with_quotas=True))


@bp.route("/new", methods=["GET", "POST"])
@require("medals.manage")
def create() -> ResponseReturnValue:
    form = MedalForm()
    districts = all_districts(db.session)
    typed: dict[str, str] = {}
    quota_errors: dict[str, str] = {}
    status = 200
    if request.method == "GET":
        form.award_year_from.data = "2025"
    else:
        typed, quotas = _typed_quotas(districts)
        try:
            medal = service.create_medal(db.session(), actor(), {**form.service_data(), "quotas": quotas})
        except ValidationFailed as exc:
            db.session.rollback()
            quota_errors, rest = _split_errors(exc.fields)
            apply_errors(form, rest)
            status = 422
        except DomainError as exc:
            status = refused(exc, form)
        else:
            flash(_("The medal %(name)s is added.", name=medal.name(locale_code())), "success")
            return redirect(url_for(".show", code=medal.code))
    return render_template(
        "medals/new.html", form=form, districts=districts, typed=typed, quota_errors=quota_errors
    ), status


def _render_show(medal: Medal, *, typed=None, quota_errors=None, form_errors=(), signer_form=None, status: int = 200):
    table = service.quota_table(db.session(), medal)
    totals = {key: sum(row[key] for row in table) for key in ("quota", "used", "left")}
    signer_form = signer_form or SignerForm(
        formdata=None,
        data={
            "signer_title_kk": medal.signer_title_kk,
            "signer_title_ru": medal.signer_title_ru,
            "signer_name": medal.signer_name,
        },
    )
    return render_template(
        "medals/show.html",
        medal=medal,
        table=table,
        totals=totals,
        typed=typed or {},
        quota_errors=quota_errors or {},
        form_errors=list(form_errors),
        form=ActionForm(formdata=None),
        signer_form=signer_form,
    ), status


@bp.post("/<code>/signer")
@require("medals.manage")
def set_signer(code: str):
    medal = _medal_or_404(code)
    form = SignerForm()
    if not form.validate_on_submit():
        return _render_show(medal, signer_form=form, status=422)
    upload = form.signature.data
    data = upload.read(service.MAX_SIGNATURE + 1) if upload else None
    try:
        service.set_signer(
            db.session(),
            actor(),
            medal,
            {k: form[k].data for k in ("signer_title_kk", "signer_title_ru", "signer_name")},
            signature=data or None,
            remove_signature=form.remove_signature.data,
        )
    except ValidationFailed as exc:
        db.session.rollback()
        apply_errors(form, exc.fields)
        return _render_show(_medal_or_404(code), signer_form=form, status=422)
    flash(_("The certificate signer is saved."), "success")
    return redirect(url_for(".show", code=medal.code))


@bp.get("/<code>")
@require("medals.view")
def show(code: str):
    return _render_show(_medal_or_404(code))


@bp.post("/<code>/quotas")
@require("medals.manage")
def set_quotas(code: str):
    medal = _medal_or_404(code)
    districts = all_districts(db.session)
    current = {row["district"].code: row["quota"] for row in service.quota_table(db.session(), medal)}
    typed, changed = _typed_quotas(districts, current)
    if not changed:
        flash(_("No quota was changed."), "info")
        return redirect(url_for(".show", code=medal.code))
    try:
        service.set_quotas(db.session(), actor(), medal, changed)
    except ValidationFailed as exc:
        db.session.rollback()
        quota_errors, rest = _split_errors(exc.fields)
        medal = _medal_or_404(code)
        return _render_show(
            medal, typed=typed, quota_errors=quota_errors, form_errors=[str(m) for m in rest.values()], status=422
        )
    except DomainError as exc:
        refused(exc)
        return redirect(url_for(".show", code=medal.code))
    lang = locale_code()
    flash(
        _(
            "Quotas saved: %(changes)s.",
            changes="; ".join(f"{d.name(lang)} — {int(changed[d.code])}" for d in districts if d.code in changed),
        ),
        "success",
    )
    return redirect(url_for(".show", code=medal.code))
