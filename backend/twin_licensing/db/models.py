"""Every table of the database, imported in one place so that SQLModel.metadata (and Alembic) knows them all.

Each module has one writer: chain_log, registry_state and license_state the indexer; uses the API's use intake;
submissions the settler.
"""

from __future__ import annotations

from .chain_log import ChainEvent, IndexCursor, IndexedBlock
from .license_state import Earning, License, Offer, PayeeBalance, SettleSkip, Settlement
from .registry_state import (
    Attestation, ConsentChange, GuildFloor, PausePeriod, ProtocolParam, RoleMember, Twin, TwinPayee,
)
from .submissions import SettleSubmission, SettleSubmissionItem, SettleTransaction, UseRejection  # noqa: F401 - the settler's
from .uses import Use  # noqa: F401 - the use intake's
from .assets import Asset, AssetUse, UnlicensedReport  # noqa: F401 - the API's use assets (provenance)
from .usage_log import UsageLogVisit  # noqa: F401 - the API's usage log
from .signin import SigninNonce, SigninSession  # noqa: F401 - the API's sign-in
from .consent_documents import ConsentDocument  # noqa: F401 - the API's consent documents

# Tables the indexer owns: wiped together when the chain is replaced (restarted local node).
INDEX_TABLES = (
    ChainEvent, IndexedBlock, Twin, TwinPayee, ConsentChange, GuildFloor, ProtocolParam, RoleMember,
    Offer, License, Settlement, SettleSkip, Earning, PayeeBalance, Attestation, PausePeriod, IndexCursor,
)

__all__ = [
    "INDEX_TABLES", "Attestation", "ChainEvent", "ConsentChange", "Earning", "GuildFloor", "IndexCursor", "IndexedBlock",
    "License", "Offer", "PausePeriod", "PayeeBalance", "ProtocolParam", "RoleMember", "SettleSkip", "Settlement", "Twin",
    "TwinPayee",
]
