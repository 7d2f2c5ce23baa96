from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from ..forms import select_choices
from .corrections import NAME_PARTS
from .models import AwardStatus

STATUS_FILTERS = (
    ("", _l("All")),
    ("not_presented", _l("Not presented yet")),
    ("presented", _l("Presented")),
    ("valid", _l("Valid")),
    ("revoked", _l("Revoked")),
)
FORMAT_LABELS = (("a4", _l("A4 landscape")), ("card", _l("Card (A6), 4 on an A4 sheet with crop marks")))
STATUS_LABELS = AwardStatus.labels()
HISTORY_LABELS = {
    "award.issue": _l("Certificate issued"),
    "award.attach": _l("Attached to a ceremony"),
    "award.presented": _l("Presented"),
    "award.revoke": _l("Revoked"),
    "award.reissue": _l("Reissued"),
}
NAME_LABELS = {"surname": _l("Surname"), "given_name": _l("Given name"), "patronymic": _l("Patronymic")}


class FilterForm(FlaskForm):
    class Meta:
        csrf = False

    ceremony = SelectField(_l("Ceremony"), validators=[Optional()])
    medal = SelectField(_l("Medal"), validators=[Optional()])
    district = SelectField(_l("District"), validators=[Optional()])
    status = SelectField(_l("Show"), choices=select_choices(STATUS_FILTERS), validators=[Optional()])
    q = StringField(_l("Name or serial number"), validators=[Optional(), Length(max=100)])
    format = SelectField(_l("Certificate format"), choices=select_choices(FORMAT_LABELS), default="a4")


class BulkForm(FlaskForm):
    """What to do with the ticked certificates."""

    date = StringField(_l("Date presented"), validators=[Optional()], description=_l("For example 09.05.2025."))
    confirm_early = BooleanField(_l("Yes, mark them presented before the ceremony"))
    target = SelectField(_l("Ceremony where they will be presented"), validators=[Optional()])


class PresentedForm(FlaskForm):
    date = StringField(_l("Date presented"), validators=[InputRequired()], description=_l("For example 09.05.2025."))
    confirm_early = BooleanField(_l("Yes, mark it presented before the ceremony"))


class NameFields:
    """The name the new certificate prints, prefilled with the one it replaces."""

    # Checked by the service with the nominee's rules (its messages beside the
    # fields); a part not posted at all is left as printed.
    surname = StringField(_l("Surname"), validators=[Optional(), Length(max=100)])
    given_name = StringField(_l("Given name"), validators=[Optional(), Length(max=100)])
    patronymic = StringField(_l("Patronymic"), validators=[Optional(), Length(max=100)])

    def corrections(self, award) -> dict[str, str] | None:
        """The parts changed from what ``award`` prints, or None if none is."""
        typed = {part: getattr(self, part).data or "" for part in NAME_PARTS if getattr(self, part).raw_data}
        changed = {part: value for part, value in typed.items() if " ".join(value.split()) != award.name_parts[part]}
        return changed or None


class RevokeForm(NameFields, FlaskForm):
    reason = TextAreaField(
        _l("Reason"),
        validators=[InputRequired(), Length(max=1000)],
        description=_l("Shown in the history; the public page only says it is revoked."),
    )
    reissue = BooleanField(_l("Issue a new certificate in its place (new serial number)"))


class ReissueForm(NameFields, FlaskForm):
    reason = TextAreaField(
        _l("Reason"),
        validators=[Optional(), Length(max=1000)],
        description=_l("Needed when you correct the name; shown in the history."),
    )
