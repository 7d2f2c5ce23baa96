"""The glue between the API's pydantic schemas and its Flask views.

A view declares, once, with :func:`operation`: its request body model, its query
model, its path parameters, its success response model and the 4xx error codes
it can answer.  The same declaration is used

- to validate input: :func:`checked_body` and :func:`checked_query` check the JSON body or the
  query string against the model, and :func:`respond` checks what the view
  returns against its response model (a mismatch is a bug: it fails in tests
  and is logged in production);
- to write the OpenAPI 3.1 document (:mod:`.openapi`), which walks the
  blueprint's real routes and reads these declarations.

Why our own glue rather than spectree or flask-smorest: the API's pinned
behaviour (400 ``malformed_json`` for a body that is not JSON, 415 for another
content type, 413 past the size limit, and 422 ``invalid`` with
``fields: {name: translated message}`` naming every wrong field at once,
including the domain rules the services check) would have to be re-created
inside their hooks, which read the body themselves (spectree reads it with
``get_json(silent=True)``, so a malformed body becomes a 422 list of pydantic
errors) and answer with their own error bodies.  What we need from a library is
the schema language and its JSON Schema 2020-12 output: pydantic v2 gives both.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from typing import Any, get_origin

from flask import current_app, request
from flask_babel import lazy_gettext as _l
from pydantic import BaseModel, RootModel, TypeAdapter, ValidationError
from sqlalchemy.exc import DBAPIError

from ..errors import ValidationFailed, database_unavailable
from ..extensions import db

log = logging.getLogger(__name__)


@dataclass
class Operation:
    summary: str
    tag: str
    response: type[BaseModel] | type[dict[str, Any]] | None = None  # None: a PDF; dict: any object
    status: int = 200
    body: type[BaseModel] | None = None
    body_required: bool = True
    query: type[BaseModel] | None = None
    path: dict = field(default_factory=dict)  # name -> JSON Schema
    errors: dict = field(default_factory=dict)  # status -> [codes]
    rate_limited: bool = False
    uses_database: bool = True  # may answer 503 unavailable (the database cannot answer)
    description: str = ""


def operation(summary: str, *, tag: str, **kwargs):
    """Attach the operation's declaration to a view (put it above ``@bp.route``'s view)."""

    def decorator(view):
        view.api_operation = Operation(summary, tag, **kwargs)
        return view

    return decorator


# --- input -----------------------------------------------------------------


def _field_name(model: type[BaseModel], loc: tuple) -> str:
    """("nominee", "iin") -> "nominee.iin", ("quotas", "ulytau") -> "quotas.ulytau": the declared
    fields along ``loc``; a list index or a union member's tag (pydantic adds them) ends the name."""
    parts: list[str] = []
    current: type[BaseModel] | None = model
    for part in loc:
        if isinstance(current, type) and issubclass(current, RootModel):
            parts.append(str(part))  # a mapping's key
            break
        fields = getattr(current, "model_fields", None)
        if not fields or part not in fields:
            break
        parts.append(part)
        annotation = fields[part].annotation
        if get_origin(annotation) is dict:
            current = RootModel  # the next part is the key
        else:
            current = annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
    return ".".join(parts) or "body"


def _message(error: dict):
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind == "missing":
        return _l("This field is required.")
    if kind in ("string_type",):
        return _l("Must be text.")
    if kind.startswith("int_"):
        return _l("Must be a whole number.")
    if kind.startswith("bool_"):
        return _l("Must be true or false.")
    if kind == "string_too_long":
        return _l("Must be at most %(n)d characters.", n=ctx.get("max_length", 0))
    if kind in ("greater_than_equal", "less_than_equal") and "bounds" in error:
        low, high = error["bounds"]
        return _l("Must be between %(min)d and %(max)d.", min=low, max=high)
    return ValidationFailed.default_message


def _bounds(model: type[BaseModel], loc: tuple) -> tuple[int, int] | None:
    info = model.model_fields.get(loc[0]) if loc and isinstance(loc[0], str) else None
    if info is None:
        return None
    low = high = None
    for item in info.metadata:
        low = getattr(item, "ge", low) if getattr(item, "ge", None) is not None else low
        high = getattr(item, "le", high) if getattr(item, "le", None) is not None else high
    return (low, high) if low is not None and high is not None else None


def schema_errors(model: type[BaseModel], data) -> dict:
    """``{field: message}`` for what ``data`` breaks of ``model``'s schema."""
    try:
        model.model_validate(data)
    except ValidationError as exc:
        fields: dict = {}
        for error in exc.errors(include_url=False, include_input=False):
            bounds = _bounds(model, error["loc"])
            details: dict[str, Any] = dict(error)
            if bounds:
                details["bounds"] = bounds
            name = getattr(model, "error_prefix", "") + _field_name(model, error["loc"])
            fields.setdefault(name, _message(details))
        return fields
    return {}


@contextmanager
def _dry_run():
    """The block's writes are flushed, never committed, and rolled back after it."""
    session = db.session()
    session.commit = session.flush  # this request's session only; the services commit through it
    try:
        yield
    finally:
        del session.commit
        session.rollback()


@contextmanager
def _checked(model: type[BaseModel], data):
    """Run the block (the service call) with ``data`` checked against ``model``.

    What the schema refuses is refused (422 ``invalid``), and the answer names
    every wrong field at once, as the API always has: the service checks the
    same input too, its messages (translated, knowing the domain) winning on
    the same field.  When the schema has refused, the service runs in a dry run
    (its commits are flushes, rolled back afterwards), so nothing is stored."""
    errors = schema_errors(model, data)
    if not errors:
        yield data
        return
    try:
        with _dry_run():
            yield data
    except (DBAPIError, OverflowError) as exc:
        if database_unavailable(exc):
            raise
        # The database refused what the schema had already refused (a NUL byte, an
        # integer past its range): the schema's answer stands.
        raise ValidationFailed(errors) from None
    except ValidationFailed as exc:
        for name, message in errors.items():
            if not any(
                name == known or name.startswith(known + ".") or known.startswith(name + ".") for known in exc.fields
            ):
                exc.fields[name] = message
        raise
    raise ValidationFailed(errors)


def checked_body(model: type[BaseModel], data: dict):
    return _checked(model, data)


def query_args() -> dict:
    """The query string as a dict; empty values count as not given (as the services read them)."""
    return {key: value for key, value in request.args.items() if value != ""}


def checked_query(model: type[BaseModel]):
    return _checked(model, query_args())


# --- output ----------------------------------------------------------------


@cache
def _adapter(model: type[BaseModel]) -> TypeAdapter:
    return TypeAdapter(model)


def respond(model: type[BaseModel], body: dict, status: int = 200):
    """Return ``body`` as it is, after checking it against the documented ``model``."""
    try:
        _adapter(model).validate_python(body, strict=True)
    except ValidationError as exc:
        log.error("API response does not match %s: %s", model.__name__, exc)
        if current_app.testing:
            raise
    return body, status
