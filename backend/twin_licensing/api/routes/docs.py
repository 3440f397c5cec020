"""The API's interactive documentation, Swagger UI, served whole from this server: its files come from npm's
`swagger-ui-dist` in node_modules (installed by `npm ci`), so the page works without internet access, and its
configuration turns off everything that would call out (the online validator's badge).
"""

from __future__ import annotations

import html
import json
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse

from ...errors import NotFoundError
from .paths import DOCS_URL, OPENAPI_URL

router = APIRouter(include_in_schema=False)

ASSETS_URL = f"{DOCS_URL}/static"
# The only files of swagger-ui-dist the page loads (and the source maps a browser's developer tools ask for).
ASSETS = {
    "swagger-ui.css": "text/css",
    "swagger-ui-bundle.js": "text/javascript",
    "favicon-32x32.png": "image/png",
    "favicon-16x16.png": "image/png",
    "swagger-ui.css.map": "application/json",
    "swagger-ui-bundle.js.map": "application/json",
}

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="stylesheet" href="{assets}/swagger-ui.css">
<link rel="icon" type="image/png" href="{assets}/favicon-32x32.png" sizes="32x32">
<link rel="icon" type="image/png" href="{assets}/favicon-16x16.png" sizes="16x16">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script>
window.ui = SwaggerUIBundle({config});
</script>
</body>
</html>
"""


def swagger_dist(project_root: Path) -> Path:
    return Path(project_root) / "node_modules" / "swagger-ui-dist"


@router.get(DOCS_URL)
async def swagger_ui(request: Request) -> HTMLResponse:
    config = {
        "url": OPENAPI_URL,
        "dom_id": "#swagger-ui",
        "deepLinking": True,
        "layout": "BaseLayout",
        "validatorUrl": None,  # else the page asks validator.swagger.io for a badge
        "tryItOutEnabled": False,
        "displayRequestDuration": True,
    }
    body = PAGE.format(
        title=html.escape(f"{request.app.title} - API"),
        assets=ASSETS_URL,
        # JSON in a <script>: "</" would end the element early, so it is escaped.
        config=json.dumps(config).replace("</", "<\\/"),
    )
    return HTMLResponse(body, headers={"Cache-Control": "no-cache"})


@router.get(ASSETS_URL + "/{name}")
async def swagger_asset(name: str, request: Request) -> FileResponse:
    media_type = ASSETS.get(name)
    path = swagger_dist(request.app.state.context.settings.project_root) / name
    if media_type is None or not path.is_file():
        raise NotFoundError(f"The documentation has no file {name[:80]!r}; if it should, run `npm ci`.")
    return FileResponse(path, media_type=media_type, headers={"Cache-Control": "max-age=3600"})
