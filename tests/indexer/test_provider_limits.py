"""Providers that refuse large log ranges, or fail now and then, are handled without losing or doubling a row."""

from __future__ import annotations

import pytest

from kit.index_dump import assert_same_index
from kit.proxy import RpcProxy
from kit.scenario import Scenario


def test_a_provider_refusing_more_than_10000_results_is_handled(chain, db, databases, make_indexer, local_node):
    s = Scenario(chain)
    s.bulk_settlements(10_400, per_tx=200)  # blocks of 200 signed items: no one request may span all of them
    with RpcProxy(local_node.url, max_results=10_000) as proxy:
        make_indexer(db, rpc_url=proxy.url, initial_span=10**6, target_logs=10**6).sync()
    assert proxy.refused, "the provider never refused a range: the test proves nothing"
    assert proxy.largest_served <= 10_000
    fresh = databases.new()
    make_indexer(fresh).sync()
    assert_same_index(db, fresh)


@pytest.mark.parametrize("style", ["alchemy", "infura"])
def test_a_suggested_range_is_honoured_and_transient_failures_are_retried(chain, db, databases, make_indexer,
                                                                          local_node, style):
    s = Scenario(chain)
    s.everything()
    s.bulk_settlements(1_200, per_tx=100)
    with RpcProxy(local_node.url, max_results=500, style=style, fail_every=7) as proxy:
        make_indexer(db, rpc_url=proxy.url, initial_span=10**6, target_logs=10**6).sync()
    assert proxy.refused and proxy.failed
    assert proxy.largest_served <= 500
    fresh = databases.new()
    make_indexer(fresh).sync()
    assert_same_index(db, fresh)
