"""Library errors to HTTP: one table, one RFC 9457 problem+json shape, registered in a loop.

Every error response is ``application/problem+json`` with ``type``, ``title``, ``status``,
``detail``, ``instance`` and a stable machine-readable ``code``; validation problems add
``errors``, each naming the offending ``field``.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from psycopg_pool import PoolTimeout
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from gridmap.errors import (
    Conflict,
    DatabaseUnavailable,
    Forbidden,
    GridmapError,
    InvalidInput,
    LimitExceeded,
    NotFound,
)
from gridmap.maps.assets import MapAssetsMissing
from gridmap.maps.board import PdfRenderError

LOG = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"


class InvalidApiKey(GridmapError):
    """An API key was presented but is not one of the configured keys."""

    code = "invalid_api_key"


class TooManyRequests(GridmapError):
    """The caller is over its key's rate, or its address over the limit of failed keys."""

    code = "too_many_requests"


#: the one place where library errors meet HTTP status codes (the most specific class wins)
STATUS: dict[type[GridmapError], int] = {
    NotFound: 404,
    Conflict: 409,
    InvalidInput: 422,
    LimitExceeded: 413,
    InvalidApiKey: 401,
    Forbidden: 403,
    TooManyRequests: 429,
    DatabaseUnavailable: 503,
    MapAssetsMissing: 503,
    PdfRenderError: 503,
    GridmapError: 500,
}


class FieldProblem(BaseModel):
    field: str = Field(examples=["query.lat"])
    message: str = Field(examples=["Input should be a valid number"])


class Problem(BaseModel):
    """An error, as RFC 9457 problem details with a stable ``code``."""

    type: str = Field(examples=["urn:gridmap:problem:unknown_grid"])
    title: str = Field(examples=["Not Found"])
    status: int = Field(examples=[404])
    detail: str = Field(examples=["no grid with code '220103001001999'"])
    instance: str | None = Field(default=None, examples=["/v1/grids/220103001001999"])
    code: str = Field(examples=["unknown_grid"])
    errors: list[FieldProblem] | None = None


def problem_response(
    status: int,
    code: str,
    detail: str,
    instance: str | None = None,
    errors: list[FieldProblem] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """A problem+json response."""
    try:
        title = HTTPStatus(status).phrase
    except ValueError:
        title = "Error"
    body = Problem(
        type=f"urn:gridmap:problem:{code}",
        title=title,
        status=status,
        detail=detail,
        instance=instance,
        code=code,
        errors=errors,
    )
    return JSONResponse(
        body.model_dump(exclude_none=True),
        status_code=status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


def status_of(exc: GridmapError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


#: Open311 GeoReport v2 speaks its own error shape and codes: 400 for a bad request, 403 for
#: a missing or wrong api_key
OPEN311_PREFIX = "/open311/"
_OPEN311_STATUS = {422: 400, 401: 403, 413: 400}


class Open311Error(BaseModel):
    code: int = Field(examples=[400])
    description: str = Field(examples=["service_code 'X' is not a service"])


def _reply(
    request: Request, status: int, code: str, detail: str,
    errors: list[FieldProblem] | None = None, headers: dict[str, str] | None = None,
) -> JSONResponse:  # fmt: skip
    """problem+json, or GeoReport's error list on the Open311 routes."""
    if request.url.path.startswith(OPEN311_PREFIX):
        status = _OPEN311_STATUS.get(status, status)
        return JSONResponse([{"code": status, "description": detail}], status_code=status,
                            headers=headers)  # fmt: skip
    return problem_response(status, code, detail, request.url.path, errors, headers)


async def _gridmap_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, GridmapError)
    status = status_of(exc)
    if status >= 500:
        LOG.error("%s on %s: %s", exc.code, request.url.path, exc)
    field = exc.details.get("field")
    errors = [FieldProblem(field=str(field), message=exc.message)] if field else None
    retry = exc.details.get("retry_after")
    headers = {"Retry-After": str(int(retry))} if retry is not None else None
    return _reply(request, status, exc.code, exc.message, errors, headers)


def _field_name(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(p) for p in loc)


def _given(error: dict[str, Any]) -> str:
    """The bad value of one validation error, as the caller sent it (shortened), or "" where
    there is none to show (a missing field, an object or list).

    >>> _given({"type": "string_pattern_mismatch", "input": "yesterday"})
    "'yesterday' given: "
    >>> _given({"type": "missing", "input": {"a": 1}})
    ''
    """
    value = error.get("input")
    if error.get("type") == "missing" or not isinstance(value, str | int | float | bool):
        return ""
    text = repr(value)
    return f"{text[:60]}… given: " if len(text) > 60 else f"{text} given: "


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        FieldProblem(field=_field_name(e.get("loc", ())), message=_given(e) + str(e.get("msg", "")))
        for e in exc.errors()
    ]
    detail = "; ".join(f"{e.field}: {e.message}" for e in errors)
    return _reply(request, 422, "invalid_input", detail, errors)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = {404: "not_found", 405: "method_not_allowed", 413: "limit_exceeded"}.get(
        exc.status_code, f"http_{exc.status_code}"
    )
    return _reply(request, exc.status_code, code, str(exc.detail),
                  headers=dict(exc.headers) if exc.headers else None)  # fmt: skip


async def _database_down(request: Request, exc: Exception) -> JSONResponse:
    LOG.error("database unavailable on %s: %s", request.url.path, exc)
    return _reply(request, 503, DatabaseUnavailable.code,
                  "the database is unavailable; try again later",
                  headers={"Retry-After": str(request.app.state.settings.retry_after_s)})  # fmt: skip


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    LOG.exception("unexpected error on %s", request.url.path)
    return _reply(request, 500, "internal_error", "internal error")


def register(app: FastAPI) -> None:
    """Install the problem+json handlers on ``app``."""
    for cls in STATUS:
        app.add_exception_handler(cls, _gridmap_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    for down in (psycopg.OperationalError, PoolTimeout):
        app.add_exception_handler(down, _database_down)
    app.add_exception_handler(Exception, _unexpected)


def honest_openapi(schema: dict[str, Any]) -> dict[str, Any]:
    """Serve every documented error as problem+json with the Problem schema.

    FastAPI files a response ``model`` under ``application/json`` and documents its own
    validation error shape for 422; both are replaced by what the handlers above send.
    """
    problem_ref = {"$ref": "#/components/schemas/Problem"}
    open311_ref = {"type": "array", "items": {"$ref": "#/components/schemas/Open311Error"}}
    for url, path in schema.get("paths", {}).items():
        for operation in path.values():
            if url.startswith(OPEN311_PREFIX):
                _open311_errors(operation, open311_ref)
                continue
            for status, response in operation.get("responses", {}).items():
                if not status.startswith(("4", "5")):
                    continue
                content = response.setdefault("content", {})
                content.pop("application/json", None)
                content.setdefault(PROBLEM_JSON, {})["schema"] = problem_ref
    components = schema.get("components", {}).get("schemas", {})
    components["Open311Error"] = Open311Error.model_json_schema()
    if "Problem" not in components:
        components["Problem"] = Problem.model_json_schema(
            ref_template="#/components/schemas/{model}"
        )
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    return schema


def _open311_errors(operation: dict[str, Any], ref: dict[str, Any]) -> None:
    responses = operation.setdefault("responses", {})
    for status in [s for s in responses if s.startswith(("4", "5"))]:
        del responses[status]
    for status, what in OPEN311_STATUS_DOCS.items():
        responses[str(status)] = {"description": what,
                                  "content": {"application/json": {"schema": ref}}}  # fmt: skip


OPEN311_STATUS_DOCS = {
    400: "A bad or missing parameter (GeoReport v2 error list).",
    403: "api_key missing or not valid.",
    404: "No such service or request.",
    429: "Over the key's rate.",
    503: "The service or its database is unavailable.",
}


def _example(status: int, code: str, detail: str) -> dict[str, Any]:
    return {
        "model": Problem,
        "content": {
            PROBLEM_JSON: {
                "example": {
                    "type": f"urn:gridmap:problem:{code}",
                    "title": HTTPStatus(status).phrase,
                    "status": status,
                    "detail": detail,
                    "code": code,
                }
            }
        },
    }


#: ``responses=`` entries for route decorators, so OpenAPI documents the error shapes
Responses = dict[int | str, dict[str, Any]]


def not_found(code: str, detail: str) -> Responses:
    """A documented 404 with an example of its problem."""
    return {404: _example(404, code, detail)}


def documented(status: int, code: str, detail: str, description: str) -> Responses:
    """A documented error response with an example of its problem and what it means."""
    return {status: {**_example(status, code, detail), "description": description}}


UNAUTHORISED: Responses = {
    401: _example(401, "invalid_api_key", "the API key presented is not valid"),
    429: {
        **_example(429, "too_many_requests", "key 3 is over its rate of 600 requests a minute"),
        "description": "Over the key's rate, or too many failed keys from this address.",
        "headers": {
            "Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}
        },
    },
}
CONFLICT_ROSTER: Responses = {
    409: _example(
        409,
        "conflict",
        "the 网格长 of grid 220103001001001 is held by person P0001 "
        "since 2024-01-01: end that term first, or replace the chief",
    )
}
#: the Open311 routes document their errors in :func:`honest_openapi`
OPEN311_ERRORS: Responses = {400: {"description": "A bad request."}}
FORBIDDEN: Responses = {
    403: _example(403, "forbidden", "this needs an admin key; key 3 (王芳) is a planner key")
}
INVALID: Responses = {
    422: _example(422, "invalid_input", "query.lat: Input should be a valid number")
}
TOO_LARGE: Responses = {413: _example(413, "limit_exceeded", "10001 rows; at most 10000 per batch")}
UNAVAILABLE: Responses = {
    503: {
        **_example(503, "overloaded", "the service is at capacity (10 requests at work) ..."),
        "description": "`overloaded`: every slot was busy for the configured wait; or "
        "`database_unavailable`: the database cannot be reached. Retry after the header's "
        "seconds.",
        "headers": {
            "Retry-After": {
                "description": "Seconds to wait before retrying.",
                "schema": {"type": "integer"},
            }
        },
    }
}
