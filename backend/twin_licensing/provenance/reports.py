"""Images reported to the guild as used without a licence: the image's hashes and a note, never the image."""

from __future__ import annotations

from sqlalchemy import Engine, func, select
from sqlmodel import Session

from ..db.assets import UnlicensedReport
from .images import inspect

NOTE_MAX = 2000


def record(engine: Engine, chain_id: int, data: bytes, note: str, reporter: str | None) -> UnlicensedReport:
    facts = inspect(data)  # refuses what is not an image, before anything is stored
    row = UnlicensedReport(chain_id=chain_id, sha256=facts.sha256, phash=facts.phash, note=note, reporter=reporter)
    with Session(engine) as session:
        session.add(row)
        session.commit()
        session.refresh(row)
        session.expunge(row)
    return row


def listed(engine: Engine, chain_id: int, offset: int, limit: int) -> tuple[list[UnlicensedReport], int]:
    """Newest first."""
    with Session(engine) as session:
        total = session.execute(
            select(func.count()).select_from(UnlicensedReport).where(UnlicensedReport.chain_id == chain_id)
        ).scalar_one()
        rows = list(session.execute(
            select(UnlicensedReport).where(UnlicensedReport.chain_id == chain_id)
            .order_by(UnlicensedReport.report_id.desc()).offset(offset).limit(limit)
        ).scalars())
        for row in rows:
            session.expunge(row)
    return rows, total
