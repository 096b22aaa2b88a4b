"""Swagger UI and ReDoc served from local assets, so the docs work offline."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)

STATIC = "/static/docs"


FAVICON = f"{STATIC}/fastapi/favicon.png"


def _page(request: Request, viewer: str) -> dict[str, Any]:
    return {"openapi_url": str(request.app.openapi_url), "title": f"{request.app.title} — {viewer}"}


@router.get("/docs")
def swagger_ui(request: Request) -> HTMLResponse:
    js, css = f"{STATIC}/swagger/swagger-ui-bundle.js", f"{STATIC}/swagger/swagger-ui.css"
    return get_swagger_ui_html(
        **_page(request, "Swagger UI"),
        swagger_js_url=js,
        swagger_css_url=css,
        swagger_favicon_url=FAVICON,
    )


@router.get("/redoc")
def redoc(request: Request) -> HTMLResponse:
    js = f"{STATIC}/redoc/redoc.standalone.js"
    return get_redoc_html(
        **_page(request, "ReDoc"),
        redoc_js_url=js,
        redoc_favicon_url=FAVICON,
        with_google_fonts=False,
    )
