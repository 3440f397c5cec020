"""Dependencies of the read routes: the per-application read context and chain reader (see `install_read_api`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from .chain_reader import ChainReader
from .context import ReadContext


async def get_read(request: Request) -> ReadContext:
    return request.app.state.read


async def get_chain_reader(request: Request) -> ChainReader:
    return request.app.state.chain_reader


ReadDep = Annotated[ReadContext, Depends(get_read)]
ChainReaderDep = Annotated[ChainReader, Depends(get_chain_reader)]
