"""The bulk decoder gives exactly what eth_abi (and web3's own event decoding) give, for every event shape."""

from __future__ import annotations

from eth_abi import encode
from eth_utils import keccak, to_checksum_address
from hypothesis import given, settings
from hypothesis import strategies as st

from kit.scenario import Scenario
from twin_licensing.chain.artifacts import ArtifactStore
from twin_licensing.chain.events import EventDecoder
from twin_licensing.settings import find_project_root

ARTIFACTS = ArtifactStore(find_project_root() / "artifacts")
LICENSE_ABI = ARTIFACTS.load("LicenseToken").abi
REGISTRY_ABI = ARTIFACTS.load("TwinRegistry").abi
LICENSE = "0x" + "11" * 20
REGISTRY = "0x" + "22" * 20
DECODER = EventDecoder({LICENSE: ("LicenseToken", LICENSE_ABI), REGISTRY: ("TwinRegistry", REGISTRY_ABI)})

uint = lambda bits: st.integers(min_value=0, max_value=2**bits - 1)  # noqa: E731
addresses = st.binary(min_size=20, max_size=20).map(lambda b: to_checksum_address(b))
words = st.binary(min_size=32, max_size=32)


def _log(address: str, signature: str, topics: list[bytes], data: bytes) -> dict:
    return {"address": address, "topics": ["0x" + keccak(text=signature).hex()] + ["0x" + t.hex() for t in topics],
            "data": "0x" + data.hex(), "blockNumber": "0x10", "blockHash": "0x" + "ab" * 32,
            "transactionHash": "0x" + "cd" * 32, "transactionIndex": "0x2", "logIndex": "0x7"}


def _word(value: int) -> bytes:
    return value.to_bytes(32, "big")


@settings(max_examples=200, deadline=None)
@given(uint(256), uint(256), uint(32), uint(32), uint(64), words, addresses)
def test_uses_settled_sliced_word_by_word_equals_eth_abi(license_id, twin_id, first, count, amount, uses_root, payer):
    data = encode(["uint32", "uint32", "uint64", "bytes32", "address"], [first, count, amount, uses_root, payer])
    log = _log(LICENSE, "UsesSettled(uint256,uint256,uint32,uint32,uint64,bytes32,address)",
               [_word(license_id), _word(twin_id)], data)
    (event,) = DECODER.decode([log])
    assert (event.contract, event.name, event.block_number, event.tx_index, event.log_index) == (
        "LicenseToken", "UsesSettled", 16, 2, 7)
    assert event.args == {"licenseId": license_id, "twinId": twin_id, "firstSeq": first, "count": count,
                          "amount": amount, "usesRoot": "0x" + uses_root.hex(), "payer": payer}


@settings(max_examples=100, deadline=None)
@given(uint(256), addresses, addresses, uint(64), uint(40), uint(256), uint(32), uint(32), uint(8))
def test_issue_11_events_decode_as_eth_abi_does(license_id, seller, buyer, escrow, at, twin_id, first, count, reason):
    handed = _log(LICENSE, "LicenseHandedOver(uint256,address,address,uint64,uint40)",
                  [_word(license_id), bytes(12) + bytes.fromhex(seller[2:]), bytes(12) + bytes.fromhex(buyer[2:])],
                  encode(["uint64", "uint40"], [escrow, at]))
    skipped = _log(LICENSE, "SettleItemSkipped(uint256,uint32,uint32,uint8)", [_word(license_id)],
                   encode(["uint32", "uint32", "uint8"], [first, count, reason]))
    withdrawn = _log(LICENSE, "TwinOffersWithdrawn(uint256,uint8)", [_word(twin_id)], encode(["uint8"], [reason]))
    events = DECODER.decode([handed, skipped, withdrawn])
    assert [e.args for e in events] == [
        {"licenseId": license_id, "seller": seller, "buyer": buyer, "sellerEscrow": escrow, "at": at},
        {"licenseId": license_id, "firstSeq": first, "count": count, "reason": reason},
        {"twinId": twin_id, "categories": reason},
    ]


@settings(max_examples=100, deadline=None)
@given(uint(256), addresses, uint(256))
def test_indexed_addresses_are_checksummed(twin_id, payee, amount):
    log = _log(LICENSE, "EarningsDistributed(uint256,address,uint256)",
               [_word(twin_id), bytes(12) + bytes.fromhex(payee[2:])], encode(["uint256"], [amount]))
    (event,) = DECODER.decode([log])
    assert event.args == {"twinId": twin_id, "payee": payee, "amount": amount}


@settings(max_examples=100, deadline=None)
@given(uint(256), st.lists(st.tuples(addresses, uint(16), st.integers(0, 2)), min_size=1, max_size=8))
def test_dynamic_arrays_go_through_eth_abi(twin_id, payees):
    accounts, shares, roles = ([p[i] for p in payees] for i in range(3))
    log = _log(REGISTRY, "PayeesSet(uint256,address[],uint16[],uint8[])", [_word(twin_id)],
               encode(["address[]", "uint16[]", "uint8[]"], [accounts, shares, roles]))
    (event,) = DECODER.decode([log])
    assert event.args == {"twinId": twin_id, "accounts": accounts, "sharesBps": shares, "roles": roles}


@settings(max_examples=100, deadline=None)
@given(uint(256), uint(256), st.tuples(uint(64), uint(48), uint(32), uint(32), uint(8), uint(8), st.booleans(),
                                        st.booleans(), uint(32)))
def test_struct_arguments_become_dicts(offer_id, twin_id, terms):
    struct = "(uint64,uint48,uint32,uint32,uint8,uint8,bool,bool,uint32)"
    log = _log(LICENSE, f"OfferPublished(uint256,uint256,{struct})", [_word(offer_id), _word(twin_id)],
               encode([struct], [terms]))
    (event,) = DECODER.decode([log])
    names = ["upfrontFee", "perUseFee", "duration", "maxUses", "categories", "territories", "exclusive",
             "transferable", "idleEndAfter"]
    assert event.args == {"offerId": offer_id, "twinId": twin_id, "terms": dict(zip(names, terms))}


def test_real_logs_decode_as_web3_decodes_them(chain):
    """Every log of a full scenario, decoded in bulk and by web3's ContractEvent.process_log, agree."""
    Scenario(chain).everything()
    deployment = chain.deployment
    decoder = EventDecoder({deployment.twin_registry: ("TwinRegistry", REGISTRY_ABI),
                            deployment.license_token: ("LicenseToken", LICENSE_ABI)})
    raw = chain.w3.provider.make_request("eth_getLogs", [{
        "fromBlock": hex(deployment.block_number), "toBlock": "latest",
        "address": [deployment.twin_registry, deployment.license_token]}])["result"]
    ours = decoder.decode(raw)
    theirs = chain.w3.eth.get_logs({"fromBlock": deployment.block_number, "toBlock": "latest",
                                    "address": [deployment.twin_registry, deployment.license_token]})
    assert len(ours) == len(theirs) > 30
    for mine, log in zip(ours, theirs):
        contract = chain.contract(mine.contract)
        event = getattr(contract.events, mine.name)().process_log(log)
        assert mine.name == event["event"]
        assert mine.args == {k: _normalise(v) for k, v in event["args"].items()}


def _normalise(value):
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    if isinstance(value, (list, tuple)) and value and isinstance(value, tuple) and hasattr(value, "_fields"):
        return {k: _normalise(v) for k, v in value._asdict().items()}
    if isinstance(value, (list, tuple)):
        return [_normalise(v) for v in value]
    if isinstance(value, dict):
        return {k: _normalise(v) for k, v in value.items()}
    return value
