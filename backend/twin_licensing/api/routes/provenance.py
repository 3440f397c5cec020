"""Issue 13's endpoints: images attached to uses, their content credentials (C2PA), the public image check, and
unlicensed uses reported to the guild.

POST /uses/{use_id}/asset                 the image (raw body, ≤ 20 MB) whose SHA-256 is the use's signed use_ref
GET  /uses/{use_id}/asset                 the image as uploaded               (holder, model, payees, guild)
GET  /uses/{use_id}/asset/thumbnail       a JPEG at most 256 px               (same)
GET  /uses/{use_id}/asset/credentialed    the image with a signed C2PA manifest naming the use (same)
POST /verify                              any image (raw body, ≤ 20 MB): a verdict (public, rate-limited)
POST /unlicensed-uses                     multipart `file` + `note`: recorded for the guild (public, rate-limited)
GET  /unlicensed-uses                     the reports, newest first (the guild only)

Images are judged by content (JPEG, PNG, WebP), never by their declared type; a refusal stores nothing.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Query, Request, Response, UploadFile, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field
from sqlmodel import Session

from ...db.assets import Asset
from ...db.uses import UtcDateTime
from ...domain.use_record import use_number
from ...provenance import assets as asset_rules
from ...provenance import reports
from ...provenance.errors import ImageTooLarge
from ...provenance.images import MAX_ASSET_BYTES, sha256_hex, too_large_sentence
from ...provenance.service import Provenance
from ...provenance.verify import Names, VerifyResult
from ...usage.status import get_use
from ..context import ApiContext
from ..deps import ContextDep, SessionDep, ViewerDep
from ..limits import RateLimit
from ..visibility import LICENCE_AUDIENCE, Viewer, can_see_use_of, not_found
from .uses import UseId

router = APIRouter(tags=["provenance"])

# Paths whose bodies are images: up to 20 MB instead of the API's 64 KiB (`limits.BodySizeLimit`).
IMAGE_BODY_PATHS = (r"^/api/v1/uses/[^/]+/asset$", r"^/api/v1/verify$", r"^/api/v1/unlicensed-uses$")
# Multipart framing around the image.
IMAGE_BODY_LIMIT = MAX_ASSET_BYTES + 64 * 1024


class AssetPublic(BaseModel):
    sha256: str = Field(description="SHA-256 of the image, 0x-hex: the use_ref of the uses it belongs to")
    media_type: str = Field(description="image/jpeg | image/png | image/webp, from the content")
    size: int = Field(description="bytes")
    width: int
    height: int
    stored_at: UtcDateTime
    use_ids: list[int] = Field(description="the uses this image is attached to")
    thumbnail_url: str
    credentialed_url: str


class UnlicensedReportPublic(BaseModel):
    id: int
    sha256: str
    phash: str
    note: str
    reporter: str | None = Field(description="the signed-in account that reported it, if any")
    reported_at: UtcDateTime


class UnlicensedReportList(BaseModel):
    items: list[UnlicensedReportPublic]
    total: int


def provenance_of(context: ApiContext, request: Request) -> Provenance:
    found = getattr(request.app.state, "provenance", None)
    if found is None:
        names = Names(
            twin=lambda twin, twin_id: (context.metadata.get(twin.uri).name if twin is not None else None)
            or f"twin #{twin_id}",
            account=context.label,
        )
        found = request.app.state.provenance = Provenance(context.settings, context.engine, context.deployment, names)
    return found


async def _provenance(request: Request, context: ContextDep) -> Provenance:
    return provenance_of(context, request)


ProvenanceDep = Annotated[Provenance, Depends(_provenance)]


async def _verify_limit(request: Request, context: ContextDep) -> None:
    limit = context.settings.verify_rate_per_minute
    await RateLimit("verify-image", per_minute=limit, burst=limit)(request)


async def _report_limit(request: Request, context: ContextDep) -> None:
    limit = context.settings.report_rate_per_minute
    await RateLimit("report-unlicensed", per_minute=limit, burst=limit)(request)


async def _image_body(request: Request) -> bytes:
    """The body, refused past 20 MB while it streams (the middleware refuses an announced larger one first)."""
    chunks, received = [], 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > MAX_ASSET_BYTES:
            raise ImageTooLarge(too_large_sentence())
        chunks.append(chunk)
    return b"".join(chunks)


def _public(asset: Asset, use_ids: list[int], use_id: int) -> AssetPublic:
    base = f"/api/v1/uses/{use_id}/asset"
    return AssetPublic(
        sha256=asset.sha256, media_type=asset.media_type, size=asset.size, width=asset.width, height=asset.height,
        stored_at=asset.stored_at, use_ids=use_ids, thumbnail_url=base + "/thumbnail",
        credentialed_url=base + "/credentialed",
    )


def _may_see(session: Session, context: ApiContext, viewer: Viewer, use) -> bool:
    return can_see_use_of(session, context.chain_id, viewer, signer=use.signer, twin_id=use.twin_id)


def _visible_asset(session: Session, context: ApiContext, viewer: Viewer, use_id: int):
    use = get_use_or_none(session, context, use_id)
    if use is None or not _may_see(session, context, viewer, use):
        raise not_found(f"use {use_id}", LICENCE_AUDIENCE)
    return asset_rules.asset_of_use(session, context.scope, use_id)  # 404 with a sentence if it has no image


@router.post(
    "/uses/{use_id}/asset",
    response_model=AssetPublic,
    status_code=status.HTTP_201_CREATED,
    responses={200: {"model": AssetPublic, "description": "this image was attached to the use before"}},
    summary="Attach the image a use was reported for (raw body; its SHA-256 must be the use's use_ref)",
)
async def attach_asset(
    use_id: UseId, request: Request, response: Response, context: ContextDep, viewer: ViewerDep,
    provenance: ProvenanceDep,
) -> AssetPublic:
    data = await _image_body(request)

    def work():
        with Session(context.engine) as session:
            use = get_use_or_none(session, context, use_id)
            # Whoever holds the exact bytes the holder signed may attach them; anyone else learns nothing.
            if use is None or (
                not _may_see(session, context, viewer, use) and sha256_hex(data) != use.use_ref.lower()
            ):
                raise not_found(f"use {use_id}", LICENCE_AUDIENCE)
        return asset_rules.attach(context.engine, provenance.store, context.scope, use_id, data)

    attached = await run_in_threadpool(work)
    if not attached.created:
        response.status_code = status.HTTP_200_OK
    return _public(attached.asset, attached.use_ids, use_id)


def get_use_or_none(session: Session, context: ApiContext, use_id: int):
    try:
        return get_use(session, context.scope, use_id)
    except LookupError:
        return None


@router.get("/uses/{use_id}/asset", summary="The image attached to a use, as uploaded",
            response_class=Response, responses={200: {"content": {"image/*": {}}}})
def read_asset(use_id: UseId, session: SessionDep, context: ContextDep, viewer: ViewerDep,
               provenance: ProvenanceDep) -> Response:
    _, asset = _visible_asset(session, context, viewer, use_id)
    return Response(provenance.store.get(asset.sha256), media_type=asset.media_type,
                    headers={"Cache-Control": "private, max-age=3600"})


@router.get("/uses/{use_id}/asset/thumbnail", summary="A small JPEG of the image attached to a use",
            response_class=Response, responses={200: {"content": {"image/jpeg": {}}}})
def read_thumbnail(use_id: UseId, session: SessionDep, context: ContextDep, viewer: ViewerDep,
                   provenance: ProvenanceDep) -> Response:
    _, asset = _visible_asset(session, context, viewer, use_id)
    return Response(provenance.thumbnail(asset), media_type="image/jpeg",
                    headers={"Cache-Control": "private, max-age=3600"})


@router.get("/uses/{use_id}/asset/credentialed",
            summary="The use's image carrying a C2PA manifest signed by the operator, naming the use",
            response_class=Response, responses={200: {"content": {"image/*": {}}}})
def read_credentialed(use_id: UseId, session: SessionDep, context: ContextDep, viewer: ViewerDep,
                      provenance: ProvenanceDep) -> Response:
    use, asset = _visible_asset(session, context, viewer, use_id)
    extension = asset.media_type.removeprefix("image/").replace("jpeg", "jpg")
    return Response(
        provenance.credentialed_copy(session, use, asset), media_type=asset.media_type,
        headers={"Cache-Control": "private, no-store",
                 "Content-Disposition": f'attachment; filename="licence-{use.license_id}-use-{use_number(use.seq)}.{extension}"'},
    )


@router.post("/verify", response_model=VerifyResult, dependencies=[Depends(_verify_limit)],
             summary="Check any image (raw body): licensed and paid, pending, invalid credential, outside its "
                     "licence, or no credential with the nearest licensed image")
async def verify_image(request: Request, provenance: ProvenanceDep) -> VerifyResult:
    data = await _image_body(request)
    return await run_in_threadpool(provenance.verifier.verify, data)


@router.post("/unlicensed-uses", response_model=UnlicensedReportPublic, status_code=status.HTTP_201_CREATED,
             dependencies=[Depends(_report_limit)],
             summary="Report an image found used without a licence (multipart: file, note); its hashes are kept")
async def report_unlicensed(
    context: ContextDep, viewer: ViewerDep,
    file: Annotated[UploadFile, File(description="the image found")],
    note: Annotated[str, Form(min_length=1, max_length=reports.NOTE_MAX, description="where it was found")],
) -> UnlicensedReportPublic:
    data = await file.read(MAX_ASSET_BYTES + 1)
    if len(data) > MAX_ASSET_BYTES:
        raise ImageTooLarge(too_large_sentence())
    row = await run_in_threadpool(reports.record, context.engine, context.chain_id, data, note.strip(), viewer.address)
    return _report_public(row)


def _report_public(row) -> UnlicensedReportPublic:
    return UnlicensedReportPublic(id=row.report_id, sha256=row.sha256, phash=row.phash, note=row.note,
                                  reporter=row.reporter, reported_at=row.reported_at)


@router.get("/unlicensed-uses", response_model=UnlicensedReportList,
            summary="Images reported as used without a licence, newest first (the guild only)")
def list_unlicensed(
    context: ContextDep, viewer: ViewerDep,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> UnlicensedReportList:
    if not viewer.guild:
        raise not_found("list of reported unlicensed uses", "the guild")
    rows, total = reports.listed(context.engine, context.chain_id, offset, limit)
    return UnlicensedReportList(items=[_report_public(r) for r in rows], total=total)


__all__ = ["IMAGE_BODY_LIMIT", "IMAGE_BODY_PATHS", "router"]
