"""The OpenAPI document, assembled by apispec from the pydantic schemas the views validate with."""
from __future__ import annotations

import re

from apispec import APISpec
from pydantic import BaseModel

from . import OPERATIONS

REF = "#/components/schemas/{model}"
SECURITY = {"staff": [{"bearer": []}, {"session": []}], "admin": [{"bearer": []}, {"session": []}],
            "any": [{"bearer": []}, {"session": []}]}


def _register(spec: APISpec, model: type[BaseModel], mode: str) -> dict:
    schema = model.model_json_schema(ref_template=REF, mode=mode)
    for name, sub in schema.pop("$defs", {}).items():
        if name not in spec.components.schemas:
            spec.components.schema(name, sub)
    if model.__name__ not in spec.components.schemas:
        spec.components.schema(model.__name__, schema)
    return {"$ref": REF.format(model=model.__name__)}


def _path(rule: str) -> tuple[str, list[dict]]:
    params = []

    def repl(m: re.Match) -> str:
        conv, name = m.group(1), m.group(2)
        params.append({"name": name, "in": "path", "required": True,
                       "schema": {"type": "integer" if conv == "int" else "string"}})
        return "{" + name + "}"
    return re.sub(r"<(?:(\w+):)?(\w+)>", repl, rule), params


def build(version: str) -> dict:
    spec = APISpec(title="Một Cửa Queue API", version=version, openapi_version="3.1.0",
                   info={"description": "Queue management for Vietnamese one-stop offices. "
                                        "Errors are {\"error\": {\"code\", \"message\"}}."})
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    spec.components.security_scheme("session", {"type": "apiKey", "in": "cookie", "name": "session"})
    paths: dict[str, dict] = {}
    for op in OPERATIONS:
        path, params = _path(op.path)
        operation: dict = {"summary": op.summary, "tags": [op.tag], "operationId": op.name,
                           "responses": {}}
        if op.query is not None:
            for name, field in op.query.model_fields.items():
                params.append({"name": field.alias or name, "in": "query", "required": field.is_required(),
                               "description": field.description or "", "schema": {"type": "string"}})
        for header, description in op.headers.items():
            params.append({"name": header, "in": "header", "required": False, "description": description,
                           "schema": {"type": "string"}})
        if params:
            operation["parameters"] = params
        if op.body is not None:
            operation["requestBody"] = {"required": True, "content": {
                "application/json": {"schema": _register(spec, op.body, "validation")}}}
        for status, (description, model) in sorted(op.responses.items()):
            response: dict = {"description": description}
            if model is not None:
                response["content"] = {"application/json": {"schema": _register(spec, model, "serialization")}}
            operation["responses"][str(status)] = response
        if op.access in SECURITY:
            operation["security"] = SECURITY[op.access]
        paths.setdefault(path, {})[op.method] = operation
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()
