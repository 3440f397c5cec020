"""The web client: static ES modules, CSS and images, served by the API at `/` with the front-end libraries from
npm (`node_modules`, no CDN) at `/vendor/` and the twins' media at `/media/`."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from fastapi import FastAPI, HTTPException
from fastapi.responses import FileResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from .bundle import BundleError, commonjs_module

WEB_DIR = Path(__file__).resolve().parent
# The only files of node_modules the client loads: name in /vendor/ -> path under node_modules.
VENDOR_FILES = {
    "ethers.min.js": "ethers/dist/ethers.min.js",
    "chart.umd.min.js": "chart.js/dist/chart.umd.min.js",
}


@lru_cache(maxsize=2)
def _merkle_tree_module(node_modules: Path) -> str:
    return commonjs_module(
        node_modules / "@openzeppelin/merkle-tree/dist/index.js",
        node_modules,
        {"@metamask/abi-utils": "{ encode: (types, values) => "
                                "ethers.getBytes(ethers.AbiCoder.defaultAbiCoder().encode(types, values)) }"},
        prelude='import { ethers } from "/vendor/ethers.min.js";',
    )


def mount_web(app: FastAPI, settings) -> None:
    node_modules = Path(settings.project_root) / "node_modules"

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(WEB_DIR / "index.html", headers={"Cache-Control": "no-cache"})

    @app.get("/vendor/merkle-tree.js", include_in_schema=False)
    def merkle_tree() -> Response:
        # CommonJS on npm: served as one ES module (web/bundle.py), its ABI encoder being the client's ethers.
        try:
            text = _merkle_tree_module(node_modules)
        except (OSError, BundleError):
            raise HTTPException(status_code=404, detail="no front-end library merkle-tree.js; run `npm ci`") from None
        return Response(text, media_type="text/javascript", headers={"Cache-Control": "max-age=3600"})

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
