"""Serving read queries: cached JSON bodies on the event loop, database work in the thread pool."""

from __future__ import annotations

from typing import Any, Callable

from fastapi import HTTPException
from fastapi.responses import Response
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from .context import IndexVersion, ReadContext, dump

JSON = "application/json"


class NotFound(Exception):
    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


async def respond(
    read: ReadContext,
    key: tuple | None,
    build: Callable[[Session, int, IndexVersion], Any],
    *,
    clock_dependent: bool = False,
) -> Response:
    """The JSON of `build(session, now, version)`, cached under `key` until the index moves (no cache if key is None)
    and, if `clock_dependent`, until the next moment the answer may change with time alone.

    `build` raises NotFound for a 404.
    """
    version = read.version()
    if key is not None:
        body = read.peek(key, version)
        if body is not None:
            return Response(body, media_type=JSON)

    def compute() -> tuple[bytes, float | None]:
        with Session(read.engine) as session:
            now = read.now(version)
            body = dump(build(session, now, version))
            return body, read.next_consent_change(session, now) if clock_dependent and key is not None else None

    try:
        body, valid_until = await run_in_threadpool(compute)
    except NotFound as exc:
        raise HTTPException(status_code=404, detail=exc.detail) from None
    if key is not None:
        read.store(key, version, body, valid_until)
    return Response(body, media_type=JSON)
