"""The FastAPI application factory: the shared context, error handlers, middleware, every router, the web client."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI

from .. import __version__
from ..chain.deployment import Deployment, read_deployment
from ..chain.node import rpc_chain_id
from ..db.engine import engine_from_settings
from ..errors import DeploymentNotFoundError
from ..settings import Settings, get_settings
from ..web import mount_web
from .context import ApiContext
from .errors import install_error_handlers
from .limits import MAX_BODY_BYTES, BodySizeLimit, StrictJsonBodies
from .routes import api_router, docs_router, operations_router
from .routes.metrics import ApiMetrics, IndexCollector, MetricsMiddleware
from .routes.paths import OPENAPI_URL
from .routes.provenance import IMAGE_BODY_LIMIT, IMAGE_BODY_PATHS


def _find_deployment(settings: Settings) -> Deployment:
    """The deployment of the chain the RPC URL answers for, else the only deployment file there is."""
    chain_id = rpc_chain_id(settings.rpc_url)
    if chain_id is not None:
        return read_deployment(settings.deployments_dir, chain_id)
    files = sorted(p for p in settings.deployments_dir.glob("*.json") if p.stem.isdigit())
    if len(files) == 1:
        return read_deployment(settings.deployments_dir, int(files[0].stem))
    raise DeploymentNotFoundError(
        f"cannot tell which deployment to serve: the node at {settings.rpc_url} does not answer and "
        f"{settings.deployments_dir} holds {len(files)} deployment files"
    )


def create_app(
    settings: Settings | None = None,
    *,
    deployment: Deployment | None = None,
    engine=None,
    max_body_bytes: int = MAX_BODY_BYTES,
) -> FastAPI:
    settings = settings or get_settings()
    deployment = deployment or _find_deployment(settings)
    context = ApiContext(settings, engine or engine_from_settings(settings), deployment)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        await context.relay.aclose()

    app = FastAPI(
        title="Twin licensing",
        version=__version__,
        description=(
            "Licence tokens for the AI digital twins of fashion models. Brands report each use of a twin, signed "
            "with their wallet (EIP-712); the backend settles a royalty for every use on chain, once, provably."
        ),
        openapi_url=OPENAPI_URL,
        docs_url=None,  # served offline by routes/docs.py
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.context = context
    app.state.metrics = ApiMetrics()
    app.state.metrics.registry.register(IndexCollector(context))
    install_error_handlers(app)
    # Outermost last: the size limit refuses a body before anything else reads it, and is itself counted.
    app.add_middleware(StrictJsonBodies)
    image_bodies = [(pattern, IMAGE_BODY_LIMIT) for pattern in IMAGE_BODY_PATHS]  # images: 20 MB
    app.add_middleware(BodySizeLimit, max_bytes=max_body_bytes, overrides=image_bodies)
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    for router in (api_router, operations_router, docs_router):
        app.include_router(router)
    mount_web(app, settings)  # the web client at /, its libraries at /vendor/, the twins' media at /media/
    return app
