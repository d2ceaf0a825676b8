"""The admin console: Swagger UI at /docs and ReDoc at /redoc, served entirely by Hubbub.

Their scripts and style sheets come from the `fastapi-offline` package, which ships
Swagger UI's and ReDoc's release bundles. They are served under a path that names the
package's version, so browsers may keep them for a year: an upgrade changes the path.
The pages are FastAPI's own. Their inline scripts are allowed by hash, so no other
script can run on them. ReDoc also inserts style sheets as it renders (styled-components,
and perfect-scrollbar's when its bundle loads, before any nonce could reach it) and runs
its search index in a worker made from a blob of its own code, so its page also allows
inline styles (which cannot run code) and blob: workers.
"""

from __future__ import annotations

import base64
import hashlib
import re
from importlib.metadata import version
from importlib.resources import files
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.staticfiles import StaticFiles
from starlette.responses import HTMLResponse, Response

DOCS_PATH = "/docs"
REDOC_PATH = "/redoc"
OAUTH2_REDIRECT_PATH = "/docs/oauth2-redirect"
ASSETS_VERSION = version("fastapi-offline")
ASSETS_PATH = f"/docs/assets/{ASSETS_VERSION}"
ASSETS_DIR = Path(str(files("fastapi_offline") / "static"))
FAVICON = "/favicon.svg"

SWAGGER_UI_PARAMETERS: dict[str, Any] = {
    "validatorUrl": None,  # the badge would load an image from swagger.io
    "filter": True,
    "displayRequestDuration": True,
}

_INLINE = re.compile(r"<(script|style)>(.*?)</\1>", re.DOTALL)


def content_security_policy(page: str, *, redoc: bool = False) -> str:
    """The page's policy: its own origin's assets, plus its inline blocks by hash."""
    hashes: dict[str, list[str]] = {"script": [], "style": []}
    for tag, body in _INLINE.findall(page):
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        hashes[tag].append(f"'sha256-{digest}'")
    return "; ".join(
        [
            "default-src 'none'",
            " ".join(["script-src 'self'", *hashes["script"]]),
            "style-src 'self' 'unsafe-inline'" if redoc else " ".join(["style-src 'self'", *hashes["style"]]),
            "worker-src blob:" if redoc else "worker-src 'none'",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def _page(response: HTMLResponse, *, redoc: bool = False) -> HTMLResponse:
    page = bytes(response.body).decode()
    response.headers["Content-Security-Policy"] = content_security_policy(page, redoc=redoc)
    response.headers["Cache-Control"] = "no-cache"
    return response


class DocsAssets(StaticFiles):
    """Swagger UI's and ReDoc's files; their path changes with their version."""

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        return response


router = APIRouter(include_in_schema=False)


@router.get(DOCS_PATH)
async def swagger_ui(request: Request) -> HTMLResponse:
    root = request.scope.get("root_path", "").rstrip("/")
    return _page(
        get_swagger_ui_html(
            openapi_url=f"{root}{request.app.openapi_url}",
            title=f"{request.app.title} admin console",
            swagger_js_url=f"{root}{ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{root}{FAVICON}",
            oauth2_redirect_url=f"{root}{OAUTH2_REDIRECT_PATH}",
            swagger_ui_parameters=SWAGGER_UI_PARAMETERS,
        )
    )


@router.get(OAUTH2_REDIRECT_PATH)
async def swagger_ui_oauth2_redirect() -> HTMLResponse:
    return _page(get_swagger_ui_oauth2_redirect_html())


@router.get(REDOC_PATH)
async def redoc(request: Request) -> HTMLResponse:
    root = request.scope.get("root_path", "").rstrip("/")
    return _page(
        get_redoc_html(
            openapi_url=f"{root}{request.app.openapi_url}",
            title=f"{request.app.title} API reference",
            redoc_js_url=f"{root}{ASSETS_PATH}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{FAVICON}",
            with_google_fonts=False,
        ),
        redoc=True,
    )


def install_docs(app: FastAPI) -> None:
    """The pages and their assets; call before the web client's catch-all mount."""
    app.include_router(router)
    app.mount(ASSETS_PATH, DocsAssets(directory=ASSETS_DIR), name="docs-assets")
