"""Attaching an image to a use: the image is checked (`images.inspect`), must hash to the use's signed `use_ref`,
is stored content-addressed (`storage`), then its row and its link to the use are written. A refusal stores
nothing; attaching the same image again answers the existing asset."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from ..db.assets import Asset, AssetUse
from ..db.uses import ChainScope, Use
from ..domain.use_record import use_label
from ..usage.status import get_use
from .errors import AssetMismatch, AssetNotFound
from .images import inspect
from .storage import AssetStore


@dataclass(frozen=True)
class Attached:
    asset: Asset
    use_ids: list[int]
    created: bool


def uses_of(session: Session, sha256: str) -> list[int]:
    return list(session.execute(select(AssetUse.use_id).where(AssetUse.sha256 == sha256).order_by(AssetUse.use_id)).scalars())


def attach(engine: Engine, store: AssetStore, scope: ChainScope, use_id: int, data: bytes) -> Attached:
    with Session(engine) as session:
        use = get_use(session, scope, use_id)
        existing = session.get(AssetUse, use_id)
    facts = inspect(data)  # refuses non-images, bombs, truncated files: before anything is stored
    if existing is not None:
        if existing.sha256 == facts.sha256:
            with Session(engine) as session:
                return Attached(session.get(Asset, facts.sha256), uses_of(session, facts.sha256), created=False)
        raise AssetMismatch(
            f"{use_label(use.seq)} of licence {use.license_id} already has an image attached: a use carries one image"
        )
    if facts.sha256 != use.use_ref.lower():
        raise AssetMismatch(
            f"this image's SHA-256 is {facts.sha256}, but {use_label(use.seq)} of licence {use.license_id} was signed "
            f"for {use.use_ref}: attach the exact file whose SHA-256 the report signed"
        )
    store.put(facts.sha256, data)
    with Session(engine) as session:
        if session.get(Asset, facts.sha256) is None:
            session.add(Asset(sha256=facts.sha256, media_type=facts.media_type, size=facts.size,
                              width=facts.width, height=facts.height, phash=facts.phash))
        session.add(AssetUse(use_id=use_id, sha256=facts.sha256))
        try:
            session.commit()
        except IntegrityError:  # the same upload racing this one: it won, its rows are ours
            session.rollback()
        asset = session.get(Asset, facts.sha256)
        return Attached(asset, uses_of(session, facts.sha256), created=True)


def asset_of_use(session: Session, scope: ChainScope, use_id: int) -> tuple[Use, Asset]:
    use = get_use(session, scope, use_id)
    link = session.get(AssetUse, use_id)
    asset = session.get(Asset, link.sha256) if link is not None else None
    if asset is None:
        raise AssetNotFound(
            f"{use_label(use.seq)} of licence {use.license_id} has no image attached: it was reported with its SHA-256 only"
        )
    return use, asset

