"""An object's history as people read it: field names as labels, times in the
deployment's zone, states by their labels, and never ``None``/``True``/``False``.

The feature that owns the object gives the labels (:class:`HistoryLabels`); this
module knows only how audit payloads are written (``record`` keeps dates and
times as ISO strings, see ``_jsonable``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from flask_babel import gettext as _

from ..i18n import local_date, local_datetime
from ..states import label as state_label
from .models import AuditEvent

_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DASH = "—"


@dataclass(frozen=True)
class HistoryLabels:
    """What one kind of object's history calls its fields, actions and values.

    ``fields``: payload key -> label; ``actions``: action -> label;
    ``machines``: payload key -> state machine whose labels its values take
    (``{"status": "registration"}``); ``values``: payload key -> {stored value: label}."""

    fields: Mapping[str, Any] = field(default_factory=dict)
    actions: Mapping[str, Any] = field(default_factory=dict)
    machines: Mapping[str, str] = field(default_factory=dict)
    values: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class Change:
    label: str
    before: str | None  # None: the key is not in that side of the event
    after: str | None


@dataclass(frozen=True)
class HistoryRow:
    event: AuditEvent
    at: str
    who: str
    action: str
    changes: list[Change]


def show_value(key: str, value: Any, labels: HistoryLabels) -> str:
    """One stored value in words."""
    if value is None or value == "":
        return DASH
    if value is True:
        return _("yes")
    if value is False:
        return _("no")
    if isinstance(value, str):
        if key in labels.machines:
            return str(state_label(labels.machines[key], value))
        if key in labels.values and value in labels.values[key]:
            return str(labels.values[key][value])
        if _ISO_DATETIME.match(value):
            return local_datetime(value)
        if _ISO_DATE.match(value):
            return local_date(value)
        return value
    if isinstance(value, (list, tuple)):
        return ", ".join(show_value(key, v, labels) for v in value) or DASH
    if isinstance(value, dict):
        return "; ".join(f"{k}: {show_value(k, v, labels)}" for k, v in value.items()) or DASH
    return str(value)


def field_label(key: str, labels: HistoryLabels) -> str:
    return str(labels.fields.get(key, key.replace("_", " ")))


def changes(event: AuditEvent, labels: HistoryLabels) -> list[Change]:
    before = event.before or {}
    after = event.after or {}
    # What a creation left empty is not news: only what was given is listed.
    keys = list(before) + [k for k in after if k not in before and after[k] not in (None, "")]
    return [
        Change(
            label=field_label(k, labels),
            before=show_value(k, before[k], labels) if k in before else None,
            after=show_value(k, after[k], labels) if k in after else None,
        )
        for k in keys
    ]


def with_values(labels: HistoryLabels, key: str, values: Mapping[str, Any]) -> HistoryLabels:
    """``labels`` with the words for one more key's stored values (e.g. district codes -> names)."""
    return replace(labels, values={**labels.values, key: values})


def present(events: Iterable[AuditEvent], labels: HistoryLabels) -> list[HistoryRow]:
    return [
        HistoryRow(
            event=e,
            at=local_datetime(e.occurred_at),
            who=getattr(e.actor, "name", None) or e.actor_label or DASH,
            action=str(labels.actions.get(e.action, e.action)),
            changes=changes(e, labels),
        )
        for e in events
    ]
