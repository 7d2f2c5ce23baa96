"""WTForms helpers shared by the HTML views."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_wtf import FlaskForm
from wtforms import SelectChoice  # type: ignore[attr-defined]  # new in 3.3; types-WTForms describes 3.2


class ActionForm(FlaskForm):
    """A button that changes state: carries only the CSRF token."""


def select_choices(pairs: Iterable[tuple[str, Any]]) -> list[SelectChoice]:
    """``(value, label)`` pairs as WTForms options: tuples are deprecated since WTForms 3.3 and go in 3.4."""
    return [SelectChoice(value, label) for value, label in pairs]


def apply_errors(form: FlaskForm, fields: dict) -> None:
    """Show a service's field errors beside the fields they belong to."""
    for name, message in fields.items():
        field = getattr(form, name, None)
        if field is None and name == "needs":
            field = getattr(form, "needs_note", None)
        if field is not None:
            field.errors = [*list(field.errors or []), str(message)]
        else:
            form.form_errors.append(str(message))
