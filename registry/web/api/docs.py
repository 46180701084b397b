"""The OpenAPI 3 document, generated from the routes the server really serves.

Views declare their schemas with `@doc(...)`; `build_spec` walks the app's URL map, so a route
without a declaration still appears (from its docstring) and the document can never omit one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask
from marshmallow import Schema

from registry.web.api.schemas import ErrorOut, ValidationErrorOut

ERROR_TEXT = {400: "请求有误", 401: "未登录", 403: "角色无权", 404: "不存在或不在管辖范围内", 409: "冲突",
              413: "文件过大", 422: "输入有误", 429: "登录已锁定",
              503: "数据库不可用"}


def doc(summary: str, *, body: type[Schema] | None = None, query: type[Schema] | None = None,
        response: type[Schema] | None = None, many: bool = False, status: int = 200,
        errors: tuple[int, ...] = (401, 403, 404), content: str | tuple[str, ...] = "application/json",
        body_content: str = "application/json",
        body_required: bool = True,
        also: tuple[int, ...] = (),
        accepted: type[Schema] | None = None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Attach OpenAPI facts to a view (`body_required=False`: the body may be left out; `also`: more
    success statuses answered with the same body, e.g. 202 for a queued import; `accepted`: the body of
    a 202 that filed a proposal for a second person to confirm)."""
    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        view._apidoc = dict(summary=summary, body=body, query=query, response=response, many=many,  # type: ignore[attr-defined]
                            status=status, errors=errors, content=content, body_content=body_content,
                            body_required=body_required, also=also, accepted=accepted)
        return view
    return decorate


def schema_name(schema: Any) -> str:
    """Name a schema for components; a trimmed instance (only/exclude) gets its own name."""
    cls = schema if isinstance(schema, type) else type(schema)
    trimmed = not isinstance(schema, type) and (schema.only or schema.exclude)
    return cls.__name__ + ("Summary" if trimmed else "")


_CONVERTER = re.compile(r"<(?:(\w+)(?:\(([^)]*)\))?:)?(\w+)>")


def _param_schema(conv: str, args: str) -> dict[str, Any]:
    if conv == "int":
        return {"type": "integer", "minimum": 0, "maximum": 2**31 - 1}
    if conv == "any":
        return {"type": "string", "enum": [a.strip().strip("'\"") for a in args.split(",")]}
    longest = re.search(r"maxlength\s*=\s*(\d+)", args or "")
    return {"type": "string", **({"maxLength": int(longest.group(1))} if longest else {})}


def _path(rule: str) -> tuple[str, list[dict[str, Any]]]:
    params = [{"name": name, "in": "path", "required": True, "schema": _param_schema(conv, args)}
              for conv, args, name in _CONVERTER.findall(rule)]
    return _CONVERTER.sub(r"{\3}", rule), params


def _response(info: dict[str, Any]) -> dict[str, Any]:
    if info["response"] is None:
        return {"description": "成功"}
    if info["content"] != "application/json":
        kinds = info["content"] if isinstance(info["content"], tuple) else (info["content"],)
        return {"description": "文件", "content": {kind: {"schema": {"type": "string", "format": "binary"}} for kind in kinds}}
    schema: Any = info["response"]
    if info["many"]:
        schema = {"type": "object", "properties": {"items": {"type": "array", "items": info["response"]},
                                                    "total": {"type": "integer"}, "page": {"type": "integer"},
                                                    "per_page": {"type": "integer"}}}
    return {"description": "成功", "content": {"application/json": {"schema": schema}}}


def _error_codes(info: dict[str, Any], method: str) -> set[int]:
    """Every error status the server may send for the operation (errors.py maps them).

    Any route may answer 401/403 (not logged in, role) and 404 (outside the region, or a path id
    the route does not match); a body may be refused as 400 (not JSON, too deep, CSRF), 413 (too
    large) or 422; a query as 422; a write may conflict (409).
    """
    codes = {*info["errors"], 401, 403, 404}
    if info["body"] is not None or method in ("post", "put", "patch", "delete"):
        codes |= {400, 413, 422}
    if info["query"] is not None:
        codes.add(422)
    if method in ("post", "put", "patch", "delete"):
        codes.add(409)
    return codes


def _operation(view: Callable[..., Any], params: list[dict[str, Any]], method: str) -> dict[str, Any]:
    info = getattr(view, "_apidoc", None) or dict(summary=(view.__doc__ or view.__name__).strip().splitlines()[0],
                                                  body=None, query=None, response=None, many=False, status=200,
                                                  errors=(), content="application/json", body_content="application/json")
    op: dict[str, Any] = {"summary": info["summary"], "operationId": view.__name__, "parameters": list(params),
                          "responses": {str(code): _response(info) for code in (info["status"], *info.get("also", ()))}}
    if info.get("accepted") is not None:
        op["responses"]["202"] = {"description": "已提交，待第二人确认后生效",
                                  "content": {"application/json": {"schema": info["accepted"]}}}
    if info["query"] is not None:
        op["parameters"].append({"in": "query", "schema": info["query"]})
    if info["body"] is not None:
        op["requestBody"] = {"required": info.get("body_required", True),
                             "content": {info["body_content"]: {"schema": info["body"]}}}
    for code in sorted(_error_codes(info, method)):
        schema = ValidationErrorOut if code == 422 else ErrorOut
        op["responses"][str(code)] = {"description": ERROR_TEXT.get(code, "错误"),
                                      "content": {"application/json": {"schema": schema}}}
    return op


def _link_created(paths: dict[str, dict[str, Any]]) -> None:
    """Link each 201 to the operations on what it created (POST …/batches → /batches/{batch_id}/…).

    The links tell clients (and schemathesis' stateful phase) where the new id is used next.
    """
    for path, operations in paths.items():
        created = operations.get("post", {}).get("responses", {}).get("201")
        if created is None:
            continue
        resource = path.rstrip("/").rsplit("/", 1)[-1]
        pattern = re.compile(rf"^/api/v1/{re.escape(resource)}/\{{(\w+)\}}")
        links = {}
        for target, target_ops in sorted(paths.items()):
            found = pattern.match(target)
            if not found:
                continue
            for method, op in sorted(target_ops.items()):
                links[f"{method}_{op['operationId']}"] = {
                    "operationId": op["operationId"], "parameters": {found.group(1): "$response.body#/id"}}
        if links:
            created["links"] = links


def build_spec(app: Flask) -> dict[str, Any]:
    """Return the OpenAPI 3 document of every /api/v1 route."""
    spec = APISpec(title="梯度培育 Registry API", version="1.0.0", openapi_version="3.0.3",
                   plugins=[MarshmallowPlugin(schema_name_resolver=schema_name)],
                   info={"description": "优质中小企业梯度培育管理系统 JSON API。认证：会话 Cookie（POST /session）"
                                        "或 Authorization: Bearer <token>。"})
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    spec.components.security_scheme("cookie", {"type": "apiKey", "in": "cookie", "name": "session"})
    paths: dict[str, dict[str, Any]] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.rule.startswith("/api/v1"):
            continue
        path, params = _path(rule.rule)
        view = app.view_functions[rule.endpoint]
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(view, params, method.lower())
    _link_created(paths)
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()
