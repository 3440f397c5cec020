"""Helpers shared by the use, settlement, API and audit tests: a market on the session's chain (twin, offer,
licence), a fresh migrated database per test, signed reports, and uses inserted as the intake would."""

from __future__ import annotations

import os
import shutil
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


def signed_report(
    signer: LocalAccount,
    domain: UseReportDomain,
    license_id: int,
    tag: object,
    *,
    category: int = ECOMMERCE,
    territory: int = EUROPE,
    used_at: int | None = None,
    ref: str | None = None,
) -> dict:
    """A signed report as JSON; `ref` overrides the use reference made from `tag` (the hash of a label, say)."""
    used_at = int(time.time()) if used_at is None else used_at
    report = UseReport(license_id, ref or use_ref(tag), category, territory, used_at)
    return {
        "license_id": license_id,
        "use_ref": report.use_ref,
        "category": category,
        "territory": territory,
        "used_at": used_at,
        "signature": sign_report(signer.key, domain, report),
    }


def insert_uses(engine: Engine, chain: Chain, signer: LocalAccount, license_id: int, n: int, start_seq: int = 0,
                tag: str = "u", category: int = ECOMMERCE) -> list[Use]:
    """Uses as the intake stores them (for settler tests that do not go through the API)."""
    domain = domain_of(chain)
    scope = scope_of(chain)
    twin_id = chain.call("LicenseToken", "licenseState", license_id)[5]  # the intake stores each use's twin
    rows = []
    with Session(engine) as session:
        for seq in range(start_seq, start_seq + n):
            body = signed_report(signer, domain, license_id, f"{tag}-{license_id}-{seq}", category=category)
            report = UseReport(license_id, body["use_ref"], body["category"], body["territory"], body["used_at"])
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
