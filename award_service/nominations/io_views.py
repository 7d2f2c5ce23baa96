"""Staff pages for bulk work on nominations: templates, export, import.

Import is two requests: the upload shows a preview (every error with its row
and column, or the first rows and the total); "Save all" saves every row or
none.  The file waits in the database between the two (the app runs on
several servers), and is parsed again on saving.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms import HiddenField

from ..accounts.permissions import scoped_district_id
from ..districts.service import all_districts
from ..errors import Conflict, DomainError, ValidationFailed
from ..extensions import db
from ..http import actor, render_error, require
from ..i18n import locale_code
from ..medals.service import all_medals
from ..timeutil import utcnow
from . import exporter, importer, lists
from .forms import CATEGORY_LABELS

bp = Blueprint("nomination_io", __name__, url_prefix="/staff/nominations/io")

PREVIEW_ROWS = 20
# The multipart envelope around a file of MAX_BYTES.
UPLOAD_OVERHEAD = 256 * 1024
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ImportForm(FlaskForm):
    file = FileField(
        _l("File (CSV or XLSX)"),
        render_kw={"accept": ".xlsx,.csv,text/csv," + XLSX_MIMETYPE},
        description=_l("At most 20,000 rows and 20 MB. The first row names the columns, as in the template."),
    )


class SaveImportForm(FlaskForm):
    token = HiddenField()


@bp.url_value_preprocessor
def allow_large_upload(endpoint, values):
    # Runs before every before_request function (CSRF reads the body there):
    # the import takes files up to 20 MB, more than the app-wide limit.
    if endpoint == "nomination_io.import_nominations":
        request.max_content_length = max(
            current_app.config.get("MAX_CONTENT_LENGTH") or 0, importer.MAX_BYTES + UPLOAD_OVERHEAD
        )


@bp.errorhandler(RequestEntityTooLarge)
def upload_too_large(exc):
    if request.endpoint == "nomination_io.import_nominations":
        form = ImportForm(formdata=None)
        form.file.errors = [_("The file is larger than 20 MB. Split it into smaller files.")]
        return _upload_page(form, 413)
    return render_error(413)


def _category_labels() -> dict:
    return dict(CATEGORY_LABELS)


def _list_url() -> str | None:
    return url_for("nominations.index") if "nominations.index" in current_app.view_functions else None


def _districts() -> list:
    """The districts the user may import for."""
    scope = scoped_district_id(current_user)
    return [d for d in all_districts(db.session) if scope is None or d.id == scope]


def _upload_page(form: ImportForm, status: int = 200):
    return render_template(
        "nominations/import.html",
        form=form,
        columns=importer.COLUMNS,
        column_labels=dict(zip(importer.COLUMNS, importer.header_labels(importer.COLUMNS))),
        categories=list(_category_labels().items()),
        districts=_districts(),
        medals=[m for m in all_medals(db.session()) if m.active],
        back_url=_list_url(),
    ), status


# ---------------------------------------------------------------- templates


def _download(body, filename: str, mimetype: str) -> Response:
    # content_type, not mimetype: Werkzeug would add a second "; charset=utf-8" to a text/ type
    return Response(
        body,
        content_type=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


def _choices() -> dict[str, list[str]]:
    """What the template's drop-downs offer: names in the user's language."""
    lang = locale_code()
    return {
        "category": [str(label) for label in _category_labels().values()],
        "district": [d.name(lang) for d in _districts()],
        "medal": [m.name(lang) for m in all_medals(db.session()) if m.active],
    }


def _example_rows() -> list[dict]:
    choices = _choices()
    first = {name: (values[0] if values else "") for name, values in choices.items()}
    category = str(_category_labels()["home_front_worker"])
    return [importer.example_values(category, first["district"], first["medal"])]


def _header() -> list[str]:
    return importer.header_labels(importer.COLUMNS)


@bp.get("/template.csv")
@require("nominations.create")
def template_csv():
    """The empty template: the header only, in the user's language."""
    return _download(importer.build_csv(_header(), []), "nominations-template.csv", "text/csv; charset=utf-8")


@bp.get("/template.xlsx")
@require("nominations.create")
def template_xlsx():
    """The empty template, with drop-down lists for category, district and medal."""
    body = importer.build_xlsx(_header(), [], _choices(), title=_("Nominations"))
    return _download(body, "nominations-template.xlsx", XLSX_MIMETYPE)


@bp.get("/example.csv")
@require("nominations.create")
def example_csv():
    """The filled example: one made-up person, whom the import refuses."""
    return _download(
        importer.build_csv(_header(), _example_rows()), "nominations-example.csv", "text/csv; charset=utf-8"
    )


@bp.get("/example.xlsx")
@require("nominations.create")
def example_xlsx():
    body = importer.build_xlsx(_header(), _example_rows(), _choices(), title=_("Example"))
    return _download(body, "nominations-example.xlsx", XLSX_MIMETYPE)


# ------------------------------------------------------------------- export


def _filters():
    try:
        return lists.validate_filters(request.args), None
    except ValidationFailed as exc:
        message = " ".join(str(m) for m in exc.fields.values())
        return None, render_error(422, _("The filters are not valid: %(problem)s", problem=message))


@bp.get("/export.csv")
@require("nominations.export")
def export_csv():
    filters, error = _filters()
    if error:
        return error
    rows = exporter.export_rows(db.session, current_user, filters)
    body = stream_with_context(exporter.iter_csv(rows))
    return _download(body, f"nominations-{utcnow():%Y%m%d}.csv", "text/csv; charset=utf-8")


@bp.get("/export.xlsx")
@require("nominations.export")
def export_xlsx():
    filters, error = _filters()
    if error:
        return error
    body = exporter.build_xlsx(exporter.export_rows(db.session, current_user, filters))
    return _download(body, f"nominations-{utcnow():%Y%m%d}.xlsx", XLSX_MIMETYPE)


# ------------------------------------------------------------------- import


def _preview_page(preview, *, token: str | None = None, status: int = 200):
    lang = locale_code()
    return render_template(
        "nominations/import_preview.html",
        preview=preview,
        token=token,
        save_form=SaveImportForm(formdata=None, token=token),
        first_rows=preview.rows[:PREVIEW_ROWS],
        column_labels=dict(zip(importer.COLUMNS, importer.header_labels(importer.COLUMNS))),
        medal_names={m.code: m.name(lang) for m in all_medals(db.session())},
        category_labels=_category_labels(),
        district_names={d.code: d.name(lang) for d in all_districts(db.session)},
    ), status


@bp.route("/import", methods=["GET", "POST"])
@require("nominations.create")
def import_nominations():
    if request.method == "POST" and "token" in request.form:
        return _save()
    form = ImportForm()
    if request.method == "GET":
        return _upload_page(form)
    if not form.validate_on_submit():
        return _upload_page(form, 400)
    upload = form.file.data
    if upload is None or not getattr(upload, "filename", None):
        form.file.errors = [_("Choose the file to import.")]
        return _upload_page(form, 422)
    data = upload.read(importer.MAX_BYTES + 1)
    try:
        preview = importer.parse_upload(db.session, current_user, upload.filename, data)
    except DomainError as exc:
        db.session.rollback()
        return render_error(exc.status, exc.message)
    if not preview.ok:
        return _preview_page(preview, status=422)
    token = importer.store_upload(db.session, current_user, upload.filename, data)
    return _preview_page(preview, token=token)


def _save():
    form = SaveImportForm()
    if not form.validate_on_submit():
        return render_error(400)
    upload = importer.load_upload(db.session, current_user, form.token.data)
    if upload is None:
        flash(_("This upload has expired or was already saved. Upload the file again."), "error")
        return redirect(url_for(".import_nominations"))
    try:
        preview = importer.parse_upload(db.session, current_user, upload.filename, upload.data)
        count = importer.save(db.session, actor(), preview, upload=upload)
    except Conflict as exc:
        db.session.rollback()
        if exc.code == "import_already_saved":
            flash(str(exc.message), "error")
            return redirect(_list_url() or url_for(".import_nominations"))
        rows = exc.extra.get("rows") or []
        if rows and exc.code != "invalid":
            preview.errors = [importer.RowError(r["row"], r["column"], r["message"], r.get("value", "")) for r in rows]
        importer.discard_upload(db.session, upload)
        flash(str(exc.message), "error")
        return _preview_page(preview, status=409)
    except DomainError as exc:
        db.session.rollback()
        return render_error(exc.status, exc.message)
    flash(
        ngettext("%(num)d nomination is saved as a draft.", "%(num)d nominations are saved as drafts.", count),
        "success",
    )
    return redirect(url_for("nominations.index", status="draft") if _list_url() else url_for(".import_nominations"))
