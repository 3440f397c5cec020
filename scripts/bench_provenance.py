"""Benchmark of issue 13's image check: credentialed images verified, altered ones flagged, stripped copies matched.

Bootstraps like `bench_settlement.py` (its own local node, deployment, a fresh SQLite database, and the indexer, the
API and the settler as `twinctl` processes), with the market built by the tests' kit (attested model, twin, offer,
licences). Then:

1. generates 200 distinct 1024x1024 images (JPEG), reports a use of each (use_ref = its SHA-256) with the image
   attached, and waits until all are settled on chain;
2. verifies through `POST /api/v1/verify`: the 200 credentialed copies (`/uses/{id}/asset/credentialed`), 200
   altered copies (compressed pixels changed, manifest kept), 200 stripped, re-encoded (JPEG quality 70) and
   60 %-scaled copies, and 200 unrelated images made from another seed.

    .venv/bin/python scripts/bench_provenance.py [--images 200]

Last line: {"signed": n, "verify_ms": {"p50": a, "p95": b}, "altered_flagged": x, "stripped_matched": y,
"unrelated_matched": z}; `signed` counts the credentialed copies verified as licensed and paid, `verify_ms` is the
latency of every verification request.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "backend"), str(ROOT / "tests"), str(ROOT / "scripts")]

import httpx  # noqa: E402

from bench_settlement import log, spawn, stop, wait_http  # noqa: E402
from kit.images import encoded, jpeg_with_scan_altered, picture, stripped_copy  # noqa: E402
from kit.signin import sign_in  # noqa: E402
from kit.uses import USDC, Market, backend_env, signed_report  # noqa: E402
from twin_licensing.chain.client import Chain  # noqa: E402
from twin_licensing.chain.deploy import deploy  # noqa: E402
from twin_licensing.chain.keys import dev_account  # noqa: E402
from twin_licensing.chain.node import LocalNode, free_port  # noqa: E402
from twin_licensing.chain.use_reports import UseReportDomain  # noqa: E402
from twin_licensing.db.engine import make_engine  # noqa: E402
from twin_licensing.db.migrate import upgrade_database  # noqa: E402
from twin_licensing.provenance.images import sha256_hex  # noqa: E402
from twin_licensing.seed import data  # noqa: E402
from twin_licensing.settings import get_settings  # noqa: E402

USES_PER_LICENCE = 50
FEE = 2 * USDC
UNRELATED_SEED = 1_000_000


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--timeout", type=float, default=300.0)
    args = parser.parse_args()
    n = args.images

    workdir = Path(tempfile.mkdtemp(prefix="bench-provenance-"))
    processes = []
    with LocalNode(ROOT, log_path=workdir / "node.log") as node:
        bare = Chain.connect(node.url, ROOT / "artifacts")
        deployed = deploy(bare, dev_account(data.ADMIN), workdir / "deployments",
                          guild=dev_account(data.GUILD).address, recorder=dev_account(data.RECORDER).address)
        chain = Chain(bare.w3, bare.artifacts, deployed.deployment)
        model, agency, brand = (dev_account(data.MODEL_INDICES[0]), dev_account(data.AGENCIES[0].index),
                                dev_account(data.BRANDS[0].index))
        market = Market(chain)
        twin = market.twin(model, agency)
        offer = market.offer(model, twin, per_use_fee=FEE)
        licences = [market.licence(brand, offer, (USES_PER_LICENCE + 5) * FEE)
                    for _ in range((n + USES_PER_LICENCE - 1) // USES_PER_LICENCE)]
        db_path = workdir / "twin.db"
        engine = make_engine(f"sqlite:///{db_path}")
        upgrade_database(engine)
        env = backend_env(get_settings(rpc_url=node.url, deployments_dir=workdir / "deployments",
                                       artifacts_dir=ROOT / "artifacts", var_dir=workdir,
                                       database_url=f"sqlite:///{db_path}"))
        env["TWIN_VERIFY_RATE_PER_MINUTE"] = "1000000"  # the benchmark is one client
        port = free_port()
        try:
            processes.append(spawn(["index"], env, workdir / "indexer.log"))
            processes.append(spawn(["serve", "--port", str(port)], env, workdir / "api.log"))
            processes.append(spawn(["settle"], env, workdir / "settler.log"))
            wait_http(f"http://127.0.0.1:{port}/api/v1/openapi.json")

            def known_licences() -> int:
                with engine.connect() as conn:
                    return conn.exec_driver_sql("SELECT count(*) FROM licenses").scalar()

            wait_for(lambda: known_licences() >= len(licences), 60, "the indexer to record the licences")

            domain = UseReportDomain(chain.chain_id, deployed.deployment.license_token)
            api = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60)
            sign_in(api, brand.key)
            started = time.monotonic()
            originals, use_ids = [], []
            for k in range(n):
                image = encoded(picture(k, 1024), "JPEG", quality=90)
                body = signed_report(brand, domain, licences[k // USES_PER_LICENCE], None, ref=sha256_hex(image),
                                     used_at=chain.timestamp())
                use = api.post("/api/v1/uses", json=body)
                use.raise_for_status()
                use_id = use.json()["id"]
                api.post(f"/api/v1/uses/{use_id}/asset", content=image).raise_for_status()
                originals.append(image)
                use_ids.append(use_id)
            log(f"reported {n} uses with 1024x1024 images attached in {time.monotonic() - started:.1f} s")

            def settled() -> int:
                with engine.connect() as conn:
                    return conn.exec_driver_sql("SELECT coalesce(sum(count), 0) FROM settlements").scalar()

            wait_for(lambda: settled() >= n, args.timeout, f"{n} uses to settle")
            log(f"all {n} settled after {time.monotonic() - started:.1f} s")

            signed = [api.get(f"/api/v1/uses/{u}/asset/credentialed").raise_for_status().content for u in use_ids]
            sets = {
                "signed": signed,
                "altered": [jpeg_with_scan_altered(s) for s in signed],
                "stripped": [stripped_copy(s, scale=0.6, quality=70) for s in signed],
                "unrelated": [encoded(picture(UNRELATED_SEED + k, 1024), "JPEG", quality=90) for k in range(n)],
            }
            timings, answers = [], {}
            for name, images in sets.items():
                answers[name] = []
                for image in images:
                    t0 = time.perf_counter()
                    answer = api.post("/api/v1/verify", content=image, headers={"Content-Type": "image/jpeg"})
                    timings.append((time.perf_counter() - t0) * 1000)
                    answer.raise_for_status()
                    answers[name].append(answer.json())
        finally:
            for process in reversed(processes):
                stop(process)

    def derived_from_own(k: int, a: dict) -> bool:
        return a["reason"] == "likely_derived" and a["match"]["sha256"] == sha256_hex(originals[k])

    result = {
        "signed": sum(a["verdict"] == "licensed_paid" for a in answers["signed"]),
        "verify_ms": {"p50": round(percentile(timings, 50), 1), "p95": round(percentile(timings, 95), 1)},
        "altered_flagged": sum((a["verdict"], a["reason"]) == ("credential_invalid", "altered")
                               for a in answers["altered"]),
        "stripped_matched": sum(derived_from_own(k, a) for k, a in enumerate(answers["stripped"])),
        "unrelated_matched": sum(a["match"] is not None for a in answers["unrelated"]),
    }
    for name, items in answers.items():
        verdicts: dict[str, int] = {}
        for a in items:
            key = f"{a['verdict']}/{a['reason']}"
            verdicts[key] = verdicts.get(key, 0) + 1
        log(f"{name}: {verdicts}")
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
