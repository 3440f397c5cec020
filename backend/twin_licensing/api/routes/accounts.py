"""What the web client needs to start: the deployment (chain, addresses, names, rules), the contracts' ABIs, and on
the local chain the labelled development accounts and a relay to the node for them."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import httpx
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from ...chain.artifacts import ArtifactStore
from ...chain.use_reports import USE_REPORT_FIELDS, DOMAIN_FIELDS
from ...db.registry_state import GuildFloor, ProtocolParam
from ...seed.data import CATEGORIES, TERRITORIES
from ..deps import ContextDep
from ..read.deps import ReadDep
from ..read.schemas import AccountPublic, DeploymentPublic, FloorPublic, IndexStatePublic, Page, UseReportSpecPublic

router = APIRouter(tags=["deployment"])

# JSON-RPC methods a development account's page may relay to the local node: reads, sending and signing.
# Node administration (hardhat_*, evm_*, debug_*) is not relayed.
RELAYED_METHODS = frozenset(
    {
        "eth_chainId", "net_version", "eth_blockNumber", "eth_getBlockByNumber", "eth_getBlockByHash", "eth_call",
        "eth_estimateGas", "eth_gasPrice", "eth_maxPriorityFeePerGas", "eth_feeHistory", "eth_getBalance",
        "eth_getCode", "eth_getStorageAt", "eth_getTransactionCount", "eth_getTransactionByHash",
        "eth_getTransactionReceipt", "eth_getLogs", "eth_accounts", "eth_sendTransaction", "eth_signTypedData_v4",
        "personal_sign", "eth_sign", "web3_clientVersion",
    }
)
MAX_BATCH = 20


def _require_local(read) -> None:
    if not read.local:
        raise HTTPException(status_code=404, detail="development accounts exist on the local chain only")


@router.get(
    "/accounts",
    response_model=Page[AccountPublic],
    summary="The local chain's development accounts, labelled (Model: …, Agency: …, Brand: …)",
    responses={404: {"description": "not the local chain"}},
)
def read_accounts(read: ReadDep) -> Page[AccountPublic]:
    _require_local(read)
    accounts = [AccountPublic(**a) for a in read.accounts()]
    return Page[AccountPublic](data=accounts, count=len(accounts))


@router.get("/deployment", response_model=DeploymentPublic, summary="Chain, contract addresses and the rules in force")
def read_deployment(context: ContextDep, read: ReadDep) -> DeploymentPublic:
    deployment = context.deployment
    version = read.version()
    with Session(read.engine) as session:
        floors = {
            f.category: f.min_per_use_fee
            for f in session.execute(select(GuildFloor).where(GuildFloor.chain_id == read.chain_id)).scalars()
        }
        params = {
            p.name: p.value
            for p in session.execute(select(ProtocolParam).where(ProtocolParam.chain_id == read.chain_id)).scalars()
        }
    return DeploymentPublic(
        chain_id=deployment.chain_id,
        genesis_hash=deployment.genesis_hash,
        block_number=deployment.block_number,
        contracts=dict(deployment.addresses),
        roles={"admin": deployment.admin, "guild": deployment.guild, "recorder": deployment.recorder},
        test_token=deployment.test_token,
        local=read.local,
        token={"symbol": "tUSDC" if deployment.test_token else "USDC", "decimals": 6},
        categories=list(CATEGORIES),
        territories=list(TERRITORIES),
        floors=[
            FloorPublic(category=i, name=name, min_per_use_fee=floors.get(i, 0)) for i, name in enumerate(CATEGORIES)
        ],
        agency_cap_bps=_int(params.get("agency_cap_bps")),
        notice_period=_int(params.get("notice_period")),
        use_report=UseReportSpecPublic(
            domain=context.domain.as_dict(),
            types={"EIP712Domain": DOMAIN_FIELDS, "UseReport": USE_REPORT_FIELDS},
            primary_type="UseReport",
        ),
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
    names = {"TwinRegistry": "TwinRegistry", "LicenseToken": "LicenseToken", "PaymentToken": "TestStablecoin"}
    return json.dumps({key: store.load(name).abi for key, name in names.items()}, separators=(",", ":")).encode()


@router.get(
    "/deployment/abi",
    summary="The ABIs of TwinRegistry, LicenseToken and PaymentToken, from the compiled artifacts",
    response_model=dict[str, list[dict[str, Any]]],
)
async def read_abis(context: ContextDep) -> Response:
    body = await run_in_threadpool(_abis, Path(context.settings.artifacts_dir))
    return Response(body, media_type="application/json", headers={"Cache-Control": "max-age=60"})


@router.post(
    "/dev/rpc",
    summary="Relay to the local node, for the web client acting as a development account (local chain only)",
    description=f"Relays JSON-RPC requests of these methods: {', '.join(sorted(RELAYED_METHODS))}.",
    responses={404: {"description": "not the local chain"}, 403: {"description": "a method that is not relayed"}},
    response_model=Any,
)
async def relay_rpc(request: Request, context: ContextDep, read: ReadDep) -> Response:
    _require_local(read)
    try:
        payload = json.loads(await request.body())
    except (ValueError, UnicodeDecodeError):
        raise HTTPException(status_code=422, detail="the body is not JSON") from None
    calls = payload if isinstance(payload, list) else [payload]
    if not calls or len(calls) > MAX_BATCH:
        raise HTTPException(status_code=422, detail=f"send 1 to {MAX_BATCH} JSON-RPC requests")
    for call in calls:
        if not isinstance(call, dict) or not isinstance(call.get("method"), str):
            raise HTTPException(status_code=422, detail="each request needs a method")
        if call["method"] not in RELAYED_METHODS:
            raise HTTPException(status_code=403, detail=f"{call['method'][:60]} is not relayed to the node")
    client = _client(request)
    try:
        upstream = await client.post(context.settings.rpc_url, json=payload)
    except httpx.HTTPError:
        raise HTTPException(status_code=503, detail="the local node does not answer; is it running?") from None
    return Response(upstream.content, status_code=200 if upstream.status_code < 500 else 502, media_type="application/json")


def _client(request: Request) -> httpx.AsyncClient:
    client = getattr(request.app.state, "rpc_client", None)
    if client is None:
        client = httpx.AsyncClient(timeout=30.0)
        request.app.state.rpc_client = client
    return client
