"""Swagger UI and ReDoc served from local assets, so the docs work offline."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)

STATIC = "/static/docs"


@router.get("/docs")
def swagger_ui(request: Request) -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url=str(request.app.openapi_url),
        title=f"{request.app.title} — Swagger UI",
        swagger_js_url=f"{STATIC}/swagger/swagger-ui-bundle.js",
        swagger_css_url=f"{STATIC}/swagger/swagger-ui.css",
        swagger_favicon_url=f"{STATIC}/fastapi/favicon.png",
    )


@router.get("/redoc")
def redoc(request: Request) -> HTMLResponse:
    return get_redoc_html(
        openapi_url=str(request.app.openapi_url),
        title=f"{request.app.title} — ReDoc",
        redoc_js_url=f"{STATIC}/redoc/redoc.standalone.js",
        redoc_favicon_url=f"{STATIC}/fastapi/favicon.png",
        with_google_fonts=False,
    )
