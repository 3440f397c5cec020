"""`twinctl verify-use <use_id>`: prove one use against the chain with UseProofVerifier and its settlement's root."""

from __future__ import annotations

import argparse

from sqlmodel import Session

from ..chain.ledger import leaf_on_chain, settlement_event, verify_use_on_chain
from ..errors import ConfigurationError
from ..db.uses import ChainScope
from ..domain.use_record import record_of
from ..usage.index_view import IndexView
from ..usage.status import get_use, use_proof
from ._backend import open_backend
from ._common import add_rpc_argument, say, settings_from

NAME = "verify-use"
HELP = "verify one use's Merkle proof on chain (UseProofVerifier) against its UsesSettled event's root"
ORDER = 71


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_rpc_argument(parser)
    parser.add_argument("use_id", type=int)
    parser.add_argument("--verifier", help="UseProofVerifier address (default: from the deployment file)")


def run(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    backend = open_backend(settings)
    verifier = args.verifier or getattr(backend.deployment, "use_proof_verifier", "")
    if not verifier:
        raise ConfigurationError("the deployment has no UseProofVerifier; give its address with --verifier")
    with Session(backend.engine) as session:
        use = get_use(session, ChainScope(backend.chain.chain_id, backend.deployment.genesis_hash), args.use_id)
        proven = use_proof(session, IndexView(), use)
    s = proven.settlement
    # The root is taken from the chain's own log, not from the index: the proof must hold against the chain.
    event = settlement_event(backend.chain, s.tx_hash, s.log_index)
    if event is None:
        say(f"use {args.use_id}: its settlement {s.tx_hash} (log {s.log_index}) is not in the chain")
        return 1
    raw_root = event.args["usesRoot"]
    root = raw_root.lower() if isinstance(raw_root, str) else "0x" + bytes(raw_root).hex()
    record = record_of(use).values()  # the struct as the contract call takes it
    in_range = event.args["licenseId"] == use.license_id and (
        event.args["firstSeq"] <= use.seq < event.args["firstSeq"] + event.args["count"]
    )
    leaf = leaf_on_chain(backend.chain, verifier, record)
    ok = in_range and leaf == proven.proof.leaf and verify_use_on_chain(
        backend.chain, verifier, root, list(proven.proof.proof), record
    )
    say(f"use {args.use_id}: licence {use.license_id}, seq {use.seq}, ref {use.use_ref}")
    say(f"  settled in {s.tx_hash} (block {event.block_number}), uses {event.args['firstSeq']}.."
        f"{event.args['firstSeq'] + event.args['count'] - 1}, root {root}")
    say(f"  leaf {leaf}, proof of {len(proven.proof.proof)} hashes")
    say(f"  UseProofVerifier {verifier}: {'VALID' if ok else 'INVALID'}")
    return 0 if ok else 1
