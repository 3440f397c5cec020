"""Helpers shared by the use, settlement, API and audit tests: a market on the session's chain (twin, offer,
licence), a fresh migrated database per test, signed reports, and uses inserted as the intake would."""

from __future__ import annotations

import os
import shutil
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from eth_account.signers.local import LocalAccount
from sqlalchemy import Engine
from sqlmodel import Session

from twin_licensing.chain.client import Chain
from twin_licensing.chain.use_reports import UseReport, UseReportDomain, report_digest, sign_report
from twin_licensing.db.engine import make_engine
from twin_licensing.db.migrate import upgrade_database
from twin_licensing.db.uses import ChainScope, Use
from twin_licensing.domain.money import UNIT as USDC
from twin_licensing.domain.shares import BPS

from kit.guild import accept, ensure_attested

DAY = 24 * 3600
MODEL, AGENCY, CREW = 0, 1, 2
ECOMMERCE, SOCIAL, PRINT, VIDEO = 0, 1, 2, 3  # category bit numbers
EUROPE, UK, NORTH_AMERICA = 0, 1, 2  # territory bit numbers


def mask(*bits: int) -> int:
    return sum(1 << b for b in bits)


def use_ref(tag: object) -> str:
    return "0x" + uuid.uuid5(uuid.NAMESPACE_URL, f"asset-{tag}").bytes.hex() * 2


# ------------------------------------------------------------------ the market on chain


@dataclass
class Market:
    chain: Chain

    def tx(self, who: LocalAccount, contract: str, function: str, *args):
        return self.chain.transact(who, contract, function, *args)

    def twin(self, model: LocalAccount, agency: LocalAccount | None = None, agency_bps: int = 2_000) -> int:
        payees = [(model.address, BPS - (agency_bps if agency else 0), MODEL)]
        if agency is not None:
            payees.append((agency.address, agency_bps, AGENCY))
        ensure_attested(self.chain, model)
        self.tx(model, "TwinRegistry", "registerTwin", "ipfs://twin", b"\x01" * 32, payees)
        twin_id = self.chain.call("TwinRegistry", "twinCount")
        if agency is not None:
            accept(self.chain, twin_id, agency)
        return twin_id

    def offer(
        self,
        model: LocalAccount,
        twin_id: int,
        *,
        per_use_fee: int = 2 * USDC,
        upfront_fee: int = 10 * USDC,
        duration: int = 30 * DAY,
        max_uses: int = 0,
        categories: int = mask(ECOMMERCE, SOCIAL),
        territories: int = mask(EUROPE, UK),
    ) -> int:
        terms = (upfront_fee, per_use_fee, duration, max_uses, categories, territories, False, False, 0)
        self.tx(model, "LicenseToken", "publishOffer", twin_id, terms)
        return self.chain.call("LicenseToken", "offerCount")

    def licence(self, brand: LocalAccount, offer_id: int, escrow: int) -> int:
        upfront = self.chain.call("LicenseToken", "offer", offer_id)[2][0]
        license_token = self.chain.deployment.license_token
        self.tx(brand, "PaymentToken", "faucet", brand.address, upfront + escrow)
        self.tx(brand, "PaymentToken", "approve", license_token, upfront + escrow)
        self.tx(brand, "LicenseToken", "buyLicense", offer_id, escrow)
        return self.chain.call("LicenseToken", "licenseCount")

    def settled(self, license_id: int) -> int:
        return self.chain.call("LicenseToken", "licenseState", license_id)[1]

    def escrow(self, license_id: int) -> int:
        return self.chain.call("LicenseToken", "licenseState", license_id)[0]


# ------------------------------------------------------------------ databases


_TEMPLATE: dict[str, Path] = {}


def sqlite_engine(directory: Path) -> Engine:
    """A migrated SQLite database in `directory` (copied from a template migrated once per session)."""
    if "sqlite" not in _TEMPLATE:
        template = Path(os.environ.get("PYTEST_TMP_TEMPLATE", "/tmp")) / f"uses-template-{os.getpid()}.db"
        template.unlink(missing_ok=True)
        engine = make_engine(f"sqlite:///{template}")
        upgrade_database(engine)
        engine.dispose()
        _TEMPLATE["sqlite"] = template
    path = directory / "twin.db"
    shutil.copyfile(_TEMPLATE["sqlite"], path)
    return make_engine(f"sqlite:///{path}")


# ------------------------------------------------------------------ reports and uses


def domain_of(chain: Chain) -> UseReportDomain:
    return UseReportDomain(chain.chain_id, chain.deployment.license_token)


def scope_of(chain: Chain) -> ChainScope:
    return ChainScope(chain.chain_id, chain.deployment.genesis_hash)


# The next sequence number this kit signs for each licence, per deployment: a client numbering its reports. A
# report signed without an explicit `seq` takes the next one; an explicit `seq` moves it past that one.
_NEXT_SEQ: dict[tuple[int, str, int], int] = {}
_NEXT_SEQ_LOCK = threading.Lock()


def _seq_key(domain: UseReportDomain, license_id: int) -> tuple[int, str, int]:
    return domain.chain_id, domain.verifying_contract.lower(), license_id


def take_seq(domain: UseReportDomain, license_id: int, seq: int | None = None) -> int:
    """`seq` (or, when None, the licence's next number as the kit counts) and counts it as signed."""
    key = _seq_key(domain, license_id)
    with _NEXT_SEQ_LOCK:
        if seq is None:
            seq = _NEXT_SEQ.get(key, 0)
        _NEXT_SEQ[key] = max(_NEXT_SEQ.get(key, 0), seq + 1)
        return seq


def expect_seq(domain: UseReportDomain, license_id: int, next_seq: int) -> None:
    """The licence's next number is `next_seq` (as the API said in a 409, or a fresh database): sign from there."""
    with _NEXT_SEQ_LOCK:
        _NEXT_SEQ[_seq_key(domain, license_id)] = next_seq


def forget_seqs() -> None:
    """Forgets every licence's count (a new test: the chain was reverted, licence ids start again)."""
    with _NEXT_SEQ_LOCK:
        _NEXT_SEQ.clear()


def signed_report(
    signer: LocalAccount,
    domain: UseReportDomain,
    license_id: int,
    tag: object,
    *,
    seq: int | None = None,
    category: int = ECOMMERCE,
    territory: int = EUROPE,
    used_at: int | None = None,
    ref: str | None = None,
) -> dict:
    """A signed report as JSON; `ref` overrides the use reference made from `tag` (the hash of a label, say).

    `seq` is the use's number within its licence, which the holder signs; by default the next one the kit has
    signed for the licence (`take_seq`), right as long as each report is accepted once, in order. `post_report` and
    `submit_report` re-sign with the number the intake expects when it is not.
    """
    used_at = int(time.time()) if used_at is None else used_at
    seq = take_seq(domain, license_id, seq)
    report = UseReport(license_id, seq, ref or use_ref(tag), category, territory, used_at)
    return {
        "license_id": license_id,
        "seq": seq,
        "use_ref": report.use_ref,
        "category": category,
        "territory": territory,
        "used_at": used_at,
        "signature": sign_report(signer.key, domain, report),
    }


def resigned(signer: LocalAccount, domain: UseReportDomain, body: dict, seq: int) -> dict:
    """The same report signed again as use `seq` (what a client does after a 409 sequence_mismatch)."""
    fields = {k: body[k] for k in ("category", "territory", "used_at")}
    return {**body, **signed_report(signer, domain, body["license_id"], None, seq=seq, ref=body["use_ref"], **fields)}


RESIGN_ATTEMPTS = 50


def post_report(client, signer: LocalAccount, domain: UseReportDomain, body: dict, path: str = "/api/v1/uses"):
    """POSTs a signed report like the web client does: on 409 sequence_mismatch, signs it again with the
    `expected_seq` the API gave, and sends it again. Returns the last response (`client` is an httpx.Client or a
    TestClient) and how many times it re-signed, as `response.resigned`."""
    resigned_count = 0
    for _ in range(RESIGN_ATTEMPTS):
        response = client.post(path, json=body)
        if response.status_code == 409 and response.json().get("code") == "sequence_mismatch":
            expected = response.json()["expected_seq"]
            body = resigned(signer, domain, body, expected)
            resigned_count += 1
            continue
        break
    response.resigned = resigned_count
    response.report = body
    return response


def submit_report(intake, signer: LocalAccount, domain: UseReportDomain, license_id: int, tag: object, **kw):
    """Signs and submits a report to a `UseIntake`, re-signing on a sequence mismatch as a client does."""
    from twin_licensing.usage.errors import SequenceMismatch
    from twin_licensing.usage.intake import parse_report

    body = signed_report(signer, domain, license_id, tag, **kw)
    for _ in range(RESIGN_ATTEMPTS):
        try:
            return intake.submit(parse_report(body))
        except SequenceMismatch as mismatch:
            body = resigned(signer, domain, body, mismatch.expected_seq)
    raise AssertionError(f"licence {license_id}: still a sequence mismatch after {RESIGN_ATTEMPTS} attempts")


def insert_uses(engine: Engine, chain: Chain, signer: LocalAccount, license_id: int, n: int, start_seq: int = 0,
                tag: str = "u", category: int = ECOMMERCE) -> list[Use]:
    """Uses as the intake stores them (for settler tests that do not go through the API)."""
    domain = domain_of(chain)
    scope = scope_of(chain)
    twin_id = chain.call("LicenseToken", "licenseState", license_id)[5]  # the intake stores each use's twin
    rows = []
    with Session(engine) as session:
        for seq in range(start_seq, start_seq + n):
            body = signed_report(signer, domain, license_id, f"{tag}-{license_id}-{seq}", seq=seq, category=category)
            report = UseReport(license_id, seq, body["use_ref"], body["category"], body["territory"], body["used_at"])
            use = Use(
                chain_id=scope.chain_id,
                genesis_hash=scope.genesis_hash,
                license_id=license_id,
                twin_id=twin_id,
                seq=seq,
                use_ref=body["use_ref"],
                category=body["category"],
                territory=body["territory"],
                used_at=body["used_at"],
                signer=signer.address,
                signature=body["signature"],
                digest=report_digest(domain, report),
                accepted_at=datetime.now(timezone.utc),
            )
            session.add(use)
            rows.append(use)
        session.commit()
        for use in rows:
            session.refresh(use)
            session.expunge(use)
    return rows


# ------------------------------------------------------------------ processes (crash tests, benchmark)

import signal  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402

TWINCTL = Path(sys.executable).with_name("twinctl")


def backend_env(settings) -> dict[str, str]:
    """The environment that points a `twinctl` process at the test's node, deployment and database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TWIN_") and k != "DATABASE_URL"}
    env.update({
        "TWIN_RPC_URL": settings.rpc_url,
        "TWIN_DEPLOYMENTS_DIR": str(settings.deployments_dir),
        "TWIN_ARTIFACTS_DIR": str(settings.artifacts_dir),
        "TWIN_VAR_DIR": str(settings.var_dir),
        "DATABASE_URL": str(settings.database_url),
    })
    return env


def spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    with open(log, "ab") as out:
        return subprocess.Popen([str(TWINCTL), *args], env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)


def kill(process: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
    """Stops exactly this process (by its PID) and reaps it."""
    if process.poll() is None:
        os.kill(process.pid, sig)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=15)
