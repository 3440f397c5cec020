"""FastAPI dependencies as `Annotated` aliases: a route says `context: ContextDep` or `session: SessionDep`."""

from __future__ import annotations

from typing import Annotated, AsyncIterator

from fastapi import Depends, Request
from sqlmodel import Session

from ..settings import Settings
from .context import ApiContext
from .read.chain_reader import ChainReader
from .sessions import COOKIE_NAME, session_of
from .visibility import ANONYMOUS, Viewer, is_guild

# Dependencies are `async def` although they do not await: FastAPI runs a plain `def` dependency in its thread
# pool, one hand-over per dependency per request, which costs more than the work itself. None of them blocks:
# a Session connects lazily, inside the route's own worker thread.


async def get_context(request: Request) -> ApiContext:
    return request.app.state.context


async def get_settings_dep(request: Request) -> Settings:
    return request.app.state.context.settings


async def get_chain_reader(request: Request) -> ChainReader:
    return request.app.state.context.chain_reader


async def get_session(request: Request) -> AsyncIterator[Session]:
    session = Session(request.app.state.context.engine)
    try:
        yield session
    finally:
        session.close()


async def get_viewer(request: Request) -> Viewer:
    """Who asks: the account of the request's session cookie (with whether it holds the guild role), or anonymous.
    One indexed read per request that carries a cookie; none without."""
    session_id = request.cookies.get(COOKIE_NAME)
    if not session_id:
        return ANONYMOUS
    context: ApiContext = request.app.state.context
    with Session(context.engine) as session:
        row = session_of(session, context.chain_id, session_id)
        if row is None:
            return ANONYMOUS
        return Viewer(row.address, is_guild(session, context.chain_id, row.address, context.deployment.guild))


ContextDep = Annotated[ApiContext, Depends(get_context)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
ChainReaderDep = Annotated[ChainReader, Depends(get_chain_reader)]
SessionDep = Annotated[Session, Depends(get_session)]
ViewerDep = Annotated[Viewer, Depends(get_viewer)]
