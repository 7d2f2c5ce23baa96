"""Login, logout, the staff home page and the admin's user pages."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from ..audit import history
from ..audit.display import HistoryLabels, present, with_values
from ..districts.service import all_districts
from ..errors import DomainError, ValidationFailed
from ..extensions import db, limiter
from ..forms import ActionForm, apply_errors
from ..http import actor, refused, require, safe_next
from ..i18n import locale_code
from ..telemetry import LOGIN_FAILURES
from . import service
from .forms import ROLE_LABELS, LoginForm, UserForm
from .history import USER_HISTORY
from .models import User

bp = Blueprint("accounts", __name__, url_prefix="/staff")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["AWARD_LOGIN_RATE_LIMIT"], methods=["POST"])
def login():
    form = LoginForm()
    if current_user.is_authenticated and request.method == "GET":
        return redirect(url_for(".home"))
    status = 200
    if form.validate_on_submit():
        user = service.authenticate(db.session, form.email.data, form.password.data)
        if user is not None:
            login_user(user)
            service.record_login(db.session, user, actor())
            return redirect(safe_next(request.args.get("next"), url_for(".home")))
        form.form_errors.append(_("The e-mail or password is not right."))
        LOGIN_FAILURES.labels("password").inc()
        status = 401
    elif request.method == "POST":
        status = 422
    return render_template("accounts/login.html", form=form), status


@bp.post("/logout")
@login_required
def logout():
    logout_user()
    flash(_("You have logged out."), "success")
    return redirect(url_for("ceremonies.index"))


@bp.get("/")
@login_required
def home():
    return render_template("accounts/home.html", role_labels=ROLE_LABELS)


def _district_choices(form: UserForm) -> None:
    lang = locale_code()
    form.district.choices = [("", _("Whole region"))] + [(d.code, d.name(lang)) for d in all_districts(db.session)]


@bp.get("/users")
@require("users.manage")
def users():
    rows = db.session.scalars(select(User).order_by(User.name)).all()
    return render_template("accounts/users.html", users=rows, role_labels=ROLE_LABELS)


@bp.route("/users/new", methods=["GET", "POST"])
@require("users.manage")
def create_user():
    form = UserForm()
    _district_choices(form)
    status = 200
    if request.method == "POST":
        try:
            user = service.create_user(db.session, actor(), **dict(form.service_data(True).items()))
        except ValidationFailed as exc:
            db.session.rollback()
            apply_errors(form, exc.fields)
            status = 422
        else:
            flash(_("The user %(email)s is created.", email=user.email), "success")
            return redirect(url_for(".users"))
    return render_template("accounts/user_edit.html", form=form, user=None), status


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@require("users.manage")
def edit_user(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    if request.method == "GET":
        form = UserForm(
            data={
                "email": user.email,
                "name": user.name,
                "roles": sorted(user.roles),
                "district": user.district.code if user.district else "",
                "active": user.active,
            }
        )
    else:
        form = UserForm()
    _district_choices(form)
    status = 200
    if request.method == "POST":
        try:
            service.update_user(db.session, actor(), user, form.service_data(False))
        except ValidationFailed as exc:
            db.session.rollback()
            apply_errors(form, exc.fields)
            status = 422
        except DomainError as exc:
            status = refused(exc)
        else:
            flash(_("Saved."), "success")
            return redirect(url_for(".users"))
    return render_template(
        "accounts/user_edit.html",
        form=form,
        user=user,
        token_form=ActionForm(),
        rows=present(history(db.session, "user", user.id), _user_history_labels()),
    ), status


def _user_history_labels() -> HistoryLabels:
    locale = locale_code()
    return with_values(USER_HISTORY, "district", {d.code: d.name(locale) for d in all_districts(db.session)})


@bp.post("/users/<int:user_id>/token")
@require("users.manage")
def create_token(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    token = service.create_api_token(db.session, actor(), user)
    return render_template("accounts/token.html", user=user, token=token)
