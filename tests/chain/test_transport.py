"""The chain package's one transport, its fee and nonce policy, and the shared head feed."""

from __future__ import annotations

import logging
import threading
import time

import pytest

from twin_licensing.chain.client import Chain, TransportProvider, transport_of
from twin_licensing.chain.fees import (
    FEE_BUMP_PERCENT,
    bumped,
    fee_caps,
    is_already_known,
    is_nonce_too_low,
    with_gas_margin,
)
from twin_licensing.chain.heads import HeadFeed, bloom_may_contain, ws_url
from twin_licensing.chain.keys import dev_account
from twin_licensing.seed import data

from kit.proxy import RpcProxy


# ---------------------------------------------------------------------------------------------- fee and nonce policy


def test_gas_margin_and_fee_caps():
    assert with_gas_margin(100_000) == 125_000
    assert fee_caps(10, 2) == (22, 2)
    assert fee_caps(None, 7) == (7, 7)  # no base fee (pre-London): the tip is the whole price


def test_a_replacement_raises_both_fees_by_more_than_the_pools_ten_percent():
    previous = (1_000, 100)
    max_fee, tip = bumped(previous, current=(500, 50))  # the market fell: the bump still applies
    assert max_fee * 100 > previous[0] * 110 and tip * 100 > previous[1] * 110
    assert (max_fee, tip) == (previous[0] * FEE_BUMP_PERCENT // 100 + 1, previous[1] * FEE_BUMP_PERCENT // 100 + 1)
    assert bumped(previous, current=(5_000, 400)) == (5_000, 400)  # the market rose past the bump: follow it
    assert bumped((10, 10), current=(10, 50))[0] >= 50  # never a tip above the max fee


@pytest.mark.parametrize("message", [
    "nonce too low", "Nonce too low. Expected nonce to be 5 but got 4.", "OldNonce",
    "the tx doesn't have the correct nonce. account has nonce of: 7 tx has nonce of: 6 (nonce has already been used)",
])
def test_nonce_too_low_in_the_words_of_several_nodes(message):
    assert is_nonce_too_low(ValueError(message))
    assert not is_already_known(message)


def test_other_errors_are_not_taken_for_a_used_nonce():
    assert not is_nonce_too_low("insufficient funds for gas * price + value")
    assert is_already_known("already known") and is_already_known("Known transaction: 0xab")


def test_a_used_nonce_is_recovered_from_by_the_sender(chain):
    # The sender's tracked nonce goes stale (another process sent from the same account): it re-reads and resends.
    brand = dev_account(data.BRANDS[0].index)
    sender = chain.sender(brand)
    chain.transact(brand, "PaymentToken", "approve", brand.address, 1)
    chain.transact(brand, "PaymentToken", "approve", brand.address, 2)
    sender._nonce -= 1  # as if a transaction of ours were not counted
    result = chain.transact(brand, "PaymentToken", "approve", brand.address, 3)
    assert result.status == 1 and chain.call("PaymentToken", "allowance", brand.address, brand.address) == 3


# ---------------------------------------------------------------------------------------------- one transport


def test_web3_sends_through_the_projects_transport(chain):
    assert isinstance(chain.w3.provider, TransportProvider)
    assert transport_of(chain.w3).url == chain.w3.provider.client.url


def test_reads_are_retried_but_a_transaction_is_sent_once(local_node, project_root, deployment):
    brand = dev_account(data.BRANDS[0].index)
    with RpcProxy(local_node.url, fail_every=2) as proxy:
        proxied = Chain.connect(proxy.url, project_root / "artifacts", deployment)  # request 1 passes
        assert proxy.requests == 1
        assert proxied.block_number() >= 0  # request 2 fails with HTTP 503, request 3 passes
        assert proxy.requests == 3 and proxy.failed == 1
        signed = brand.sign_transaction({"to": brand.address, "value": 0, "gas": 21_000, "nonce": 10**6,
                                         "maxFeePerGas": 10**11, "maxPriorityFeePerGas": 1, "chainId": 31337})
        assert proxy.requests == 3  # the next request (4) fails
        with pytest.raises(Exception):  # noqa: B017 - the 503's body is no JSON-RPC answer: any error will do
            proxied.w3.eth.send_raw_transaction(signed.raw_transaction)
        assert proxy.requests == 4, "a transaction must never be sent twice by the transport"


def test_an_unreachable_node_is_a_clear_error(tmp_path):
    from twin_licensing.chain.node import free_port
    from twin_licensing.errors import RpcConnectionError

    with pytest.raises(RpcConnectionError, match="cannot reach"):
        Chain.connect(f"http://127.0.0.1:{free_port()}", tmp_path)


# ---------------------------------------------------------------------------------------------- heads


def _wait(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_the_logs_bloom_names_exactly_the_contracts_that_logged(chain):
    brand = dev_account(data.BRANDS[0].index)
    token = chain.deployment.addresses["PaymentToken"]
    result = chain.transact(brand, "PaymentToken", "approve", brand.address, 5)
    with_log = chain.w3.eth.get_block(result.block_number)
    chain.rpc("evm_mine")
    empty = chain.w3.eth.get_block("latest")
    address = bytes.fromhex(token[2:])
    assert bloom_may_contain("0x" + bytes(with_log["logsBloom"]).hex(), address)
    assert not bloom_may_contain("0x" + bytes(empty["logsBloom"]).hex(), address)
    # The registry logged nothing in that block: almost surely not in its bloom (3 bits of 2 048 per entry).
    registry = bytes.fromhex(chain.deployment.addresses["TwinRegistry"][2:])
    assert not bloom_may_contain("0x" + bytes(with_log["logsBloom"]).hex(), registry)


def test_one_subscription_announces_every_new_head_to_every_listener(chain, local_node):
    feed = HeadFeed(local_node.url)
    first, second = threading.Event(), threading.Event()
    feed.start()
    try:
        _wait(feed.subscribed.is_set)
        feed.listen(first)
        feed.listen(second)
        first.clear()
        second.clear()
        sequence = feed.sequence
        chain.rpc("evm_mine")
        mined = chain.block_number()
        assert feed.wait_for_next(sequence, timeout=5) > sequence
        # A head announced just before `sequence` was read may still be on its way: wait for the one mined here.
        _wait(lambda: feed.latest is not None and feed.latest.header.number == mined, 5)
        _wait(lambda: first.is_set() and second.is_set(), 5)
        head = feed.latest
        assert head.logs_bloom is not None and not head.may_have_logs_of(chain.deployment.addresses.values())
    finally:
        feed.stop()


def test_without_a_websocket_it_says_to_set_twin_ws_url_and_polls(chain, local_node, caplog):
    from twin_licensing.chain.node import free_port

    caplog.set_level(logging.WARNING, logger="twin_licensing.chain.heads")
    feed = HeadFeed(local_node.url, f"ws://127.0.0.1:{free_port()}", poll_interval=0.1)
    feed.start()
    try:
        _wait(lambda: feed.latest is not None)
        assert not feed.subscribed.is_set()
        assert any("TWIN_WS_URL" in r.getMessage() for r in caplog.records), caplog.text
        sequence = feed.sequence
        chain.rpc("evm_mine")
        assert feed.wait_for_next(sequence, timeout=5) > sequence  # found by polling
        assert feed.latest.logs_bloom is None and feed.latest.may_have_logs_of(["0x" + "11" * 20])
    finally:
        feed.stop()


def test_ws_url_follows_the_rpc_url_unless_set():
    from twin_licensing.indexer.config import IndexerConfig
    from twin_licensing.settings import get_settings

    assert ws_url("http://127.0.0.1:8545") == "ws://127.0.0.1:8545"
    assert ws_url("https://node.example/rpc") == "wss://node.example/rpc"
    settings = get_settings(ws_url="wss://ws.example/key", head_poll_interval=3.0)
    config = IndexerConfig.from_settings(settings)
    assert (config.ws_url, config.poll_interval) == ("wss://ws.example/key", 3.0)

