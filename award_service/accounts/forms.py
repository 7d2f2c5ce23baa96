from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.fields import EmailField
from wtforms.validators import InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..forms import select_choices

ROLE_LABELS = {
    "admin": _l("Administrator"),
    "organiser": _l("Organiser"),
    "nominator": _l("Nominator"),
    "reviewer": _l("Reviewer"),
    "commission": _l("Commission member"),
    "clerk": _l("Clerk"),
}


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[InputRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[InputRequired(), Length(max=200)])


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class UserForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[InputRequired(), Length(max=254)])
    name = StringField(_l("Full name"), validators=[InputRequired(), Length(max=200)])
    roles = CheckboxesField(_l("Roles"), choices=select_choices(ROLE_LABELS.items()), validate_choice=False)
    district = SelectField(_l("District (leave empty for the whole region)"), validators=[Optional()])
    password = PasswordField(
        _l("Password"),
        validators=[Optional(), Length(max=200)],
        description=_l("At least 10 characters. Leave empty to keep the current password."),
    )
    active = BooleanField(_l("Active"), default=True)

    def service_data(self, creating: bool) -> dict:
        data = {
            "email": self.email.data,
            "name": self.name.data,
            "roles": self.roles.data or [],
            "district": self.district.data or None,
            "password": self.password.data or "",
        }
        if not creating:
            data["active"] = self.active.data
        return data
