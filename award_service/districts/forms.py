from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import InputRequired, Length


class DistrictForm(FlaskForm):
    code = StringField(
        _l("Code"),
        validators=[InputRequired(), Length(max=32)],
        description=_l("Lower-case Latin letters, for example zhezkazgan."),
    )
    name_kk = StringField(_l("Name (Kazakh)"), validators=[InputRequired(), Length(max=200)])
    name_ru = StringField(_l("Name (Russian)"), validators=[InputRequired(), Length(max=200)])
    name_en = StringField(_l("Name (English)"), validators=[InputRequired(), Length(max=200)])
