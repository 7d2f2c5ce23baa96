"""What a staff account's history calls things (the user page)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ..audit.display import HistoryLabels
from .forms import ROLE_LABELS

USER_HISTORY = HistoryLabels(
    fields={
        "email": _l("E-mail"),
        "name": _l("Name"),
        "roles": _l("Roles"),
        "district": _l("District"),
        "active": _l("Active"),
        "password": _l("Password"),
        "token_id": _l("API token"),
    },
    actions={
        "user.create": _l("Account created"),
        "user.update": _l("Account changed"),
        "user.login": _l("Logged in"),
        "api_token.create": _l("API token created"),
    },
    # The audit keeps no password: "***" before a change and "(changed)" after it, or
    # "(one-time)" for one the command line generated and printed (to be changed).
    values={
        "roles": ROLE_LABELS,
        "password": {"***": "—", "(changed)": _l("changed"), "(one-time)": _l("one-time, printed; to be changed")},
    },
)
