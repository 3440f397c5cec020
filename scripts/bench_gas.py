"""Gas per use of `settle`, against the baseline of paying each use with its own ERC-20 transfer.

Starts a local node, deploys, and registers 20 twins of 20 models, each with the model (80 %) and one agency
(20 %) as payees; a brand buys one licence of each. Then, in one run, `settle` calls of 20 items (one per licence)
at 1, 10, 100 and 1 000 uses per item: total transaction gas / total uses. Every item carries the brand's EIP-712
signature over its last use, as `settle` requires (issue 11), signed and encoded by the backend's own code, and
none may be skipped. The baseline is the gas of one `transferFrom(brand, model, fee)` per use, measured in steady
state (the model already holds tokens), i.e. the cheapest a pay-per-use transfer can be.

Prints a table, the bar (gas per use at 100 uses per item <= 300, baseline / that >= 130), and as its last line
one JSON object:
{"gas_per_use": {"1": g1, "10": g10, "100": g100, "1000": g1000}, "baseline_per_use": b}

    .venv/bin/python scripts/bench_gas.py
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "backend"))

from twin_licensing.chain.client import Chain  # noqa: E402
from twin_licensing.chain.deploy import deploy  # noqa: E402
from twin_licensing.chain.keys import dev_account  # noqa: E402
from twin_licensing.chain.node import LocalNode  # noqa: E402
from twin_licensing.chain.settlement import SettleItem, compact_signature  # noqa: E402
from twin_licensing.chain.use_reports import UseReport, UseReportDomain, sign_report  # noqa: E402
from twin_licensing.seed.seeder import attest_as_guild  # noqa: E402

ITEMS = 20
USES_PER_ITEM = (1, 10, 100, 1000)
PER_USE_FEE = 10_000  # 0.01 tUSDC
UPFRONT_FEE = 1_000_000
MODEL, AGENCY = 0, 1  # TwinTypes.PayeeRole
BAR_G100 = 300  # gas per use at 100 uses per item, at most
BAR_RATIO = 130  # baseline / that, at least


def signed_item(domain: UseReportDomain, brand, license_id: int, first_seq: int, count: int, used_at: int,
                tag: int) -> tuple:
    """A settle item whose last use the brand signed, as the settler builds it (`settlement.batch.item_of`)."""
    use_ref = "0x" + bytes([tag % 251 + 1]).hex() * 32
    last = UseReport(license_id, first_seq + count - 1, use_ref, 0, 0, used_at)
    sig_r, sig_vs = compact_signature(sign_report(brand.key, domain, last))
    root = "0x" + bytes([count % 251 + 1]).hex() * 32
    return SettleItem(license_id, first_seq, count, root, 0b1, use_ref, 0, 0, used_at, sig_r, sig_vs).as_tuple()


def main() -> None:
    with LocalNode(ROOT, log_path=ROOT / "var" / "log" / "bench-gas-node.log") as node:
        chain = Chain.connect(node.url, ROOT / "artifacts")
        deployer, guild, recorder = dev_account(0), dev_account(1), dev_account(2)
        agency, brand, payer = dev_account(3), dev_account(4), dev_account(5)
        models = [dev_account(10 + i) for i in range(ITEMS)]
        result = deploy(
            chain, deployer, ROOT / "var" / "bench", guild=guild.address, recorder=recorder.address
        )
        chain = Chain(chain.w3, chain.artifacts, result.deployment)
        license_address = result.deployment.license_token

        total_uses = sum(USES_PER_ITEM)
        escrow = total_uses * PER_USE_FEE
        chain.transact(brand, "PaymentToken", "faucet", brand.address, ITEMS * (escrow + UPFRONT_FEE))
        chain.transact(brand, "PaymentToken", "approve", license_address, 2**256 - 1)
        license_ids = []
        attest_as_guild(chain, [(model.address, MODEL, f"bench model {i}") for i, model in enumerate(models)])
        for index, model in enumerate(models):
            payees = [(model.address, 8_000, MODEL), (agency.address, 2_000, AGENCY)]
            chain.transact(model, "TwinRegistry", "registerTwin", f"/media/twins/{index + 1}.json", b"\x01" * 32, payees)
            twin_id = chain.call("TwinRegistry", "twinCount")
            chain.transact(agency, "TwinRegistry", "acceptPayee", twin_id)
            terms = (UPFRONT_FEE, PER_USE_FEE, 365 * 24 * 3600, 0, 0b1, 0b1, False, False, 0)
            chain.transact(model, "LicenseToken", "publishOffer", twin_id, terms)
            offer_id = chain.call("LicenseToken", "offerCount")
            chain.transact(brand, "LicenseToken", "buyLicense", offer_id, escrow)
            license_ids.append(chain.call("LicenseToken", "licenseCount"))

        gas_per_use: dict[str, float] = {}
        print(f"{'uses/item':>10} {'uses':>8} {'tx gas':>10} {'gas/use':>10}")
        settled = 0
        domain = UseReportDomain(chain.chain_id, license_address)
        for per_item in USES_PER_ITEM:
            used_at = chain.timestamp() - 1
            items = [signed_item(domain, brand, lid, settled, per_item, used_at, lid) for lid in license_ids]
            receipt = chain.transact(recorder, "LicenseToken", "settle", items)
            skipped = chain.events(receipt, "LicenseToken", "SettleItemSkipped")
            if skipped:
                raise SystemExit(f"settle skipped items of the benchmark, which must all be paid: {skipped}")
            settled += per_item
            uses = per_item * ITEMS
            gas_per_use[str(per_item)] = round(receipt.gas_used / uses, 1)
            print(f"{per_item:>10} {uses:>8} {receipt.gas_used:>10} {gas_per_use[str(per_item)]:>10}")

        # Baseline: one transferFrom per use, by a spender the brand approved, to models that already hold tokens.
        chain.transact(brand, "PaymentToken", "faucet", brand.address, 10**12)
        chain.transact(brand, "PaymentToken", "approve", payer.address, 10**15)
        for model in models:
            chain.transact(payer, "PaymentToken", "transferFrom", brand.address, model.address, 1)
        baseline = [
            chain.transact(payer, "PaymentToken", "transferFrom", brand.address, model.address, PER_USE_FEE).gas_used
            for model in models
        ]
        baseline_per_use = round(statistics.fmean(baseline), 1)
        print(f"baseline: one ERC-20 transferFrom per use = {baseline_per_use} gas")
        ratio = baseline_per_use / gas_per_use["100"]
        print(f"baseline / gas per use at 100 uses per item = {ratio:.0f}x")
        g100 = gas_per_use["100"]
        print(f"bar: gas per use at 100 uses per item {g100} <= {BAR_G100}: {'met' if g100 <= BAR_G100 else 'MISSED'}; "
              f"baseline / it {ratio:.0f} >= {BAR_RATIO}: {'met' if ratio >= BAR_RATIO else 'MISSED'}")
        print(json.dumps({"gas_per_use": gas_per_use, "baseline_per_use": baseline_per_use}))


if __name__ == "__main__":
    main()
