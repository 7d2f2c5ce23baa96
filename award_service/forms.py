"""WTForms helpers shared by the HTML views."""
from __future__ import annotations

from flask_wtf import FlaskForm


class ActionForm(FlaskForm):
    """A button that changes state: carries only the CSRF token."""


def apply_errors(form: FlaskForm, fields: dict) -> None:
    """Show a service's field errors beside the fields they belong to."""
    for name, message in fields.items():
        field = getattr(form, name, None)
        if field is None and name == "needs":
            field = getattr(form, "needs_note", None)
        if field is not None:
            field.errors = list(field.errors or []) + [str(message)]
        else:
            form.form_errors.append(str(message))
