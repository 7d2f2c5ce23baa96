"""One definition per state machine: a :class:`Labelled` string enum names each
state (or action) once, with the label people see.

Members are ``str``: they are stored as they are, compare equal to their value
(``NominationStatus.DRAFT == "draft"``), serialise to JSON as the value and
render in templates as the value.  Models build their CHECK constraints from
:meth:`Labelled.values`, forms and pages their choices from :meth:`Labelled.labels`,
and the API schemas their enums from the same class, so the four cannot drift.
"""
from __future__ import annotations

from enum import StrEnum
from typing import Any


class Labelled(StrEnum):
    """``NAME = "value", _l("label")``."""

    label: Any

    def __new__(cls, value: str, label: Any = None) -> Labelled:
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label if label is not None else value
        return member

    @classmethod
    def values(cls) -> tuple[str, ...]:
        return tuple(member.value for member in cls)

    @classmethod
    def labels(cls) -> dict[str, Any]:
        """Value -> label (lazy strings: translated when shown)."""
        return {member.value: member.label for member in cls}
