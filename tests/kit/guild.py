"""The guild's part in test markets: attesting models and agencies, and payees accepting their listings.

Since issue 10 a twin is registered only by an address the guild attests as a model, and a payee other than the
model counts a twin in its `withdraw()` / `claimable()` only once it accepted. The kits that build markets on the
session's chain (twin_env, scenario, uses) go through these helpers, so their tests read as before.
"""

from __future__ import annotations

from eth_account.signers.local import LocalAccount

from twin_licensing.chain.client import Chain
from twin_licensing.chain.keys import dev_account
from twin_licensing.domain.vocabulary import MODEL
from twin_licensing.seed import data

# An attestation that no test outlives, however far it moves the clock (uint40 seconds).
FAR_FUTURE = 2**40 - 1


def attest(chain: Chain, subject: LocalAccount | str, role: int = MODEL, *, expires_at: int = FAR_FUTURE,
           label: str = "test", guild: LocalAccount | None = None) -> int:
    """The guild attests `subject` as `role`; returns the attestation id."""
    address = subject if isinstance(subject, str) else subject.address
    result = chain.transact(guild or dev_account(data.GUILD), "TwinRegistry", "attest", address, role, expires_at, label)
    (event,) = chain.events(result, "TwinRegistry", "Attested")
    return event["attestationId"]


def ensure_attested(chain: Chain, subject: LocalAccount | str, role: int = MODEL) -> None:
    """Attests `subject` as `role` unless it already holds a valid attestation for it."""
    address = subject if isinstance(subject, str) else subject.address
    if not chain.call("TwinRegistry", "isAttested", address, role):
        attest(chain, address, role)


def attestation_domain(chain: Chain) -> dict:
    """The EIP-712 domain a guild key signs attestations in (TwinRegistry's)."""
    return {
        "name": "TwinRegistry",
        "version": "1",
        "chainId": chain.chain_id,
        "verifyingContract": chain.deployment.twin_registry,
    }


def sign_attestation(domain: dict, signer: LocalAccount, subject: str, role: int, expires_at: int, label: str,
                     nonce: int, *, digest: bool = False):
    """An attestation of `subject` signed with `signer`'s key for `attestWithSig`; with `digest`, also the digest."""
    message = signer.sign_typed_data(
        domain_data=domain,
        message_types={
            "Attestation": [
                {"name": "subject", "type": "address"},
                {"name": "role", "type": "uint8"},
                {"name": "expiresAt", "type": "uint40"},
                {"name": "label", "type": "string"},
                {"name": "nonce", "type": "uint256"},
            ]
        },
        message_data={"subject": subject, "role": role, "expiresAt": expires_at, "label": label, "nonce": nonce},
    )
    signature = bytes(message.signature)
    return (signature, message.message_hash) if digest else signature


def accept(chain: Chain, twin_id: int, *payees: LocalAccount) -> None:
    """Each of `payees` (listed on the twin, not its model) accepts being a payee of it."""
    for payee in payees:
        chain.transact(payee, "TwinRegistry", "acceptPayee", twin_id)
