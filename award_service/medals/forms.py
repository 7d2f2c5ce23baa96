from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, StringField
from wtforms.validators import InputRequired, Length, Optional

YEAR = {"inputmode": "numeric", "autocomplete": "off"}


class MedalForm(FlaskForm):
    """A new medal; the quota of each district is typed in the table under it."""

    code = StringField(
        _l("Code"),
        validators=[InputRequired(), Length(max=32)],
        description=_l("Lower-case Latin letters and digits, for example victory80. It cannot be changed later."),
    )
    name_kk = StringField(_l("Name (Kazakh)"), validators=[InputRequired(), Length(max=300)])
    name_ru = StringField(_l("Name (Russian)"), validators=[InputRequired(), Length(max=300)])
    name_en = StringField(_l("Name (English)"), validators=[InputRequired(), Length(max=300)])
    serial_prefix = StringField(
        _l("Serial number prefix"),
        validators=[InputRequired(), Length(max=8)],
        description=_l("1–8 capital Latin letters or digits, printed before the certificate number, for example ULY."),
    )
    award_year_from = StringField(
        _l("First year of award"), validators=[InputRequired()], render_kw=YEAR, description=_l("For example 2025.")
    )
    award_year_to = StringField(
        _l("Last year of award"),
        validators=[Optional()],
        render_kw=YEAR,
        description=_l("Leave empty if there is no end."),
    )

    DATA_FIELDS = ("code", "name_kk", "name_ru", "name_en", "serial_prefix", "award_year_from", "award_year_to")

    def service_data(self) -> dict:
        return {name: (getattr(self, name).data or "").strip() for name in self.DATA_FIELDS}


class SignerForm(FlaskForm):
    """Who signs the certificates of this medal."""

    signer_title_kk = StringField(
        _l("Signer's title (Kazakh)"),
        validators=[Optional(), Length(max=300)],
        description=_l("For example: Ұлытау облысының әкімі"),
    )
    signer_title_ru = StringField(
        _l("Signer's title (Russian)"),
        validators=[Optional(), Length(max=300)],
        description=_l("For example: Аким области Ұлытау"),
    )
    signer_name = StringField(_l("Signer's name"), validators=[Optional(), Length(max=200)])
    signature = FileField(_l("Signature image (PNG or JPEG, optional)"))
    remove_signature = BooleanField(_l("Remove the signature image"))
