"""`/health`: whether the database answers, the node answers, and how far the index is behind the chain."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from ... import __version__
from ..deps import ChainReaderDep, ContextDep
from ..read.schemas import HealthPublic

router = APIRouter(tags=["operations"])

# The index may trail the head by this many blocks and still count as healthy (the settler's blocks arrive fast).
MAX_LAG_BLOCKS = 5


@router.get(
    "/health",
    response_model=HealthPublic,
    summary="Liveness and readiness: database, node, index lag",
    responses={503: {"model": HealthPublic, "description": "the database does not answer"}},
)
async def read_health(context: ContextDep, chain: ChainReaderDep) -> JSONResponse:
    def probe() -> HealthPublic:
        database = True
        index_block = None
        try:
            with Session(context.engine) as session:
                session.execute(text("SELECT 1"))
                index_block = context.read_version(session).block_number
        except SQLAlchemyError:
            database = False
        head = chain.head()
        lag = None if head is None or index_block is None else max(0, head - index_block)
        if not database:
            status = "down"
        elif head is None or index_block is None or (lag or 0) > MAX_LAG_BLOCKS:
            status = "degraded"
        else:
            status = "ok"
        return HealthPublic(
            status=status, version=__version__, chain_id=context.chain_id, database=database, chain=head is not None,
            chain_head=head, index_block=index_block, index_lag_blocks=lag,
        )

    health = await run_in_threadpool(probe)
    return JSONResponse(health.model_dump(), status_code=503 if health.status == "down" else 200)
