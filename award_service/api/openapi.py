"""GET /api/v1/openapi.json: the API described for integrators (OpenAPI 3.1).

Nothing here is written by hand about a particular endpoint: the paths and
methods are the blueprint's real routes, and each route's request, query,
response and error codes come from its :func:`.spec.operation` declaration and
the pydantic models in :mod:`.schemas` and :mod:`.responses` (their JSON Schema
2020-12 is OpenAPI 3.1's schema language)."""

from __future__ import annotations

import re
from typing import Any

from flask import current_app
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from werkzeug.routing.converters import NumberConverter

from . import bp
from .errors import UNAVAILABLE
from .responses import Error
from .spec import Operation, operation

REF = "#/components/schemas/{model}"
PDF = {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}
STATUS_TEXT = {
    200: "OK",
    201: "Created",
    400: "The body is not a JSON object",
    401: "No valid API token",
    403: "The token's user may not do this",
    404: "No such object, or not visible to this user",
    409: "Refused in the current state",
    413: "The body is over the size limit",
    415: "The body is not application/json",
    422: "Invalid fields or query arguments; see error.fields",
    429: "Too many requests from this address",
    503: "The database cannot answer now (restarting or unreachable); retry after the Retry-After header's seconds",
}
_ARG = re.compile(r"<(?:(\w+):)?(\w+)>")


def api_routes(app):
    """(path, method, view) of every route of the API blueprint."""
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] != bp.name:
            continue
        path = _ARG.sub(r"{\2}", rule.rule.removeprefix(bp.url_prefix))
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, path, method.lower(), app.view_functions[rule.endpoint]


def _error_codes(op: Operation, view, rule) -> dict[int, list[str]]:
    codes: dict[int, list[str]] = {}

    def add(status, *names):
        bucket = codes.setdefault(status, [])
        bucket.extend(n for n in names if n not in bucket)

    if getattr(view, "required_permission", None):
        add(401, "unauthorized")
        add(403, "forbidden")
    if op.body is not None:
        add(400, "malformed_json")
        add(413, "payload_too_large")
        add(415, "unsupported_media_type")
        add(422, "invalid")
    if op.query is not None:
        add(422, "invalid")
    if rule.arguments:
        add(404, "not_found")
    if op.rate_limited:
        add(429, "rate_limited")
    for status, names in op.errors.items():
        add(status, *names)
    if op.uses_database:
        add(503, UNAVAILABLE)
    return dict(sorted(codes.items()))


def _error_response(status: int, names: list[str]) -> dict:
    schema = {
        "allOf": [
            {"$ref": REF.format(model="Error")},
            {"type": "object", "properties": {"error": {"type": "object", "properties": {"code": {"enum": names}}}}},
        ]
    }
    response: dict[str, Any] = {
        "description": f"{STATUS_TEXT.get(status, '')} (error.code: {', '.join(names)})",
        "content": {"application/json": {"schema": schema}},
    }
    if status == 503:
        response["headers"] = {
            "Retry-After": {"description": "Seconds to wait before retrying", "schema": {"type": "integer"}}
        }
    return response


def _query_parameters(model: type[BaseModel], schemas: dict) -> list[dict]:
    schema = model.model_json_schema(ref_template=REF)
    required = set(schema.get("required", ()))
    params = []
    for name, prop in schema["properties"].items():
        prop = {k: v for k, v in prop.items() if k != "title"}
        description = prop.pop("description", None)
        param = {"name": name, "in": "query", "required": name in required, "schema": prop}
        if description:
            param["description"] = description
        params.append(param)
    return params


def _path_parameters(rule, op: Operation) -> list[dict]:
    params = []
    for name in sorted(rule.arguments):
        converter = rule._converters.get(name)
        if isinstance(converter, NumberConverter):
            default = {"type": "integer", "minimum": converter.min if converter.min is not None else 0}
            if converter.max is not None:
                default["maximum"] = converter.max
        else:
            default = {"type": "string"}
        params.append({"name": name, "in": "path", "required": True, "schema": op.path.get(name, default)})
    return params


def _models(app) -> list[type[BaseModel]]:
    found: list[type[BaseModel]] = [Error]
    for _rule, _path, _method, view in api_routes(app):
        op = view.api_operation
        for model in (op.body, op.response):
            if model not in (None, dict) and model not in found:
                assert isinstance(model, type) and issubclass(model, BaseModel)  # neither None nor dict
                found.append(model)
    return found


def _bare_app():
    """The blueprint alone on an app of its own: its routes, without a configured service."""
    from flask import Flask

    from .. import DatabaseId

    app = Flask(__name__)
    app.url_map.converters["int"] = DatabaseId
    app.register_blueprint(bp)
    return app


def build_document(server_url: str, app=None) -> dict:
    app = app or _bare_app()
    models = _models(app)
    _, defs = models_json_schema([(m, "validation") for m in models], ref_template=REF)
    schemas = defs.get("$defs", {})
    paths: dict = {}
    for rule, path, method, view in api_routes(app):
        op: Operation = view.api_operation
        entry = {
            "summary": op.summary,
            "tags": [op.tag],
            "operationId": rule.endpoint.split(".", 1)[1]
            + ("" if len(rule.methods - {"HEAD", "OPTIONS"}) == 1 else "_" + method),
        }
        if op.description:
            entry["description"] = op.description
        if getattr(view, "required_permission", None):
            entry["security"] = [{"bearer": []}]
        params = _path_parameters(rule, op) + (_query_parameters(op.query, schemas) if op.query else [])
        if params:
            entry["parameters"] = params
        if op.body is not None:
            entry["requestBody"] = {
                "required": op.body_required,
                "content": {"application/json": {"schema": {"$ref": REF.format(model=op.body.__name__)}}},
            }
        success: dict[str, Any] = {"description": STATUS_TEXT.get(op.status, "OK")}
        if op.response is None:
            success["content"] = PDF
        else:
            schema = {"type": "object"} if op.response is dict else {"$ref": REF.format(model=op.response.__name__)}
            success["content"] = {"application/json": {"schema": schema}}
        responses = {str(op.status): success}
        for status, names in _error_codes(op, view, rule).items():
            responses[str(status)] = _error_response(status, names)
        entry["responses"] = responses
        paths.setdefault(path, {})[method] = entry
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {
            "title": "Award Service API",
            "version": "1.0.0",
            "description": "Ceremonies and registrations, nominations, awards and certificates. Staff send "
            "Authorization: Bearer <token> (flask --app award_service users token --email E). "
            'Errors are {"error": {"code", "message", "fields"}}; messages follow '
            "Accept-Language (kk, ru, en).",
        },
        "servers": [{"url": server_url + (bp.url_prefix or "")}],
        "components": {"schemas": schemas, "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "paths": dict(sorted(paths.items())),
    }


@bp.get("/openapi.json")
@operation("This document (OpenAPI 3.1)", tag="meta", response=dict, uses_database=False)
def openapi_document():
    return build_document(current_app.config["AWARD_BASE_URL"], current_app)
