"""The nearest stored asset to an image by perceptual hash (Hamming distance of 64-bit pHashes).

Every asset's pHash is held in memory as one numpy array and compared at once (a million assets take a few
milliseconds); the array is refreshed from the `assets` table when its row count changed.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
from sqlalchemy import func, select
from sqlmodel import Session

from ..db.assets import Asset

# At most this many of the 64 bits may differ for "likely derived from". A re-encoded, rescaled copy measures 0-6;
# unrelated images 20-44 (mean 32).
MATCH_THRESHOLD = 10


@dataclass(frozen=True)
class Match:
    sha256: str
    distance: int


class PhashIndex:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._count = -1
        self._hashes = np.zeros(0, dtype=np.uint64)
        self._keys: list[str] = []

    def _refresh(self, session: Session) -> None:
        count = session.execute(select(func.count()).select_from(Asset)).scalar_one()
        if count == self._count:
            return
        rows = session.execute(select(Asset.sha256, Asset.phash)).all()
        self._keys = [r[0] for r in rows]
        self._hashes = np.array([int(r[1], 16) for r in rows], dtype=np.uint64)
        self._count = count

    def nearest(self, session: Session, phash: str, threshold: int = MATCH_THRESHOLD) -> Match | None:
        with self._lock:
            self._refresh(session)
            if not self._keys:
                return None
            xor = np.bitwise_xor(self._hashes, np.uint64(int(phash, 16)))
            distances = np.unpackbits(xor.view(np.uint8).reshape(-1, 8), axis=1).sum(axis=1)
            best = int(np.argmin(distances))
            distance = int(distances[best])
            key = self._keys[best]
        return Match(key, distance) if distance <= threshold else None
