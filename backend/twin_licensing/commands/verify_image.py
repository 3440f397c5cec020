"""`twinctl verify-image FILE`: what the image check says about a file, as one sentence.

Exit code 0 when the image is licensed (paid or pending), 1 for every other verdict, 2 when the file cannot be
read or is not an image it can check.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..api.read.metadata import MetadataResolver
from ..db.uses import ChainScope
from ..provenance.certificates import load_identity
from ..provenance.errors import ProvenanceRefused
from ..provenance.images import MAX_ASSET_BYTES, too_large_sentence
from ..provenance.verify import Names, Verifier
from ..settings import LOCAL_CHAIN_ID
from ._backend import open_backend
from ._common import add_rpc_argument, say, settings_from

NAME = "verify-image"
HELP = "check an image: licensed and paid, pending, invalid credential, outside its licence, or the nearest match"
ORDER = 73


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_rpc_argument(parser)
    parser.add_argument("file", type=Path, help="a JPEG, PNG or WebP image")
    parser.add_argument("--json", action="store_true", help="print the whole answer as JSON after the sentence")


def run(args: argparse.Namespace) -> int:
    try:
        with open(args.file, "rb") as handle:
            data = handle.read(MAX_ASSET_BYTES + 1)
    except OSError as exc:
        say(f"cannot read {args.file}: {exc.strerror or exc}")
        return 2
    if len(data) > MAX_ASSET_BYTES:
        say(f"{args.file}: {too_large_sentence()}")
        return 2
    settings = settings_from(args)
    backend = open_backend(settings, check=False)
    metadata = MetadataResolver(settings.media_dir)
    names = Names(
        twin=lambda twin, twin_id: (metadata.get(twin.uri).name if twin is not None else None) or f"twin #{twin_id}",
        account=lambda address: address,
    )
    identity = load_identity(settings, local_chain=backend.deployment.chain_id == LOCAL_CHAIN_ID)
    verifier = Verifier(backend.engine, ChainScope(backend.deployment.chain_id, backend.deployment.genesis_hash),
                        backend.deployment.license_token, identity, names)
    try:
        result = verifier.verify(data)
    except ProvenanceRefused as exc:
        say(f"{args.file}: {exc.reason}")
        return 2
    say(result.sentence)
    if args.json:
        say(result.model_dump_json(indent=2))
    return 0 if result.licensed else 1
