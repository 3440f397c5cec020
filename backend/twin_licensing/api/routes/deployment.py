"""What the web client needs to start: the deployment (chain, addresses, token, names, rules in force, how to sign
a use report) and the contracts' ABIs."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from sqlalchemy import select
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from ...chain.artifacts import ArtifactStore
from ...chain.use_reports import DOMAIN_FIELDS, USE_REPORT_FIELDS
from ...db.registry_state import GuildFloor, ProtocolParam
from ...domain.vocabulary import CATEGORIES, TERRITORIES
from ...provenance.images import MAX_ASSET_BYTES, MEDIA_TYPES
from ...provenance.reports import NOTE_MAX
from ..deps import ContextDep
from ..read.schemas import (
    AssetRulesPublic, DeploymentPublic, FloorPublic, IndexStatePublic, TokenPublic, UseReportSpecPublic,
)

router = APIRouter(prefix="/deployment", tags=["deployment"])


@router.get("", response_model=DeploymentPublic, summary="Chain, contract addresses, token and the rules in force")
def read_deployment(context: ContextDep) -> DeploymentPublic:
    deployment = context.deployment
    version = context.version()
    with Session(context.engine) as session:
        floors = {
            f.category: f.min_per_use_fee
            for f in session.execute(select(GuildFloor).where(GuildFloor.chain_id == context.chain_id)).scalars()
        }
        params = {
            p.name: p.value
            for p in session.execute(select(ProtocolParam).where(ProtocolParam.chain_id == context.chain_id)).scalars()
        }
    # The index holds a rule once the admin or the guild changed it (an event); until then the contract's default is
    # in force, which only the contract can tell.
    indexed = {name: _int(params.get(name))
               for name in ("notice_period", "agency_cap_bps", "non_model_cap_bps", "exclusivity_minimum")}
    if None in indexed.values():
        rules = context.chain_reader.rules()
        if rules is not None:
            indexed = {name: getattr(rules, name) if value is None else value for name, value in indexed.items()}
    token = context.chain_reader.token()
    return DeploymentPublic(
        chain_id=deployment.chain_id,
        genesis_hash=deployment.genesis_hash,
        block_number=deployment.block_number,
        contracts=dict(deployment.addresses),
        roles={"admin": deployment.admin, "guild": deployment.guild, "recorder": deployment.recorder},
        test_token=deployment.test_token,
        local=context.local,
        faucet=context.local and deployment.test_token,
        token=TokenPublic(
            address=deployment.payment_token,
            symbol=token.symbol if token else None,
            decimals=token.decimals if token else None,
        ),
        categories=list(CATEGORIES),
        territories=list(TERRITORIES),
        floors=[
            FloorPublic(category=i, name=name, min_per_use_fee=floors.get(i, 0)) for i, name in enumerate(CATEGORIES)
        ],
        agency_cap_bps=indexed["agency_cap_bps"],
        non_model_cap_bps=indexed["non_model_cap_bps"],
        exclusivity_minimum=indexed["exclusivity_minimum"],
        notice_period=indexed["notice_period"],
        use_report=UseReportSpecPublic(
            domain=context.domain.as_dict(),
            types={"EIP712Domain": DOMAIN_FIELDS, "UseReport": USE_REPORT_FIELDS},
            primary_type="UseReport",
        ),
        assets=AssetRulesPublic(max_bytes=MAX_ASSET_BYTES, media_types=list(MEDIA_TYPES.values()), note_max=NOTE_MAX),
        index=IndexStatePublic(
            block_number=version.block_number, events=version.events, ready=version.block_number is not None
        ),
    )


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


@lru_cache(maxsize=4)
def _abis(artifacts_dir: Path) -> bytes:
    store = ArtifactStore(artifacts_dir)
    # UseProofVerifier's: its UseRecord is the Merkle leaf the web client checks a use's proof with.
    names = {"TwinRegistry": "TwinRegistry", "LicenseToken": "LicenseToken", "PaymentToken": "TestStablecoin",
             "UseProofVerifier": "UseProofVerifier"}
    return json.dumps({key: store.load(name).abi for key, name in names.items()}, separators=(",", ":")).encode()


@router.get(
    "/abi",
    summary="The ABIs of TwinRegistry, LicenseToken and PaymentToken, from the compiled artifacts",
    response_model=dict[str, list[dict[str, Any]]],
)
async def read_abis(context: ContextDep) -> Response:
    body = await run_in_threadpool(_abis, Path(context.settings.artifacts_dir))
    return Response(body, media_type="application/json", headers={"Cache-Control": "max-age=60"})
