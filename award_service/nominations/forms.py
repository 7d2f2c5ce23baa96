"""Forms of the nomination pages.

The forms only carry what was typed: the service checks it (one rule, one
place, shared with the API) and its field errors are shown beside the fields.
The validators below only mark fields as required for the page.
"""

from __future__ import annotations

from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields import TelField
from wtforms.validators import InputRequired, Length, Optional

from ..dates import local_today
from ..forms import apply_errors
from .models import NOMINEE_CATEGORIES
from .nominees import NOMINEE_FIELDS

CATEGORY_LABELS = {
    "front_veteran": _l("Front-line veteran"),
    "home_front_worker": _l("Home-front worker"),
    "siege_survivor": _l("Survivor of the siege of Leningrad"),
    "partisan": _l("Partisan"),
    "former_prisoner": _l("Former prisoner of a concentration camp"),
    "other_participant": _l("Other participant of the war"),
}
assert set(CATEGORY_LABELS) == set(NOMINEE_CATEGORIES)

# What happened, as the history table says it (past tense).
HISTORY_LABELS = {
    "nomination.create": _l("Entered"),
    "nomination.update": _l("Edited"),
    "nomination.document_add": _l("Document added"),
    "nomination.submit": _l("Submitted"),
    "nomination.recommend": _l("Recommended"),
    "nomination.approve": _l("Approved"),
    "nomination.return": _l("Returned for changes"),
    "nomination.reject": _l("Rejected"),
    "nomination.withdraw": _l("Withdrawn"),
    "nomination.award": _l("Presented"),
}

FIELD_LABELS = {
    "surname": _l("Surname"),
    "given_name": _l("Given name"),
    "patronymic": _l("Patronymic"),
    "iin": _l("IIN"),
    "birth_date": _l("Birth date"),
    "category": _l("Category"),
    "district": _l("District"),
    "address": _l("Address"),
    "phone": _l("Phone"),
    "medal": _l("Medal"),
    "grounds": _l("Grounds"),
}

DATE_HINT = _l("Day.month.year, for example 14.03.1927.")


def _decree_date_hint() -> str:
    # A decree is signed about now, not in 1927: the example is today's date.
    return _("Day.month.year, for example %(date)s.", date=local_today().strftime("%d.%m.%Y"))


DECREE_DATE_HINT = LazyString(_decree_date_hint)


class NominationForm(FlaskForm):
    surname = StringField(FIELD_LABELS["surname"], validators=[InputRequired(), Length(max=100)])
    given_name = StringField(FIELD_LABELS["given_name"], validators=[InputRequired(), Length(max=100)])
    patronymic = StringField(
        FIELD_LABELS["patronymic"],
        validators=[Optional(), Length(max=100)],
        description=_l("Leave empty if the person has none."),
    )
    birth_date = StringField(FIELD_LABELS["birth_date"], validators=[InputRequired()], description=DATE_HINT)
    iin = StringField(
        FIELD_LABELS["iin"],
        validators=[Optional(), Length(max=12)],
        description=_l("12 digits, if known. It must agree with the birth date."),
        render_kw={"inputmode": "numeric", "autocomplete": "off"},
    )
    category = SelectField(FIELD_LABELS["category"], validators=[InputRequired()])
    district = SelectField(FIELD_LABELS["district"], validators=[InputRequired()])
    address = StringField(FIELD_LABELS["address"], validators=[Optional(), Length(max=300)])
    phone = TelField(
        FIELD_LABELS["phone"],
        validators=[Optional(), Length(max=30)],
        description=_l("For example +7 701 234 56 78."),
        render_kw={"autocomplete": "off"},
    )
    medal = SelectField(FIELD_LABELS["medal"], validators=[InputRequired()])
    grounds = TextAreaField(
        FIELD_LABELS["grounds"],
        validators=[InputRequired(), Length(max=5000)],
        description=_l("Why the person deserves the medal: service, work, documents held."),
    )
    version = HiddenField()

    def set_choices(self, districts, medals) -> None:
        self.category.choices = [("", _l("— choose —")), *list(CATEGORY_LABELS.items())]
        self.district.choices = ([("", _l("— choose —"))] if len(districts) != 1 else []) + list(districts)
        self.medal.choices = ([("", _l("— choose —"))] if len(medals) != 1 else []) + list(medals)

    def _raw(self, name: str) -> str:
        field = getattr(self, name)
        return field.raw_data[0] if field.raw_data else (field.data or "")

    def service_data(self, *, with_medal: bool = True) -> dict:
        data = {"nominee": {name: self._raw(name) for name in NOMINEE_FIELDS}, "grounds": self._raw("grounds")}
        if with_medal:
            data["medal"] = self._raw("medal")
        return data

    def apply_service_errors(self, fields: dict) -> None:
        """The service says "nominee.surname"; the form field is "surname"."""
        apply_errors(self, {key.removeprefix("nominee."): message for key, message in fields.items()})


class TransitionForm(FlaskForm):
    """One nomination's decision: the button pressed names the action."""

    comment = TextAreaField(
        _l("Comment"),
        validators=[Optional(), Length(max=2000)],
        description=_l("Required to return or reject: the nominator reads it."),
    )
    decree_number = StringField(
        _l("Decree number"),
        validators=[Optional(), Length(max=50)],
        description=_l("Only for approval, for example 45."),
    )
    decree_date = StringField(_l("Decree date"), validators=[Optional()], description=DECREE_DATE_HINT)
    confirm_duplicate = BooleanField(_l("I have checked: this is a different person from the similar nominations."))
    version = HiddenField()


class BulkForm(FlaskForm):
    """One action, one comment (and decree) for all ticked rows."""

    comment = TextAreaField(
        _l("Comment"),
        validators=[Optional(), Length(max=2000)],
        description=_l("Required to return or reject: the nominator reads it."),
    )
    decree_number = StringField(
        _l("Decree number"),
        validators=[Optional(), Length(max=50)],
        description=_l("Only for approval, for example 45."),
    )
    decree_date = StringField(_l("Decree date"), validators=[Optional()], description=DECREE_DATE_HINT)


class DocumentForm(FlaskForm):
    document = FileField(
        _l("Supporting document"),
        description=_l("PDF, JPEG or PNG, at most 10 MB: a certificate, an archive record, a photo."),
    )


class FilterForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField(_l("Name or IIN"), validators=[Optional(), Length(max=100)])
    status = SelectField(_l("Status"), validators=[Optional()])
    district = SelectField(_l("District"), validators=[Optional()])
    medal = SelectField(_l("Medal"), validators=[Optional()])
    category = SelectField(_l("Category"), validators=[Optional()])

    def set_choices(self, statuses, districts, medals) -> None:
        everything = [("", _l("All"))]
        self.status.choices = everything + list(statuses)
        self.district.choices = everything + list(districts)
        self.medal.choices = everything + list(medals)
        self.category.choices = everything + list(CATEGORY_LABELS.items())
