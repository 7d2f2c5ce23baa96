from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields import DateTimeLocalField, EmailField, TelField
from wtforms.validators import InputRequired, Length, NumberRange, Optional
from wtforms.widgets import HiddenInput

from ..forms import select_choices
from .models import MAX_COMPANIONS

CATEGORY_LABELS = {
    "veteran": _l("Veteran"),
    "home_front_worker": _l("Home-front worker"),
    "family": _l("Family member of a veteran"),
    "guest": _l("Guest"),
    "resident": _l("Resident"),
}


class RegistrationForm(FlaskForm):
    full_name = StringField(
        _l("Full name"),
        validators=[InputRequired(message=_l("Enter the full name.")), Length(max=200)],
        description=_l("Surname, given name and patronymic, as in the ID card."),
    )
    phone = TelField(
        _l("Phone"), validators=[Optional(), Length(max=30)], description=_l("For example +7 701 234 56 78.")
    )
    email = EmailField(_l("E-mail"), validators=[Optional(), Length(max=254)])
    companions = IntegerField(
        _l("Companions"),
        default=0,
        validators=[Optional(), NumberRange(min=0, max=MAX_COMPANIONS)],
        description=_l("How many people come with you (0 to 5). Each takes a seat."),
    )
    category = SelectField(
        _l("Category"),
        choices=select_choices([("", _l("— choose —")), *CATEGORY_LABELS.items()]),
        validators=[InputRequired(message=_l("Choose a category."))],
    )
    needs_wheelchair = BooleanField(_l("Wheelchair access"))
    needs_hearing = BooleanField(_l("Hearing assistance"))
    needs_near_exit = BooleanField(_l("A seat near the exit"))
    needs_note = TextAreaField(_l("Other needs"), validators=[Optional(), Length(max=500)])
    consent = BooleanField(
        _l("I agree to the processing of my personal data for this ceremony."),
        validators=[InputRequired(message=_l("Registration needs your consent to the processing of personal data."))],
    )

    def service_data(self) -> dict:
        return {
            "full_name": self.full_name.raw_data[0] if self.full_name.raw_data else "",
            "phone": self.phone.data,
            "email": self.email.data,
            "companions": (self.companions.raw_data or ["0"])[0] or "0",
            "category": self.category.data,
            "needs_wheelchair": self.needs_wheelchair.data,
            "needs_hearing": self.needs_hearing.data,
            "needs_near_exit": self.needs_near_exit.data,
            "needs_note": self.needs_note.data,
            "consent": self.consent.data,
        }


class CeremonyForm(FlaskForm):
    title_kk = StringField(_l("Title (Kazakh)"), validators=[InputRequired(), Length(max=200)])
    title_ru = StringField(_l("Title (Russian)"), validators=[InputRequired(), Length(max=200)])
    title_en = StringField(
        _l("Title (English, optional)"),
        validators=[Optional(), Length(max=200)],
        description=_l("Shown on the English pages; without it they show the Russian title."),
    )
    description_kk = TextAreaField(_l("Description (Kazakh)"), validators=[Optional(), Length(max=5000)])
    description_ru = TextAreaField(_l("Description (Russian)"), validators=[Optional(), Length(max=5000)])
    starts_at = DateTimeLocalField(
        _l("Starts at (Kazakhstan time)"), format="%Y-%m-%dT%H:%M", validators=[InputRequired()]
    )
    venue = StringField(
        _l("Venue"),
        validators=[InputRequired(), Length(max=200)],
        description=_l("Shown in every language that has no venue of its own below."),
    )
    venue_kk = StringField(_l("Venue in Kazakh (optional)"), validators=[Optional(), Length(max=200)])
    venue_ru = StringField(_l("Venue in Russian (optional)"), validators=[Optional(), Length(max=200)])
    venue_en = StringField(_l("Venue in English (optional)"), validators=[Optional(), Length(max=200)])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=300)])
    district = SelectField(_l("District"), validators=[InputRequired()])
    capacity = IntegerField(_l("Capacity (seats)"), validators=[InputRequired(), NumberRange(min=1, max=100_000)])
    registration_opens_at = DateTimeLocalField(
        _l("Registration opens (optional)"), format="%Y-%m-%dT%H:%M", validators=[Optional()]
    )
    registration_closes_at = DateTimeLocalField(
        _l("Registration closes (optional)"), format="%Y-%m-%dT%H:%M", validators=[Optional()]
    )
    waitlist = BooleanField(_l("Keep a waiting list when full"))

    DATA_FIELDS = (
        "title_kk",
        "title_ru",
        "title_en",
        "description_kk",
        "description_ru",
        "starts_at",
        "venue",
        "venue_kk",
        "venue_ru",
        "venue_en",
        "address",
        "district",
        "capacity",
        "registration_opens_at",
        "registration_closes_at",
        "waitlist",
    )

    def service_data(self) -> dict:
        data = {name: getattr(self, name).data for name in self.DATA_FIELDS}
        for name in ("starts_at", "registration_opens_at", "registration_closes_at"):
            if data[name] is None:
                raw = (getattr(self, name).raw_data or [""])[0]
                data[name] = raw or None
        if data["capacity"] is None:
            data["capacity"] = (self.capacity.raw_data or [""])[0]
        return data


class LostLinkForm(FlaskForm):
    email = EmailField(
        _l("E-mail"),
        validators=[InputRequired(message=_l("Enter the e-mail address you registered with.")), Length(max=254)],
        description=_l("The address you gave when you registered."),
        render_kw={"autocomplete": "email"},
    )


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=500)])


class RegistrationSearchForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField(_l("Search by name, phone or e-mail"), validators=[Optional(), Length(max=100)])
    status = SelectField(
        _l("Status"),
        choices=select_choices(
            [
                ("", _l("All")),
                ("confirmed", _l("Confirmed")),
                ("waitlisted", _l("On the waiting list")),
                ("arrived", _l("Arrived (checked in)")),
                ("cancelled", _l("Registration cancelled")),
            ]
        ),
        validators=[Optional()],
    )


class CodeForm(FlaskForm):
    """The code field at the door: a handheld scanner types the code and Enter."""

    code = StringField(
        _l("Ticket code"),
        validators=[InputRequired(), Length(max=40)],
        description=_l("Scan the QR code on the ticket, or type the code printed under it."),
        render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false", "autofocus": True},
    )


class CheckinForm(FlaskForm):
    registration = IntegerField(widget=HiddenInput(), validators=[InputRequired()])
    companions_arrived = IntegerField(
        _l("Companions who came"),
        validators=[Optional(), NumberRange(min=0, max=MAX_COMPANIONS)],
        render_kw={"inputmode": "numeric"},
    )
