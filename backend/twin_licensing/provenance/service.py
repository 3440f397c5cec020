"""The provenance side of the API, one object per application: the asset store, the operator's signing identity
(loaded on first use), the verifier and its perceptual-hash index."""

from __future__ import annotations

import threading
from collections import OrderedDict

from sqlalchemy import Engine
from sqlmodel import Session

from ..chain.deployment import Deployment
from ..db.assets import Asset
from ..db.license_state import License
from ..db.uses import ChainScope, Use
from ..domain.use_record import use_label
from ..settings import LOCAL_CHAIN_ID, Settings
from .certificates import SigningIdentity, load_identity
from .credentials import UseClaim, sign_copy
from .images import thumbnail
from .storage import AssetStore, store_from_settings

THUMBNAILS_KEPT = 1024  # ~10 KB each: a usage log's pages of thumbnails are decoded once
from .verify import Names, Verifier


class Provenance:
    def __init__(self, settings: Settings, engine: Engine, deployment: Deployment, names: Names) -> None:
        self.settings = settings
        self.engine = engine
        self.deployment = deployment
        self.scope = ChainScope(deployment.chain_id, deployment.genesis_hash)
        self.names = names
        self.store: AssetStore = store_from_settings(settings)
        self._identity: SigningIdentity | None = None
        self._verifier: Verifier | None = None
        self._lock = threading.Lock()
        self._thumbnails: OrderedDict[str, bytes] = OrderedDict()

    @property
    def identity(self) -> SigningIdentity:
        with self._lock:
            if self._identity is None:
                self._identity = load_identity(self.settings, local_chain=self.scope.chain_id == LOCAL_CHAIN_ID)
            return self._identity

    @property
    def verifier(self) -> Verifier:
        identity = self.identity
        with self._lock:
            if self._verifier is None:
                self._verifier = Verifier(self.engine, self.scope, self.deployment.license_token, identity, self.names)
            return self._verifier

    def thumbnail(self, asset: Asset) -> bytes:
        """A small JPEG of the asset, made once and kept (the asset never changes)."""
        with self._lock:
            found = self._thumbnails.get(asset.sha256)
            if found is not None:
                self._thumbnails.move_to_end(asset.sha256)
                return found
        made = thumbnail(self.store.get(asset.sha256))
        with self._lock:
            self._thumbnails[asset.sha256] = made
            while len(self._thumbnails) > THUMBNAILS_KEPT:
                self._thumbnails.popitem(last=False)
        return made

    def credentialed_copy(self, session: Session, use: Use, asset: Asset) -> bytes:
        """The use's image with a C2PA manifest naming the use, signed now with the operator's certificate."""
        lic = session.get(License, (use.chain_id, use.license_id))
        claim = UseClaim(
            chain_id=use.chain_id, license_token=self.deployment.license_token, license_id=use.license_id,
            twin_id=lic.twin_id if lic is not None else 0, seq=use.seq, category=use.category,
            territory=use.territory, used_at=use.used_at, use_ref=use.use_ref, report_digest=use.digest,
            use_id=use.use_id,
        )
        title = f"Licence {use.license_id}, {use_label(use.seq)}"
        return sign_copy(self.identity, self.store.get(asset.sha256), asset.media_type, claim, title)
