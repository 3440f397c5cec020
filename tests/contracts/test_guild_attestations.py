"""Issue 10, verified identities: the guild attests models and agencies (by a call or an EIP-712 signature anyone
submits); only an attested model registers a twin or publishes an offer; the agency cap binds attested agencies
whatever role they are listed under; a guild cap bounds all the non-model shares together."""

from eth_account import Account
from web3 import Web3

from kit.guild import attestation_domain, sign_attestation
from kit.signed_items import paid
from kit.twin_env import AGENCY, CREW, DAY, GUILD_ROLE, MODEL, USDC, ZERO_ADDRESS, Terms, item, payee

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def attest(env, a, subject, role=MODEL, *, days=365, label="Test model"):
    """The guild attests `subject` for `days`; returns (attestation id, expiresAt, the transaction)."""
    expires_at = env.now() + days * DAY
    result = env.tx(a.guild, "TwinRegistry", "attest", subject.address, role, expires_at, label)
    return env.event(result, "TwinRegistry", "Attested")["attestationId"], expires_at, result


def signed(env, signer, subject, role, expires_at, label, nonce):
    """An EIP-712 attestation signed with `signer`'s key, and the digest it signs."""
    return sign_attestation(attestation_domain(env.chain), signer, subject, role, expires_at, label, nonce, digest=True)


# ---------------------------------------------------------------------------------------------- attesting


def test_guild_attests_a_model_and_the_views_say_so(env, a):
    subject = a.stranger
    assert env.call("TwinRegistry", "isAttested", subject.address, MODEL) is False
    assert env.call("TwinRegistry", "attestationOf", subject.address) == (0, (ZERO_ADDRESS, 0, 0, 0, False))
    nonce = env.call("TwinRegistry", "attestationNonce", subject.address)
    count = env.call("TwinRegistry", "attestationCount")

    attestation_id, expires_at, result = attest(env, a, subject, label="Noor Al-Sayed")
    issued_at = env.block_time(result)
    assert attestation_id == count + 1 == env.call("TwinRegistry", "attestationCount")
    assert env.event(result, "TwinRegistry", "Attested") == {
        "attestationId": attestation_id, "subject": subject.address, "role": MODEL, "issuedAt": issued_at,
        "expiresAt": expires_at, "label": "Noor Al-Sayed", "guild": a.guild.address,
    }
    stored = (subject.address, MODEL, issued_at, expires_at, False)
    assert env.call("TwinRegistry", "attestation", attestation_id) == stored
    assert env.call("TwinRegistry", "attestationOf", subject.address) == (attestation_id, stored)
    assert env.call("TwinRegistry", "isAttested", subject.address, MODEL) is True
    assert env.call("TwinRegistry", "isAttested", subject.address, AGENCY) is False
    assert env.call("TwinRegistry", "requireAttested", subject.address, MODEL) == attestation_id
    assert env.call("TwinRegistry", "attestationNonce", subject.address) == nonce + 1

    # A later attestation replaces it as the current one (here: the same address as an agency).
    agency_id, _, _ = attest(env, a, subject, AGENCY, label="now an agency")
    assert env.call("TwinRegistry", "attestationOf", subject.address)[0] == agency_id
    assert env.call("TwinRegistry", "isAttested", subject.address, MODEL) is False
    with env.reverts("TwinRegistryNotAttested", subject.address, MODEL):
        env.call("TwinRegistry", "requireAttested", subject.address, MODEL)


def test_bad_attestations_are_refused_and_change_nothing(env, a):
    future = env.now() + DAY
    for caller in (a.admin, a.model, a.stranger, a.recorder):
        env.refused(caller, "TwinRegistry", "attest", a.stranger.address, MODEL, future, "x",
                    error="AccessControlUnauthorizedAccount", error_args=(caller.address, GUILD_ROLE))
    env.refused(a.guild, "TwinRegistry", "attest", a.stranger.address, CREW, future, "x",
                error="TwinRegistryAttestationRoleInvalid", error_args=(CREW,))
    env.refused(a.guild, "TwinRegistry", "attest", ZERO_ADDRESS, MODEL, future, "x", error="TwinRegistryZeroAddress")
    past = env.now()
    env.refused(a.guild, "TwinRegistry", "attest", a.stranger.address, MODEL, past, "x",
                error="TwinRegistryAttestationExpiryInPast", error_args=(past,))
    with env.reverts("TwinRegistryUnknownAttestation", 999):
        env.call("TwinRegistry", "attestation", 999)


def test_a_signed_attestation_is_submitted_by_anyone_once(env, a):
    subject, expires_at = a.stranger.address, env.now() + 30 * DAY
    nonce = env.call("TwinRegistry", "attestationNonce", subject)
    signature, digest = signed(env, a.guild, subject, MODEL, expires_at, "Signed model", nonce)
    assert env.call("TwinRegistry", "attestationDigest", subject, MODEL, expires_at, "Signed model", nonce) == digest

    result = env.tx(a.brand, "TwinRegistry", "attestWithSig", subject, MODEL, expires_at, "Signed model", nonce, signature)
    event = env.event(result, "TwinRegistry", "Attested")
    assert (event["subject"], event["guild"], event["label"]) == (subject, a.guild.address, "Signed model")
    assert env.call("TwinRegistry", "isAttested", subject, MODEL) is True

    # The same signature again: its nonce is spent.
    env.refused(a.brand, "TwinRegistry", "attestWithSig", subject, MODEL, expires_at, "Signed model", nonce, signature,
                error="TwinRegistryAttestationBadNonce", error_args=(subject, nonce, nonce + 1))


def test_a_signature_made_before_a_revocation_cannot_bring_the_subject_back(env, a):
    subject = a.stranger.address
    attestation_id, expires_at, _ = attest(env, a, a.stranger)
    nonce = env.call("TwinRegistry", "attestationNonce", subject)
    signature, _ = signed(env, a.guild, subject, MODEL, expires_at, "again", nonce)  # signed, kept back
    env.tx(a.guild, "TwinRegistry", "revokeAttestation", attestation_id)
    env.refused(a.stranger, "TwinRegistry", "attestWithSig", subject, MODEL, expires_at, "again", nonce, signature,
                error="TwinRegistryAttestationBadNonce", error_args=(subject, nonce, nonce + 1))
    assert env.call("TwinRegistry", "isAttested", subject, MODEL) is False


def test_signatures_not_from_the_guild_or_malleable_are_refused(env, a):
    subject, expires_at = a.stranger.address, env.now() + 30 * DAY
    nonce = env.call("TwinRegistry", "attestationNonce", subject)
    forged, _ = signed(env, a.stranger, subject, MODEL, expires_at, "self", nonce)  # the subject signs herself
    env.refused(a.stranger, "TwinRegistry", "attestWithSig", subject, MODEL, expires_at, "self", nonce, forged,
                error="TwinRegistryAttestationSignerNotGuild", error_args=(subject,))
    # A guild signature over other terms recovers some other address: not the guild.
    genuine, _ = signed(env, a.guild, subject, MODEL, expires_at, "label", nonce)
    with env.reverts("TwinRegistryAttestationSignerNotGuild"):
        env.tx(a.stranger, "TwinRegistry", "attestWithSig", subject, MODEL, expires_at + 1, "label", nonce, genuine)
    # The same signature with s flipped to the upper half (still valid for ecrecover) is refused.
    r, s, v = genuine[:32], int.from_bytes(genuine[32:64], "big"), genuine[64]
    malleated = r + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - v])
    env.refused(a.stranger, "TwinRegistry", "attestWithSig", subject, MODEL, expires_at, "label", nonce, malleated,
                error="ECDSAInvalidSignatureS", error_args=((SECP256K1_N - s).to_bytes(32, "big"),))
    env.refused(a.stranger, "TwinRegistry", "attestWithSig", subject, MODEL, expires_at, "label", nonce, b"\x01" * 64,
                error="ECDSAInvalidSignatureLength", error_args=(64,))
    assert env.call("TwinRegistry", "isAttested", subject, MODEL) is False


def test_guild_revokes_an_attestation_once(env, a):
    attestation_id, _, _ = attest(env, a, a.stranger)
    env.refused(a.admin, "TwinRegistry", "revokeAttestation", attestation_id,
                error="AccessControlUnauthorizedAccount", error_args=(a.admin.address, GUILD_ROLE))
    result = env.tx(a.guild, "TwinRegistry", "revokeAttestation", attestation_id)
    assert env.event(result, "TwinRegistry", "AttestationRevoked") == {
        "attestationId": attestation_id, "subject": a.stranger.address, "guild": a.guild.address,
    }
    assert env.call("TwinRegistry", "attestation", attestation_id)[4] is True
    env.refused(a.guild, "TwinRegistry", "revokeAttestation", attestation_id,
                error="TwinRegistryAttestationAlreadyRevoked", error_args=(attestation_id,))
    env.refused(a.guild, "TwinRegistry", "revokeAttestation", 999, error="TwinRegistryUnknownAttestation",
                error_args=(999,))


# ---------------------------------------------------------------------------------------------- what it gates


def test_an_unattested_address_cannot_register_a_twin(env, a):
    payees = [payee(a.stranger, 10_000, MODEL)]
    env.refused(a.stranger, "TwinRegistry", "registerTwin", "ipfs://someone-else", b"\x01" * 32, payees,
                error="TwinRegistryNotAttested", error_args=(a.stranger.address, MODEL))
    # An agency registering its model's twin under its own wallet: attested, but as an agency.
    attest(env, a, a.agency, AGENCY, label="Nordlys Models")
    env.refused(a.agency, "TwinRegistry", "registerTwin", "ipfs://her", b"\x01" * 32, [payee(a.agency, 10_000, MODEL)],
                error="TwinRegistryNotAttested", error_args=(a.agency.address, MODEL))
    assert env.call("TwinRegistry", "twinCount") == 0


def test_revoked_or_expired_attestation_stops_new_twins_and_offers_not_licences(env, a):
    attestation_id, expires_at, _ = attest(env, a, a.stranger, days=10)
    twin = env.register(a.stranger, [payee(a.stranger, 10_000, MODEL)])
    assert env.call("TwinRegistry", "twinAttestation", twin) == attestation_id
    offer = env.publish(a.stranger, twin, Terms())
    license_id = env.buy(a.brand, offer, USDC)

    env.tx(a.guild, "TwinRegistry", "revokeAttestation", attestation_id)
    env.refused(a.stranger, "TwinRegistry", "registerTwin", "ipfs://2", b"\x01" * 32, [payee(a.stranger, 10_000, MODEL)],
                error="TwinRegistryAttestationRevoked", error_args=(attestation_id,))
    env.refused(a.stranger, "LicenseToken", "publishOffer", twin, Terms().tuple(),
                error="TwinRegistryAttestationRevoked", error_args=(attestation_id,))
    # What exists goes on: the licence settles, the published offer still sells.
    paid(env, item(license_id, 0, 2))
    env.buy(a.brand2, offer, USDC)
    assert env.call("TwinRegistry", "twinAttestation", twin) == attestation_id

    # Attested again, she publishes again; once that attestation expires, she no longer can.
    renewed, renewed_expiry, _ = attest(env, a, a.stranger, days=5)
    env.publish(a.stranger, twin, Terms())
    env.advance(5 * DAY)
    env.refused(a.stranger, "LicenseToken", "publishOffer", twin, Terms().tuple(),
                error="TwinRegistryAttestationExpired", error_args=(renewed, renewed_expiry))
    env.refused(a.stranger, "TwinRegistry", "registerTwin", "ipfs://3", b"\x01" * 32, [payee(a.stranger, 10_000, MODEL)],
                error="TwinRegistryAttestationExpired", error_args=(renewed, renewed_expiry))
    paid(env, item(license_id, 2, 1))
    env.conserved()


# ---------------------------------------------------------------------------------------------- caps


def test_agency_cap_binds_an_attested_agency_under_any_role(env, a):
    attest(env, a, a.agency, AGENCY, label="Nordlys Models")
    for role in (CREW, AGENCY):
        env.refused(a.model, "TwinRegistry", "registerTwin", "ipfs://x", b"\x01" * 32,
                    [payee(a.model, 5_000, MODEL), payee(a.agency, 5_000, role)],
                    error="TwinRegistryAgencyShareAboveCap", error_args=(5_000, 2_000))
    # Together with another payee labelled Agency, the attested one counts too.
    env.refused(a.model, "TwinRegistry", "registerTwin", "ipfs://x", b"\x01" * 32,
                [payee(a.model, 7_500, MODEL), payee(a.agency, 1_500, CREW), payee(a.agency2, 1_000, AGENCY)],
                error="TwinRegistryAgencyShareAboveCap", error_args=(2_500, 2_000))
    twin = env.register(a.model, [payee(a.model, 8_000, MODEL), payee(a.agency, 2_000, CREW)])
    env.refused(a.model, "TwinRegistry", "setPayees", twin, [payee(a.model, 7_000, MODEL), payee(a.agency, 3_000, CREW)],
                error="TwinRegistryAgencyShareAboveCap", error_args=(3_000, 2_000))
    # An unattested crew member may take more than the agency cap (within the non-model cap).
    env.register(a.model2, [payee(a.model2, 6_000, MODEL), payee(a.crew, 4_000, CREW)])


def test_non_model_cap_bounds_all_other_payees_together(env, a):
    assert env.call("TwinRegistry", "nonModelCap") == 5_000
    env.refused(a.model, "TwinRegistry", "registerTwin", "ipfs://x", b"\x01" * 32,
                [payee(a.model, 4_999, MODEL), payee(a.crew, 3_001, CREW), payee(a.crew2, 2_000, CREW)],
                error="TwinRegistryNonModelShareAboveCap", error_args=(5_001, 5_000))
    twin = env.register(a.model, [payee(a.model, 5_000, MODEL), payee(a.crew, 3_000, CREW), payee(a.crew2, 2_000, CREW)])
    for caller in (a.admin, a.model):
        env.refused(caller, "TwinRegistry", "setNonModelCap", 3_000,
                    error="AccessControlUnauthorizedAccount", error_args=(caller.address, GUILD_ROLE))
    env.refused(a.guild, "TwinRegistry", "setNonModelCap", 10_001, error="TwinRegistryCapAboveTotal", error_args=(10_001,))
    result = env.tx(a.guild, "TwinRegistry", "setNonModelCap", 3_000)
    assert env.event(result, "TwinRegistry", "NonModelCapSet") == {"capBps": 3_000}
    # The twin keeps its agreed shares; a new list must fit the new cap.
    assert env.call("TwinRegistry", "payeesOf", twin)[0][1] == 5_000
    env.refused(a.model, "TwinRegistry", "setPayees", twin, [payee(a.model, 6_000, MODEL), payee(a.crew, 4_000, CREW)],
                error="TwinRegistryNonModelShareAboveCap", error_args=(4_000, 3_000))


def test_any_guild_key_signs_and_a_revoked_guild_key_no_longer_does(env, a):
    """Any holder of the guild role may sign (the event names the signer); once the role is revoked, it may not."""
    second = Account.from_key(Web3.keccak(text="second guild key"))
    env.tx(a.admin, "TwinRegistry", "grantRole", GUILD_ROLE, second.address)
    subject, expires_at = a.stranger.address, env.now() + DAY
    nonce = env.call("TwinRegistry", "attestationNonce", subject)
    signature, _ = signed(env, second, subject, AGENCY, expires_at, "Kinto Agency", nonce)
    result = env.tx(a.brand, "TwinRegistry", "attestWithSig", subject, AGENCY, expires_at, "Kinto Agency", nonce, signature)
    assert env.event(result, "TwinRegistry", "Attested")["guild"] == second.address
    assert env.call("TwinRegistry", "isAttested", subject, AGENCY) is True

    env.tx(a.admin, "TwinRegistry", "revokeRole", GUILD_ROLE, second.address)
    signature, _ = signed(env, second, subject, MODEL, expires_at, "again", nonce + 1)
    env.refused(a.brand, "TwinRegistry", "attestWithSig", subject, MODEL, expires_at, "again", nonce + 1, signature,
                error="TwinRegistryAttestationSignerNotGuild", error_args=(second.address,))
