"""Adds the read API's state, middleware, operations routes and the web client to an application."""

from __future__ import annotations

from fastapi import FastAPI

from ...web import mount_web
from ..routes import health, metrics
from .chain_reader import ChainReader
from .context import ReadContext
from .limits import MAX_BODY_BYTES, BodySizeLimit


def install_read_api(app: FastAPI, context, *, max_body_bytes: int = MAX_BODY_BYTES) -> None:
    """`context` is the application's ApiContext (settings, engine, deployment)."""
    settings = context.settings
    deployment = context.deployment
    read = ReadContext(
        context.engine, deployment.chain_id, deployment.genesis_hash, settings.media_dir, settings.deployments_dir
    )
    app.state.read = read
    app.state.chain_reader = ChainReader(settings.rpc_url, settings.artifacts_dir, context.deployment)
    app.state.metrics = metrics.ApiMetrics()
    app.state.metrics.registry.register(metrics.IndexCollector(read))
    # Outermost last: the size limit refuses a body before anything else reads it, and is itself counted.
    app.add_middleware(BodySizeLimit, max_bytes=max_body_bytes)
    app.add_middleware(metrics.MetricsMiddleware, metrics=app.state.metrics)
    app.include_router(health.router)
    app.include_router(metrics.router)
    mount_web(app, settings)
