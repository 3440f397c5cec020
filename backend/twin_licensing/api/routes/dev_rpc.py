"""The development relay: on the local chain, the web client acting as a development account sends its JSON-RPC
requests here, and they go to the node (which holds the development keys). Reads, sending and signing only."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ...errors import InvalidRequestError, LocalChainOnlyError, MethodNotRelayedError
from ..deps import ContextDep

router = APIRouter(prefix="/dev", tags=["deployment"])

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


@router.post(
    "/rpc",
    summary="Relay to the local node, for the web client acting as a development account (local chain only)",
    description=f"Relays JSON-RPC requests of these methods: {', '.join(sorted(RELAYED_METHODS))}.",
    responses={
        404: {"description": "not the local chain"},
        403: {"description": "a method that is not relayed"},
        503: {"description": "the node does not answer"},
    },
    response_model=Any,
)
async def relay_rpc(request: Request, context: ContextDep) -> Response:
    if not context.local:
        raise LocalChainOnlyError("The development relay exists on the local chain only: use your own wallet here.")
    body = await request.body()
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise InvalidRequestError("Send a JSON-RPC request as JSON: this body is not JSON.") from None
    calls = payload if isinstance(payload, list) else [payload]
    if not calls or len(calls) > MAX_BATCH:
        raise InvalidRequestError(f"Send between 1 and {MAX_BATCH} JSON-RPC requests at a time.")
    for call in calls:
        if not isinstance(call, dict) or not isinstance(call.get("method"), str):
            raise InvalidRequestError("Each JSON-RPC request needs a method name.")
        if call["method"] not in RELAYED_METHODS:
            name = "".join(c for c in call["method"][:60] if c.isprintable())
            raise MethodNotRelayedError(f"The relay does not pass {name} to the node: only reads, sending and signing.")
    status, answer = await context.relay.forward(body)
    return Response(answer, status_code=200 if status < 500 else 502, media_type="application/json")
