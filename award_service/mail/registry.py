"""The kinds of message the service sends, registered by the features that own them.

The mail infrastructure (outbox, sender, transport) knows no feature: each
feature module that decides messages (``ceremonies/messages.py``,
``nominations/messages.py``) registers, per kind, a label for the organisers'
page and a composer -- the function the sender calls at each attempt to make
the subject, text, HTML and attachments from the rows as they are then.
Likewise a feature registers the periodic jobs that queue messages (the
reminders), which the beat task and ``flask mail reminders`` run by name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, cast

from ..timeutil import utcnow
from .models import OutboxMessage, load_params
from .render import language_of
from .transport import Attachment


@dataclass(frozen=True)
class Composed:
    subject: str
    text: str
    html: str
    attachments: list[Attachment] = field(default_factory=list)


class Composer(Protocol):
    def __call__(
        self, session: Any, message: Any, subject: Any, language: str, params: dict, now: datetime
    ) -> Composed: ...


@dataclass(frozen=True)
class Kind:
    """One kind of message: its name in the outbox, its label, what its rows are
    about (``object_type``) and how to compose it."""

    name: str
    label: Any  # a lazy string, translated when shown
    object_type: str
    compose: Composer
    load: Callable[[Any, str], Any]  # (session, object_id) -> the row the message is about, or None


_KINDS: dict[str, Kind] = {}
_JOBS: dict[str, Callable[..., int]] = {}


def register(name: str, *, label: Any, object_type: str, load: Callable[[Any, str], Any], compose: Composer) -> None:
    """Declare a kind (once per process: the feature's module does it on import)."""
    kind = Kind(name, label, object_type, compose, load)
    if name in _KINDS and _KINDS[name] != kind:
        raise ValueError(f"message kind {name!r} is registered twice")
    _KINDS[name] = kind


def kinds() -> dict[str, Kind]:
    return dict(_KINDS)


def label(name: str) -> Any:
    kind = _KINDS.get(name)
    return kind.label if kind is not None else name


def register_job(name: str, job: Callable[..., int]) -> None:
    """A periodic job that queues messages: ``job(session, now=None) -> count``;
    the caller commits."""
    if name in _JOBS and _JOBS[name] is not job:
        raise ValueError(f"mail job {name!r} is registered twice")
    _JOBS[name] = job


def run_job(name: str, session: Any, now: datetime | None = None) -> int:
    try:
        job = _JOBS[name]
    except KeyError:
        raise LookupError(f"no mail job {name!r} is registered (is the feature that owns it imported?)") from None
    return job(session, now=now)


def compose(session: Any, message: OutboxMessage | Any, now: datetime | None = None) -> Composed:
    """The subject, bodies and attachments of an outbox row (an ORM object or a
    Core row) that was decided without them.  Reads in ``session``; writes nothing."""
    kind = _KINDS.get(message.kind)
    if kind is None or message.object_type != kind.object_type:
        raise ValueError(f"no way to compose a message of kind {message.kind!r} about {message.object_type!r}")
    subject = kind.load(session, cast(str, message.object_id))  # a message of a kind is about an object
    if subject is None:
        raise LookupError(f"{kind.object_type} {message.object_id} does not exist")
    params = load_params(message)
    return kind.compose(session, message, subject, language_of(message.language), params, now or utcnow())
