from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..errors import ValidationFailed
from ..extensions import db
from ..forms import apply_errors
from ..http import actor, require
from . import service
from .forms import DistrictForm

bp = Blueprint("districts", __name__, url_prefix="/staff/districts")


@bp.route("/", methods=["GET", "POST"])
@require("districts.manage")
def index():
    form = DistrictForm()
    status = 200
    if request.method == "POST":
        try:
            district = service.create_district(
                db.session, actor(), {k: getattr(form, k).data for k in ("code", "name_kk", "name_ru", "name_en")}
            )
        except ValidationFailed as exc:
            db.session.rollback()
            apply_errors(form, exc.fields)
            status = 422
        else:
            flash(_("The district %(code)s is added.", code=district.code), "success")
            return redirect(url_for(".index"))
    return render_template("admin/districts.html", districts=service.all_districts(db.session), form=form), status
