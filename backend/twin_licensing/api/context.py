"""What every request shares: the engine, the deployment, the EIP-712 domain, the intake and the index view."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from ..chain.deployment import Deployment
from ..chain.use_reports import UseReportDomain
from ..db.uses import ChainScope
from ..settings import Settings
from ..usage.index_view import IndexView
from ..usage.intake import UseIntake


@dataclass
class ApiContext:
    settings: Settings
    engine: Engine
    deployment: Deployment
    domain: UseReportDomain
    index: IndexView
    intake: UseIntake

    @property
    def chain_id(self) -> int:
        return self.deployment.chain_id

    @property
    def scope(self) -> ChainScope:
        return ChainScope(self.deployment.chain_id, self.deployment.genesis_hash)
