"""Serving read queries: cached JSON bodies on the event loop, database work in the thread pool."""

from __future__ import annotations

import json
from typing import Any, Callable

from fastapi.responses import Response
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from ..context import ApiContext, IndexVersion

JSON = "application/json"


def dump(value: Any) -> bytes:
    """JSON of plain data or pydantic models, compact."""
    if hasattr(value, "model_dump_json"):
        return value.model_dump_json().encode()
    return json.dumps(value, separators=(",", ":")).encode()


async def respond(
    ctx: ApiContext,
    key: tuple | None,
    build: Callable[[Session, int, IndexVersion], Any],
    *,
    clock_dependent: bool = False,
) -> Response:
    """The JSON of `build(session, now, version)`, cached under `key` until the index moves (no cache if key is None)
    and, if `clock_dependent`, until the next moment the answer may change with time alone.

    `build` raises `NotFoundError` (a 404) when what the request names does not exist.
    """
    version = ctx.version()
    if key is not None:
        body = ctx.peek(key, version)
        if body is not None:
            return Response(body, media_type=JSON)

    def compute() -> tuple[bytes, float | None]:
        with Session(ctx.engine) as session:
            now = ctx.now(version)
            body = dump(build(session, now, version))
            return body, ctx.next_consent_change(session, now) if clock_dependent and key is not None else None

    body, valid_until = await run_in_threadpool(compute)
    if key is not None:
        ctx.store(key, version, body, valid_until)
    return Response(body, media_type=JSON)
