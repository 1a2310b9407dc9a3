"""``/docs``: the OpenAPI documentation in Swagger UI, from the vendored files (no CDN).

Our own page (``templates/docs.html``) rather than FastAPI's ``get_swagger_ui_html``, whose inline
script would need ``'unsafe-inline'``: Swagger UI starts from ``static/docs.js``, so the page's
Content-Security-Policy (:data:`api.kit.headers.DOCS_CSP`) allows scripts from the service only.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse

from api.pages.kit.render import render

router = APIRouter(include_in_schema=False)


@router.get("/docs")
def docs(request: Request) -> HTMLResponse:
    app = request.app
    return render(request, "docs.html", {"title": f"{app.title}: API documentation", "openapi_url": app.openapi_url})
