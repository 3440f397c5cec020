"""The usage log: every use of the twins the viewer may see (their model, payees, the guild), newest first.

- `GET /usage-log`: a keyset page, filtered by twin, brand, category, territory and period (`usage.log`);
- `GET /usage-log/summary`: the twins the viewer sees and how many uses arrived since the last visit;
- `POST /usage-log/visit`: records this visit (the web client calls it once the log is open);
- `GET /usage-log/stream`: server-sent events, one `use` event per use of those twins as it settles.

Who sees which twins is `api.visibility`'s rule; a twin filter naming a twin the viewer may not see is answered
like a twin that does not exist (404). Anyone else sees an empty log.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from typing import Annotated, AsyncIterator

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlmodel import Session
from sse_starlette import EventSourceResponse, ServerSentEvent

from ...db.registry_state import Twin
from ...db.assets import attached_images
from ...db.uses import UtcDateTime
from ...usage.log import (
    DEFAULT_LIMIT,
    LogEntry,
    LogFilters,
    category_filter,
    last_visit,
    mark_visit,
    new_since,
    period_filter,
    settled_since,
    settlement_mark,
    territory_filter,
    usage_log_page,
)
from ..context import ApiContext
from ..deps import ContextDep, SessionDep, ViewerDep
from ..read.catalogue import twin_name
from ..read.schemas import Address
from ..visibility import Viewer, not_found, visible_twins

router = APIRouter(prefix="/usage-log", tags=["usage log"])

STREAM_POLL_SECONDS = 1.0  # how often a live stream looks for new settlements
TWIN_AUDIENCE = "its model, one of its payees or the guild"


class UsageLogEntryPublic(BaseModel):
    id: int = Field(description="the use id (GET /uses/{id}, /uses/{id}/proof)")
    twin_id: int
    twin_name: str
    license_id: int
    seq: int = Field(description="the use's number within its licence")
    brand: str = Field(description="the licence holder who reported the use")
    brand_label: str = Field(description="the brand's name as this deployment knows it; empty when unknown")
    category: int
    category_name: str
    territory: int
    territory_name: str
    label: str | None = Field(description="what the brand called the asset; null when it gave no label")
    use_ref: str = Field(description="the asset's hash, as signed")
    used_at: int = Field(description="when the twin was used, unix seconds, as signed")
    reported_at: UtcDateTime = Field(description="when the backend accepted the report")
    settled: bool
    settled_at: UtcDateTime | None = Field(description="the settling block's time; null until settled")
    tx_hash: str | None = Field(description="the settle transaction; null until settled")
    uses_root: str | None = Field(description="the Merkle root the settlement committed to; null until settled")
    block_number: int | None
    asset: bool = Field(default=False, description="an image is attached: GET /uses/{id}/asset/thumbnail")


class UsageLogPagePublic(BaseModel):
    data: list[UsageLogEntryPublic]
    next_cursor: str | None = Field(description="pass as `cursor` for the next, older page; null on the oldest")


class TwinRefPublic(BaseModel):
    twin_id: int
    name: str


class UsageLogSummaryPublic(BaseModel):
    viewer: str | None = Field(description="the signed-in account; null when anonymous (the log is then empty)")
    guild: bool
    twins: list[TwinRefPublic] = Field(description="the twins whose uses the viewer sees")
    new_since_last_visit: int = Field(description="uses of those twins reported since the viewer's last visit")
    last_visit: UtcDateTime | None = Field(description="when the viewer last opened the log; null: never")


def _twin_names(session: Session, context: ApiContext, twin_ids: set[int]) -> dict[int, str]:
    names = {}
    for twin_id in twin_ids:
        twin = session.get(Twin, (context.chain_id, twin_id))
        names[twin_id] = twin_name(context, twin) if twin is not None else f"Twin #{twin_id}"
    return names


def _public(session: Session, context: ApiContext, entries: list[LogEntry]) -> list[UsageLogEntryPublic]:
    names = _twin_names(session, context, {e.twin_id for e in entries})
    with_image = attached_images(session, [e.use_id for e in entries])
    return [
        UsageLogEntryPublic(
            id=e.use_id, twin_id=e.twin_id, twin_name=names[e.twin_id], license_id=e.license_id, seq=e.seq,
            brand=e.brand, brand_label=context.label(e.brand), category=e.category, category_name=e.category_name,
            territory=e.territory, territory_name=e.territory_name, label=e.label, use_ref=e.use_ref,
            used_at=e.used_at, reported_at=e.accepted_at, settled=e.settled, settled_at=e.settled_at,
            tx_hash=e.tx_hash, uses_root=e.uses_root, block_number=e.block_number, asset=e.use_id in with_image,
        )
        for e in entries
    ]


def _twins(session: Session, context: ApiContext, viewer: Viewer, twin: int | None) -> list[int] | None:
    """The twins of the viewer's log (None: every twin); a 404 when `twin` is one it may not see."""
    twins = visible_twins(session, context.chain_id, viewer)
    if twin is not None and twins is not None and twin not in twins:
        raise not_found(f"usage log of twin {twin}", TWIN_AUDIENCE)
    return twins


@router.get("", response_model=UsageLogPagePublic, summary="The uses of the twins you may see, newest first")
def read_usage_log(
    session: SessionDep,
    context: ContextDep,
    viewer: ViewerDep,
    twin: Annotated[int | None, Query(ge=1, le=2**63 - 1, description="only this twin")] = None,
    license: Annotated[int | None, Query(ge=1, le=2**63 - 1, description="only this licence")] = None,
    brand: Annotated[Address | None, Query(description="only uses reported by this licence holder")] = None,
    category: Annotated[str | None, Query(max_length=40, description="a category's bit index or name")] = None,
    territory: Annotated[str | None, Query(max_length=40, description="a territory's bit index or name")] = None,
    from_: Annotated[str | None, Query(alias="from", max_length=10, description="first day, YYYY-MM-DD")] = None,
    to: Annotated[str | None, Query(max_length=10, description="last day (included), YYYY-MM-DD")] = None,
    cursor: Annotated[str | None, Query(max_length=40, description="`next_cursor` of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=100, description="uses per page")] = DEFAULT_LIMIT,
) -> UsageLogPagePublic:
    since, until = period_filter(from_, to, datetime.now(timezone.utc))
    filters = LogFilters(
        twin_id=twin, license_id=license, brand=brand, category=category_filter(category), territory=territory_filter(territory),
        since=since, until=until,
    )
    twins = _twins(session, context, viewer, twin)
    page = usage_log_page(session, context.scope, twins, filters, cursor=cursor, limit=limit)
    return UsageLogPagePublic(data=_public(session, context, page.entries), next_cursor=page.next_cursor)


@router.get("/summary", response_model=UsageLogSummaryPublic, summary="Your twins and what is new since your last visit")
def read_usage_log_summary(session: SessionDep, context: ContextDep, viewer: ViewerDep) -> UsageLogSummaryPublic:
    twins = visible_twins(session, context.chain_id, viewer)
    shown = twins if twins is not None else list(
        session.execute(select(Twin.twin_id).where(Twin.chain_id == context.chain_id).order_by(Twin.twin_id)).scalars()
    )
    seen = last_visit(session, context.chain_id, viewer.address) if viewer.signed_in else None
    names = _twin_names(session, context, set(shown))
    return UsageLogSummaryPublic(
        viewer=viewer.address,
        guild=viewer.guild,
        twins=[TwinRefPublic(twin_id=t, name=names[t]) for t in shown],
        new_since_last_visit=new_since(session, context.scope, twins, seen) if viewer.signed_in else 0,
        last_visit=seen,
    )


class VisitPublic(BaseModel):
    recorded: bool = Field(description="false for an anonymous visitor, who has no log")
    seen_at: UtcDateTime | None


@router.post("/visit", response_model=VisitPublic, summary="Record that you opened the usage log now")
def record_visit(session: SessionDep, context: ContextDep, viewer: ViewerDep) -> VisitPublic:
    if not viewer.signed_in:  # an anonymous visitor has no log, and no visit to remember
        return VisitPublic(recorded=False, seen_at=None)
    now = datetime.now(timezone.utc)
    mark_visit(session, context.chain_id, viewer.address, now)
    return VisitPublic(recorded=True, seen_at=now)


@router.get(
    "/stream",
    summary="Server-sent events: a `use` event (a usage-log entry as JSON) for each use of your twins as it settles",
    response_class=EventSourceResponse,
)
async def stream_usage_log(context: ContextDep, viewer: ViewerDep) -> EventSourceResponse:
    def start() -> tuple[list[int] | None, tuple[int, int]]:
        with Session(context.engine) as session:
            return visible_twins(session, context.chain_id, viewer), settlement_mark(session, context.chain_id)

    def poll(twins, mark):
        with Session(context.engine) as session:
            entries, mark = settled_since(session, context.scope, twins, mark)
            return [e.model_dump_json() for e in _public(session, context, entries)], mark

    twins, mark = await asyncio.to_thread(start)

    async def events() -> AsyncIterator[ServerSentEvent]:
        nonlocal mark
        yield ServerSentEvent(comment="usage log: settled uses follow")
        while True:  # sse-starlette ends the generator when the client leaves or the server stops
            if twins is None or twins:
                bodies, mark = await asyncio.to_thread(poll, twins, mark)
                for body in bodies:
                    yield ServerSentEvent(data=body, event="use")
            await asyncio.sleep(STREAM_POLL_SECONDS)

    return EventSourceResponse(events(), ping=15, headers={"Cache-Control": "no-store"})
