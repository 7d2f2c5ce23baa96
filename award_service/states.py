"""One definition per state machine: a :class:`Labelled` string enum names each
state (or action) once, with the label people see.

Members are ``str``: they are stored as they are, compare equal to their value
(``NominationStatus.DRAFT == "draft"``), serialise to JSON as the value and
render in templates as the value.  Models build their CHECK constraints from
:meth:`Labelled.values`, forms and pages their choices from :meth:`Labelled.labels`,
and the API schemas their enums from the same class, so the four cannot drift.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Any, TypeVar

_MACHINES: dict[str, type[Labelled]] = {}
E = TypeVar("E", bound="type[Labelled]")


class Labelled(StrEnum):
    """``NAME = "value", _l("Label")`` or ``NAME = "value", _l("Label"), _l("label in a sentence")``."""

    label: Any
    phrase: Any

    def __new__(cls, value: str, label: Any = None, phrase: Any = None) -> Labelled:
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label if label is not None else value
        member.phrase = phrase if phrase is not None else member.label
        return member

    @classmethod
    def values(cls) -> tuple[str, ...]:
        return tuple(member.value for member in cls)

    @classmethod
    def labels(cls) -> dict[str, Any]:
        """Value -> label (lazy strings: translated when shown)."""
        return {member.value: member.label for member in cls}


def machine(name: str) -> Callable[[E], E]:
    """Class decorator: make the enum findable by name (templates ask
    ``state_label("ceremony", status)`` of a stored value)."""

    def register(cls: E) -> E:
        if _MACHINES.get(name, cls) is not cls:
            raise ValueError(f"state machine {name!r} is defined twice")
        _MACHINES[name] = cls
        return cls

    return register


def label(name: str, value: str, *, phrase: bool = False) -> Any:
    """The label of a stored ``value`` of machine ``name`` (the value itself if unknown)."""
    try:
        member = _MACHINES[name](value)
    except ValueError:
        return value
    return member.phrase if phrase else member.label
