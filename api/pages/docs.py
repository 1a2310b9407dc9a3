"""``/docs``: the OpenAPI documentation in Swagger UI, from the vendored files (no CDN)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from starlette.responses import HTMLResponse

from api.pages.assets import asset_url

router = APIRouter(include_in_schema=False)


@router.get("/docs")
def docs(request: Request) -> HTMLResponse:
    app = request.app
    return get_swagger_ui_html(
        openapi_url=app.openapi_url,
        title=f"{app.title}: API documentation",
        swagger_js_url=asset_url("vendor/swagger-ui/swagger-ui-bundle.js"),
        swagger_css_url=asset_url("vendor/swagger-ui/swagger-ui.css"),
        swagger_favicon_url=asset_url("vendor/swagger-ui/favicon-32x32.png"),
        oauth2_redirect_url=None,
    )
