"""Twin registry: registration, locked twins, payees and their validation, guild and admin settings."""

import pytest
from web3 import Web3

from kit.twin_env import (
    ADMIN_ROLE,
    AGENCY,
    CREW,
    GRANTED,
    GUILD_ROLE,
    MODEL,
    NOTICE,
    ZERO_ADDRESS,
    hx,
    payee,
)

ERC5192_ID = bytes.fromhex("b45a3c0e")
ERC721_ID = bytes.fromhex("80ac58cd")
ACCESS_CONTROL_ID = bytes.fromhex("7965db0b")


# ---------------------------------------------------------------------------------------------- registration


def test_register_twin_mints_a_locked_token_to_the_model(env, a):
    consent = Web3.keccak(text="signed consent")
    payees = [payee(a.model, 8_000, MODEL), payee(a.agency, 2_000, AGENCY)]
    result = env.tx(a.model, "TwinRegistry", "registerTwin", "ipfs://anna", consent, payees)

    assert env.call("TwinRegistry", "twinCount") == 1
    assert env.call("TwinRegistry", "ownerOf", 1) == a.model.address
    assert env.call("TwinRegistry", "modelOf", 1) == a.model.address
    assert env.call("TwinRegistry", "tokenURI", 1) == "ipfs://anna"
    assert env.call("TwinRegistry", "locked", 1) is True
    assert env.call("TwinRegistry", "payeesOf", 1) == (
        (a.model.address, 8_000, MODEL),
        (a.agency.address, 2_000, AGENCY),
    )
    assert env.call("TwinRegistry", "twinsOfPayee", a.model.address) == (1,)
    # The agency counts the twin only once it accepts being its payee.
    assert env.call("TwinRegistry", "twinsOfPayee", a.agency.address) == ()
    assert env.call("TwinRegistry", "consentOf", 1) == (GRANTED, 0, consent)
    assert env.call("TwinRegistry", "consentEffective", 1) is True
    attestation_id = env.call("TwinRegistry", "attestationOf", a.model.address)[0]
    assert attestation_id > 0 and env.call("TwinRegistry", "twinAttestation", 1) == attestation_id

    assert env.event(result, "TwinRegistry", "TwinRegistered") == {
        "twinId": 1, "model": a.model.address, "uri": "ipfs://anna", "consentHash": hx(consent),
        "attestationId": attestation_id, "noticePeriod": NOTICE,
    }
    assert env.event(result, "TwinRegistry", "Locked") == {"tokenId": 1}
    assert env.event(result, "TwinRegistry", "PayeesSet") == {
        "twinId": 1,
        "accounts": [a.model.address, a.agency.address],
        "sharesBps": [8_000, 2_000],
        "roles": [MODEL, AGENCY],
    }


def test_twin_ids_count_up_per_registration(env, a):
    assert env.register(a.model) == 1
    assert env.register(a.model2) == 2
    assert env.register(a.model) == 3
    assert env.call("TwinRegistry", "twinsOfPayee", a.model.address) == (1, 3)
    assert env.call("TwinRegistry", "balanceOf", a.model.address) == 2


def test_registry_supports_erc5192_erc721_and_access_control(env):
    assert env.call("TwinRegistry", "supportsInterface", ERC5192_ID) is True
    assert env.call("TwinRegistry", "supportsInterface", ERC721_ID) is True
    assert env.call("TwinRegistry", "supportsInterface", ACCESS_CONTROL_ID) is True
    assert env.call("TwinRegistry", "supportsInterface", bytes.fromhex("ffffffff")) is False


def test_views_of_an_unknown_twin_revert(env, twin):
    for function in ("locked", "modelOf", "payeesOf", "consentOf", "consentEffective", "tokenURI"):
        with env.reverts("ERC721NonexistentToken", 99):
            env.call("TwinRegistry", function, 99)


# ---------------------------------------------------------------------------------------------- locked


def test_twin_transfer_reverts_as_locked(env, a, twin):
    env.refused(
        a.model, "TwinRegistry", "transferFrom", a.model.address, a.brand.address, twin,
        error="TwinRegistryTwinLocked", error_args=(twin,),
    )
    env.refused(
        a.model, "TwinRegistry", "safeTransferFrom", a.model.address, a.brand.address, twin,
        error="TwinRegistryTwinLocked", error_args=(twin,),
    )
    assert env.call("TwinRegistry", "ownerOf", twin) == a.model.address


def test_no_operator_can_be_approved_for_a_twin(env, a, twin):
    """Issue 10: approvals of locked twins are refused, so no marketplace lists one."""
    env.refused(a.model, "TwinRegistry", "setApprovalForAll", a.stranger.address, True,
                error="TwinRegistryApprovalForAllRefused", error_args=(a.stranger.address,))
    env.refused(a.model, "TwinRegistry", "approve", a.stranger.address, twin,
                error="TwinRegistryTwinLocked", error_args=(twin,))
    assert env.call("TwinRegistry", "getApproved", twin) == ZERO_ADDRESS
    assert env.call("TwinRegistry", "isApprovedForAll", a.model.address, a.stranger.address) is False
    env.refused(
        a.stranger, "TwinRegistry", "transferFrom", a.model.address, a.stranger.address, twin,
        error="TwinRegistryTwinLocked", error_args=(twin,),
    )
    assert env.call("TwinRegistry", "ownerOf", twin) == a.model.address


# ---------------------------------------------------------------------------------------------- payees


def test_registration_accepts_model_agency_at_cap_and_crew(env, a):
    payees = [
        payee(a.model, 6_000, MODEL),
        payee(a.agency, 2_000, AGENCY),  # exactly the default cap
        payee(a.crew, 1_500, CREW),
        payee(a.crew2, 500, CREW),
    ]
    twin_id = env.register(a.model, payees)
    assert env.call("TwinRegistry", "payeesOf", twin_id) == tuple(payees)
    assert env.call("TwinRegistry", "twinsOfPayee", a.crew2.address) == (twin_id,)


def test_registration_accepts_eight_payees(env, a, accounts8):
    payees = [payee(a.model, 5_100, MODEL)] + [payee(x, 700, CREW) for x in accounts8[1:]]
    twin_id = env.register(a.model, payees)
    assert len(env.call("TwinRegistry", "payeesOf", twin_id)) == 8


@pytest.fixture
def accounts8(a):
    return [a.model, a.crew, a.crew2, a.brand, a.brand2, a.stranger, a.agency2, a.model2]


def _bad_payees(a, accounts8):
    """(payees, error name, error args) for every way a payee list is refused."""
    m, ag, cr = a.model.address, a.agency.address, a.crew.address
    nine = [payee(a.model, 2_000, MODEL)] + [payee(x, 1_000, CREW) for x in accounts8[1:]] + [payee(a.agency, 1_000, CREW)]
    return [
        ([], "TwinRegistryNoPayees", ()),
        (nine, "TwinRegistryTooManyPayees", (9, 8)),
        ([payee(m, 9_000, MODEL), payee(ag, 2_000, AGENCY)], "TwinRegistrySharesNotTotal", (11_000,)),
        ([payee(m, 7_000, MODEL), payee(ag, 2_000, AGENCY)], "TwinRegistrySharesNotTotal", (9_000,)),
        ([payee(m, 10_000, MODEL), payee(ZERO_ADDRESS, 0, CREW)], "TwinRegistryZeroAddress", ()),
        ([payee(m, 9_000, MODEL), payee(ZERO_ADDRESS, 1_000, CREW)], "TwinRegistryZeroAddress", ()),
        ([payee(m, 10_000, MODEL), payee(cr, 0, CREW)], "TwinRegistryZeroShare", (cr,)),
        ([payee(ag, 10_000, MODEL)], "TwinRegistryFirstPayeeNotModel", (ag,)),
        ([payee(ag, 2_000, AGENCY), payee(m, 8_000, MODEL)], "TwinRegistryFirstPayeeNotModel", (ag,)),
        ([payee(m, 10_000, AGENCY)], "TwinRegistryFirstPayeeNotModel", (m,)),
        ([payee(m, 8_000, MODEL), payee(cr, 2_000, MODEL)], "TwinRegistryModelRoleMisplaced", (1,)),
        ([payee(m, 8_000, MODEL), payee(cr, 1_000, CREW), payee(cr, 1_000, CREW)], "TwinRegistryDuplicatePayee", (cr,)),
        ([payee(m, 8_000, MODEL), payee(m, 2_000, CREW)], "TwinRegistryDuplicatePayee", (m,)),
        ([payee(m, 7_999, MODEL), payee(ag, 2_001, AGENCY)], "TwinRegistryAgencyShareAboveCap", (2_001, 2_000)),
        # The cap bounds agencies together: two at 15 % and 10 % take 25 %.
        (
            [payee(m, 7_500, MODEL), payee(ag, 1_500, AGENCY), payee(a.agency2.address, 1_000, AGENCY)],
            "TwinRegistryAgencyShareAboveCap",
            (2_500, 2_000),
        ),
    ]


def test_registration_refuses_every_bad_payee_list(env, a, accounts8):
    for payees, error, args in _bad_payees(a, accounts8):
        env.refused(
            a.model, "TwinRegistry", "registerTwin", "ipfs://x", b"\x01" * 32, payees, error=error, error_args=args
        )
    assert env.call("TwinRegistry", "twinCount") == 0
    assert env.call("TwinRegistry", "balanceOf", a.model.address) == 0


def test_set_payees_refuses_every_bad_payee_list(env, a, twin, accounts8):
    before = env.call("TwinRegistry", "payeesOf", twin)
    for payees, error, args in _bad_payees(a, accounts8):
        env.refused(a.model, "TwinRegistry", "setPayees", twin, payees, error=error, error_args=args)
    assert env.call("TwinRegistry", "payeesOf", twin) == before


def test_set_payees_replaces_the_list_and_the_payee_index(env, a, twin):
    new = [payee(a.model, 9_000, MODEL), payee(a.crew, 1_000, CREW)]
    result = env.tx(a.model, "TwinRegistry", "setPayees", twin, new)
    assert env.call("TwinRegistry", "payeesOf", twin) == tuple(new)
    assert env.call("TwinRegistry", "twinsOfPayee", a.agency.address) == ()
    assert env.call("TwinRegistry", "twinsOfPayee", a.crew.address) == ()  # listed, not accepted yet
    assert env.call("TwinRegistry", "twinsOfPayee", a.model.address) == (twin,)
    assert env.event(result, "TwinRegistry", "PayeesSet") == {
        "twinId": twin, "accounts": [a.model.address, a.crew.address], "sharesBps": [9_000, 1_000], "roles": [MODEL, CREW],
    }


def test_only_the_model_sets_payees(env, a, twin):
    for caller in (a.agency, a.guild, a.admin, a.stranger):
        env.refused(
            caller, "TwinRegistry", "setPayees", twin, [payee(caller, 10_000, MODEL)],
            error="TwinRegistryNotModel", error_args=(twin, caller.address),
        )


def test_model_actions_on_an_unknown_twin_revert(env, a, twin):
    env.refused(a.model, "TwinRegistry", "setPayees", 7, [payee(a.model, 10_000, MODEL)],
                error="TwinRegistryUnknownTwin", error_args=(7,))
    env.refused(a.model, "TwinRegistry", "setTwinUri", 7, "x", error="TwinRegistryUnknownTwin", error_args=(7,))
    env.refused(a.model, "TwinRegistry", "revokeConsent", 7, error="TwinRegistryUnknownTwin", error_args=(7,))
    env.refused(a.model, "TwinRegistry", "grantConsent", 7, b"\x02" * 32, error="TwinRegistryUnknownTwin", error_args=(7,))


def test_model_changes_the_uri(env, a, twin):
    result = env.tx(a.model, "TwinRegistry", "setTwinUri", twin, "ipfs://new")
    assert env.call("TwinRegistry", "tokenURI", twin) == "ipfs://new"
    assert env.event(result, "TwinRegistry", "TwinUriSet") == {"twinId": twin, "uri": "ipfs://new"}
    env.refused(a.agency, "TwinRegistry", "setTwinUri", twin, "ipfs://hijack",
                error="TwinRegistryNotModel", error_args=(twin, a.agency.address))
    assert env.call("TwinRegistry", "tokenURI", twin) == "ipfs://new"


# ---------------------------------------------------------------------------------------------- guild


def test_guild_sets_category_floors_and_floor_for_takes_the_highest(env, a):
    result = env.tx(a.guild, "TwinRegistry", "setCategoryFloor", 0, 100)
    assert env.event(result, "TwinRegistry", "CategoryFloorSet") == {"category": 0, "minPerUseFee": 100}
    env.tx(a.guild, "TwinRegistry", "setCategoryFloor", 2, 300)
    env.tx(a.guild, "TwinRegistry", "setCategoryFloor", 7, 250)
    assert env.call("TwinRegistry", "categoryFloor", 2) == 300
    assert env.call("TwinRegistry", "floorFor", 0b0000_0001) == 100
    assert env.call("TwinRegistry", "floorFor", 0b0000_0101) == 300
    assert env.call("TwinRegistry", "floorFor", 0b1000_0001) == 250
    assert env.call("TwinRegistry", "floorFor", 0b0000_0010) == 0
    assert env.call("TwinRegistry", "floorFor", 0xFF) == 300


def test_only_the_guild_sets_floors_and_the_agency_cap(env, a):
    for caller in (a.admin, a.model, a.recorder, a.stranger):
        env.refused(caller, "TwinRegistry", "setCategoryFloor", 0, 1,
                    error="AccessControlUnauthorizedAccount", error_args=(caller.address, GUILD_ROLE))
        env.refused(caller, "TwinRegistry", "setAgencyCap", 3_000,
                    error="AccessControlUnauthorizedAccount", error_args=(caller.address, GUILD_ROLE))
    assert env.call("TwinRegistry", "agencyCap") == 2_000


def test_floor_of_an_unknown_category_is_refused(env, a):
    env.refused(a.guild, "TwinRegistry", "setCategoryFloor", 8, 1, error="TwinRegistryUnknownCategory", error_args=(8,))


def test_agency_cap_defaults_to_twenty_percent_and_applies_to_new_payee_lists(env, a, twin):
    assert env.call("TwinRegistry", "agencyCap") == 2_000
    result = env.tx(a.guild, "TwinRegistry", "setAgencyCap", 1_500)
    assert env.event(result, "TwinRegistry", "AgencyCapSet") == {"capBps": 1_500}
    # The twin registered under the old cap keeps its agreed shares ...
    assert env.call("TwinRegistry", "payeesOf", twin)[1] == (a.agency.address, 2_000, AGENCY)
    # ... but no new list may exceed the new cap.
    env.refused(
        a.model, "TwinRegistry", "setPayees", twin, [payee(a.model, 8_000, MODEL), payee(a.agency, 2_000, AGENCY)],
        error="TwinRegistryAgencyShareAboveCap", error_args=(2_000, 1_500),
    )
    env.refused(
        a.model2, "TwinRegistry", "registerTwin", "u", b"\x00" * 32,
        [payee(a.model2, 8_000, MODEL), payee(a.agency2, 2_000, AGENCY)],
        error="TwinRegistryAgencyShareAboveCap", error_args=(2_000, 1_500),
    )
    env.tx(a.model, "TwinRegistry", "setPayees", twin, [payee(a.model, 8_500, MODEL), payee(a.agency, 1_500, AGENCY)])


def test_agency_cap_above_total_is_refused(env, a):
    env.refused(a.guild, "TwinRegistry", "setAgencyCap", 10_001, error="TwinRegistryCapAboveTotal", error_args=(10_001,))
    env.tx(a.guild, "TwinRegistry", "setAgencyCap", 10_000)
    assert env.call("TwinRegistry", "agencyCap") == 10_000


# ---------------------------------------------------------------------------------------------- admin


def test_admin_sets_the_notice_period(env, a):
    assert env.call("TwinRegistry", "noticePeriod") == NOTICE
    result = env.tx(a.admin, "TwinRegistry", "setNoticePeriod", 3_600)
    assert env.event(result, "TwinRegistry", "NoticePeriodSet") == {"noticePeriod": 3_600}
    assert env.call("TwinRegistry", "noticePeriod") == 3_600
    year = 365 * 24 * 3600
    env.refused(a.admin, "TwinRegistry", "setNoticePeriod", year + 1,
                error="TwinRegistryNoticePeriodTooLong", error_args=(year + 1, year))
    for caller in (a.guild, a.model, a.stranger):
        env.refused(caller, "TwinRegistry", "setNoticePeriod", 0,
                    error="AccessControlUnauthorizedAccount", error_args=(caller.address, ADMIN_ROLE))


def test_license_contract_is_set_once(env, a):
    current = env.call("TwinRegistry", "licenseContract")
    assert current == env.address("LicenseToken")
    env.refused(a.admin, "TwinRegistry", "setLicenseContract", a.stranger.address,
                error="TwinRegistryLicenseContractAlreadySet", error_args=(current,))
    env.refused(a.admin, "TwinRegistry", "setLicenseContract", ZERO_ADDRESS, error="TwinRegistryZeroAddress")
    env.refused(a.stranger, "TwinRegistry", "setLicenseContract", a.stranger.address,
                error="AccessControlUnauthorizedAccount", error_args=(a.stranger.address, ADMIN_ROLE))


def test_roles_are_granted_only_by_the_admin(env, a):
    env.refused(a.guild, "TwinRegistry", "grantRole", GUILD_ROLE, a.stranger.address,
                error="AccessControlUnauthorizedAccount", error_args=(a.guild.address, ADMIN_ROLE))
    env.tx(a.admin, "TwinRegistry", "grantRole", GUILD_ROLE, a.stranger.address)
    env.tx(a.stranger, "TwinRegistry", "setCategoryFloor", 1, 42)
    assert env.call("TwinRegistry", "categoryFloor", 1) == 42


def test_a_fresh_registry_refuses_twins_until_its_license_contract_is_set(env, a):
    deployed = env.chain.deploy(a.admin, "TwinRegistry", a.admin.address, a.guild.address)
    fresh = env.w3.eth.contract(address=deployed.contract_address, abi=env.registry.abi)
    with env.reverts("TwinRegistryLicenseContractNotSet"):
        env.chain.sender(a.model).transact(
            fresh.functions.registerTwin("u", b"\x00" * 32, [payee(a.model, 10_000, MODEL)])
        )
    assert fresh.functions.twinCount().call() == 0


def test_constructors_refuse_zero_addresses(env, a):
    with env.reverts("TwinRegistryZeroAddress"):
        env.chain.deploy(a.admin, "TwinRegistry", ZERO_ADDRESS, a.guild.address)
    with env.reverts("TwinRegistryZeroAddress"):
        env.chain.deploy(a.admin, "TwinRegistry", a.admin.address, ZERO_ADDRESS)
    for args in (
        (ZERO_ADDRESS, env.address("TwinRegistry"), env.address("PaymentToken")),
        (a.admin.address, ZERO_ADDRESS, env.address("PaymentToken")),
        (a.admin.address, env.address("TwinRegistry"), ZERO_ADDRESS),
    ):
        with env.reverts("LicenseTokenZeroAddress"):
            env.chain.deploy(a.admin, "LicenseToken", *args, libraries=env.chain.deployment.libraries)


def test_registry_hooks_answer_only_the_registry(env, a, twin):
    env.refused(a.model, "LicenseToken", "onPayeesChanging", twin,
                error="LicenseTokenNotRegistry", error_args=(a.model.address,))
    env.refused(a.admin, "LicenseToken", "onConsentChanged", twin, 1,
                error="LicenseTokenNotRegistry", error_args=(a.admin.address,))
