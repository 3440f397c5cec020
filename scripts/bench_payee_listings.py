"""Gas of `withdraw()` and `claimable()` for an address listed as payee on 2 000 twins it never accepted, against
an address listed on none (issue 10: no one can make an address unable to read or withdraw its earnings).

Starts a local node, deploys, and sets up two twins alike: one pays `victim` 10 %, the other `control` 10 %; both
accepted their listing and each twin sold one licence, whose upfront fee has fully vested (the term has run and
`vest` moved it to the twin's earnings: since issue 11 nothing is claimable at purchase). Then an attested model registers 2 000 twins naming the
victim as a 0.01 % crew payee, which it never accepts. `claimable` and `withdraw` are measured with
`eth_estimateGas` for both addresses (and for the victim before the junk twins).

Prints a table, and as its last line one JSON object:
{"listings": 2000, "victim": {"claimable": g, "withdraw": g}, "control": {...}, "victim_before": {...}}

    .venv/bin/python scripts/bench_payee_listings.py [--listings 2000]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "backend"))

from twin_licensing.chain.client import Chain  # noqa: E402
from twin_licensing.chain.deploy import deploy  # noqa: E402
from twin_licensing.chain.keys import dev_account  # noqa: E402
from twin_licensing.chain.node import LocalNode  # noqa: E402
from twin_licensing.domain.vocabulary import CREW, MODEL  # noqa: E402
from twin_licensing.seed.seeder import attest_as_guild  # noqa: E402

UPFRONT_FEE = 1_000_000
TERM = 30 * 24 * 3600


def gas(chain: Chain, who: str) -> dict[str, int]:
    license_token = chain.contract("LicenseToken")
    return {
        "claimable": license_token.functions.claimable(who).estimate_gas(),
        "withdraw": license_token.functions.withdraw().estimate_gas({"from": who}),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listings", type=int, default=2_000)
    args = parser.parse_args()
    with LocalNode(ROOT, log_path=ROOT / "var" / "log" / "bench-payee-listings-node.log") as node:
        chain = Chain.connect(node.url, ROOT / "artifacts")
        deployer, guild, recorder = dev_account(0), dev_account(1), dev_account(2)
        model, model2, attacker = dev_account(7), dev_account(8), dev_account(9)
        victim, control, brand = dev_account(42), dev_account(43), dev_account(37)
        result = deploy(chain, deployer, ROOT / "var" / "bench", guild=guild.address, recorder=recorder.address)
        chain = Chain(chain.w3, chain.artifacts, result.deployment)
        attest_as_guild(chain, [(m.address, MODEL, "bench model") for m in (model, model2, attacker)])

        chain.transact(brand, "PaymentToken", "faucet", brand.address, 10 * UPFRONT_FEE)
        chain.transact(brand, "PaymentToken", "approve", result.deployment.license_token, 2**256 - 1)
        for owner, payee in ((model, victim), (model2, control)):
            chain.transact(owner, "TwinRegistry", "registerTwin", "ipfs://bench", b"\x01" * 32,
                           [(owner.address, 9_000, MODEL), (payee.address, 1_000, CREW)])
            twin_id = chain.call("TwinRegistry", "twinCount")
            chain.transact(payee, "TwinRegistry", "acceptPayee", twin_id)
            chain.transact(owner, "LicenseToken", "publishOffer", twin_id,
                           (UPFRONT_FEE, 1, TERM, 0, 1, 1, False, False, 0))
            chain.transact(brand, "LicenseToken", "buyLicense", chain.call("LicenseToken", "offerCount"), 0)
        # The upfront fee vests over the term: let it run out, then vest both licences so each payee has earnings.
        chain.rpc("evm_increaseTime", [TERM + 1])
        chain.rpc("evm_mine", [])
        chain.transact(brand, "LicenseToken", "vest", [1, 2])
        before = gas(chain, victim.address)

        junk = [(attacker.address, 9_999, MODEL), (victim.address, 1, CREW)]
        pending = [
            chain.transact(attacker, "TwinRegistry", "registerTwin", f"ipfs://junk-{i}", b"\x02" * 32, junk,
                           gas=600_000, wait=False)
            for i in range(args.listings)
        ]
        for tx in pending:
            chain.wait(tx)
        assert chain.call("TwinRegistry", "twinCount") == 2 + args.listings
        measured = {"victim": gas(chain, victim.address), "control": gas(chain, control.address)}

        print(f"{'address':>22} {'claimable gas':>14} {'withdraw gas':>13}")
        print(f"{'victim, no junk yet':>22} {before['claimable']:>14} {before['withdraw']:>13}")
        print(f"{f'victim, {args.listings} junk':>22} {measured['victim']['claimable']:>14} {measured['victim']['withdraw']:>13}")
        print(f"{'control, none':>22} {measured['control']['claimable']:>14} {measured['control']['withdraw']:>13}")
        print(json.dumps({"listings": args.listings, **measured, "victim_before": before}))


if __name__ == "__main__":
    main()
