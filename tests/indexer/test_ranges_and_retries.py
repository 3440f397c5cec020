"""Adaptive log ranges and the reading of providers' refusals; transient RPC failures retried with backoff."""

from __future__ import annotations

import pytest

from kit.proxy import RpcProxy
from twin_licensing.chain.logs import LogRangeTooLarge, RpcClient, RpcError, RpcTransientError, _classify_logs_error
from twin_licensing.indexer.config import IndexerConfig
from twin_licensing.indexer.fetcher import RangeSizer


@pytest.mark.parametrize("message, suggested_to, suggested_span", [
    ("query returned more than 10000 results", None, None),  # Infura, Geth
    ("Log response size exceeded. You can make eth_getLogs requests with up to a 2K block range and no limit on "
     "the response size, or you can request any block range with a cap of 10K logs in the response. Based on "
     "your parameters, this block range should work: [0x10, 0x1f3]", 0x1F3, None),  # Alchemy
    ("eth_getLogs is limited to a 10,000 range", None, 10_000),  # QuickNode
    ("exceed maximum block range: 5000", None, 5_000),  # Geth-based providers
    ("block range is too wide", None, None),  # Ankr
    ("query timeout exceeded", None, None),
])
def test_providers_refusals_are_read_as_ranges_too_large(message, suggested_to, suggested_span):
    error = _classify_logs_error(RpcError("eth_getLogs", -32005, message))
    assert isinstance(error, LogRangeTooLarge)
    assert (error.suggested_to, error.suggested_span) == (suggested_to, suggested_span)


def test_other_errors_are_not_mistaken_for_a_range_problem():
    error = _classify_logs_error(RpcError("eth_getLogs", -32602, "invalid argument 0: hex string without 0x prefix"))
    assert not isinstance(error, LogRangeTooLarge)


def test_the_range_grows_while_small_and_fits_the_provider_when_refused():
    sizer = RangeSizer(IndexerConfig(initial_span=10, max_span=1_000, target_logs=100))
    sizer.succeeded(10, 5)
    assert sizer.span == 20
    sizer.succeeded(20, 1_000)  # ten times the target: shrink in proportion
    assert sizer.span == 2
    sizer.span = 500
    refusal = LogRangeTooLarge(RpcError("eth_getLogs", -32005, "x"), suggested_to=149, suggested_span=None)
    sizer.refused(500, refusal, start=100)
    assert sizer.span == 50  # blocks 100..149, as the provider said
    sizer.refused(50, LogRangeTooLarge(RpcError("eth_getLogs", 1, "x"), None, None), start=100)
    assert sizer.span == 25
    for _ in range(20):
        sizer.succeeded(sizer.span, 0)
    assert sizer.span == 1_000
    with pytest.raises(LogRangeTooLarge):
        sizer.refused(1, refusal, start=100)  # one block is too much: nothing left to try


def test_transient_failures_are_retried_with_backoff(local_node):
    delays: list[float] = []
    with RpcProxy(local_node.url, fail_every=2) as proxy:
        client = RpcClient(proxy.url, retries=3, backoff=0.01, sleep=delays.append)
        for _ in range(4):
            assert client.chain_id() == 31337
    assert proxy.failed >= 2 and len(delays) == proxy.failed


def test_an_endpoint_that_stays_down_is_reported_after_the_retries():
    delays: list[float] = []
    client = RpcClient("http://127.0.0.1:9", retries=3, backoff=0.01, sleep=delays.append)
    with pytest.raises(RpcTransientError, match="failed 4 times"):
        client.block_number()
    assert len(delays) == 3 and delays[0] < delays[-1]
