"""The web client: static ES modules, CSS and images, served by the API at `/` with the front-end libraries from
npm (`node_modules`, no CDN) at `/vendor/` and the twins' media at `/media/`."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, HTTPException
from fastapi.responses import FileResponse
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

WEB_DIR = Path(__file__).resolve().parent
# The only files of node_modules the client loads: name in /vendor/ -> path under node_modules.
VENDOR_FILES = {
    "ethers.min.js": "ethers/dist/ethers.min.js",
    "chart.umd.min.js": "chart.js/dist/chart.umd.min.js",
}


def mount_web(app: FastAPI, settings) -> None:
    node_modules = Path(settings.project_root) / "node_modules"

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(WEB_DIR / "index.html", headers={"Cache-Control": "no-cache"})

    @app.get("/vendor/{name}", include_in_schema=False)
    def vendor(name: str) -> FileResponse:
        relative = VENDOR_FILES.get(name)
        path = node_modules / relative if relative else None
        if path is None or not path.is_file():
            raise HTTPException(status_code=404, detail=f"no front-end library {name!r}; run `npm ci`")
        return FileResponse(path, media_type="text/javascript", headers={"Cache-Control": "max-age=3600"})

    app.mount("/static", StaticFiles(directory=WEB_DIR / "static"), name="static")
    if not any(isinstance(r, Mount) and r.path == "/media" for r in app.routes):
        media = Path(settings.media_dir)
        media.mkdir(parents=True, exist_ok=True)
        app.mount("/media", StaticFiles(directory=media), name="media")
