"""The use tree is OpenZeppelin's standard tree: same roots and proofs as its JavaScript library, and proofs that
OpenZeppelin's `MerkleProof` accepts through the deployed UseProofVerifier."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from pathlib import Path

import pytest

from twin_licensing.chain.merkle import UseRecord, UseTree, leaf_hash, verify

SCRIPT = Path(__file__).with_name("oz_merkle.js")


def records(n: int, license_id: int = 7, seed: int = 1) -> list[UseRecord]:
    rng = random.Random(seed)
    return [
        UseRecord(license_id, seq, "0x" + rng.randbytes(32).hex(), rng.randrange(8), rng.randrange(8),
                  1_700_000_000 + rng.randrange(10**6))
        for seq in range(n)
    ]


def as_values(rs: list[UseRecord]) -> list[list]:
    return [[r.license_id, r.seq, r.use_ref, r.category, r.territory, r.used_at] for r in rs]


def run_js(request: dict) -> dict:
    node = shutil.which("node")
    assert node, "node is needed for the JavaScript cross-check"
    done = subprocess.run([node, str(SCRIPT)], input=json.dumps(request), capture_output=True, text=True,
                          cwd=SCRIPT.parents[2], timeout=60, check=True)
    return json.loads(done.stdout)


@pytest.mark.parametrize("n", [1, 2, 3, 7, 64, 257])
def test_roots_and_proofs_match_openzeppelin_js(n: int) -> None:
    rs = records(n, seed=n)
    tree = UseTree(rs)
    js = run_js({"values": as_values(rs)})
    assert tree.root == js["root"]
    for i, r in enumerate(rs):
        assert list(tree.proof_at(i).proof) == js["proofs"][i]
        assert verify(tree.root, tree.proof_at(i).proof, r)


def test_openzeppelin_js_verifies_our_proofs_and_refuses_a_tampered_record() -> None:
    rs = records(10)
    tree = UseTree(rs)
    good = tree.proof(rs[3])
    tampered = as_values([rs[3]])[0]
    tampered[3] = (tampered[3] + 1) % 8
    js = run_js({
        "values": as_values(rs),
        "checks": [
            {"root": tree.root, "proof": list(good.proof), "value": as_values([rs[3]])[0]},
            {"root": tree.root, "proof": list(good.proof), "value": tampered},
        ],
    })
    assert js["checks"] == [True, False]


def test_root_does_not_depend_on_record_order() -> None:
    rs = records(20)
    assert UseTree(rs).root == UseTree(list(reversed(rs))).root


def test_a_record_outside_the_tree_does_not_verify() -> None:
    rs = records(5)
    tree = UseTree(rs)
    other = UseRecord(7, 5, rs[0].use_ref, 0, 0, 1)
    assert not verify(tree.root, tree.proof(rs[0]).proof, other)
    with pytest.raises(ValueError):
        tree.proof(other)


def test_contract_verifies_proofs(chain, deployment) -> None:
    verifier = chain.contract("UseProofVerifier", deployment.use_proof_verifier)
    rs = records(33, license_id=2**200 + 5)
    tree = UseTree(rs)
    root = bytes.fromhex(tree.root[2:])
    for r in rs[:: 4]:
        proof = tree.proof(r)
        value = r.values()
        assert "0x" + verifier.functions.leafOf(value).call().hex() == proof.leaf == "0x" + leaf_hash(r).hex()
        assert verifier.functions.verify(root, [bytes.fromhex(p[2:]) for p in proof.proof], value).call()
    wrong = UseRecord(r.license_id, r.seq + 1, r.use_ref, r.category, r.territory, r.used_at)
    assert not verifier.functions.verify(root, [bytes.fromhex(p[2:]) for p in tree.proof(r).proof], wrong.values()).call()
