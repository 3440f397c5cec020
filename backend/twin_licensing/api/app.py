"""The FastAPI application factory."""

from __future__ import annotations

from fastapi import FastAPI

from .. import __version__
from ..chain.deployment import Deployment, read_deployment
from ..chain.node import rpc_chain_id
from ..chain.use_reports import UseReportDomain
from ..db.engine import engine_from_settings
from ..errors import DeploymentNotFoundError
from ..settings import Settings, get_settings
from ..usage.index_view import IndexView
from ..usage.intake import UseIntake
from .context import ApiContext
from .errors import install_error_handlers
from .read.setup import install_read_api
from .routes import api_router

API_PREFIX = "/api/v1"


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


def create_app(settings: Settings | None = None, *, deployment: Deployment | None = None, engine=None) -> FastAPI:
    settings = settings or get_settings()
    deployment = deployment or _find_deployment(settings)
    engine = engine or engine_from_settings(settings)
    domain = UseReportDomain(chain_id=deployment.chain_id, verifying_contract=deployment.license_token)
    index = IndexView()
    context = ApiContext(
        settings=settings,
        engine=engine,
        deployment=deployment,
        domain=domain,
        index=index,
        intake=UseIntake(engine, domain, deployment.genesis_hash),
    )
    app = FastAPI(
        title="Twin licensing",
        version=__version__,
        description=(
            "Licence tokens for the AI digital twins of fashion models. Brands report each use of a twin, signed "
            "with their wallet (EIP-712); the backend settles a royalty for every use on chain, once, provably."
        ),
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
    )
    app.state.context = context
    install_error_handlers(app)
    app.include_router(api_router, prefix=API_PREFIX)
    install_read_api(app, context)  # read API: /health, /metrics, body limit, web client at /
    return app
