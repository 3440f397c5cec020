"""The usage log (GET /usage-log, /summary, /visit, /stream): who sees which twins' uses, filters, keyset paging
through everything without a duplicate or a gap, refusals in one sentence, and a settled use arriving live."""

from __future__ import annotations

import json
import random
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from sqlmodel import Session, select

from twin_licensing.chain.node import free_port
from twin_licensing.settings import find_project_root

from twin_licensing.db.license_state import Settlement
from twin_licensing.db.uses import Use
from kit.read_api import (  # noqa: F401 - fixtures
    CHAIN_ID, GENESIS, LICENCE_TWINS, NOW, addr, app_client, app_settings, market, tx,
)
from kit.signin import open_session

ROOT = find_project_root()
LOG = "/api/v1/usage-log"
GUILD = addr("0x" + "06" * 20)  # the fake deployment's guild
STRANGER = addr("0x" + "99" * 20)
BASE = datetime.fromtimestamp(NOW, timezone.utc) - timedelta(days=30)


def _add_uses(engine, brands: dict[int, str]) -> None:
    """120 more uses on licences 1, 2 (twin 1) and 3 (twin 2): mixed categories and territories, times that
    repeat (ties are broken by use id) and run over 30 days; licence 2's uses from 3 (the market settled 0..2) to
    all but its last two settled."""
    rnd = random.Random(12)
    seqs = {1: 8, 2: 0, 3: 1}
    rows = []
    for n in range(120):
        licence = rnd.choice((1, 1, 2, 3))
        seq = seqs[licence]
        seqs[licence] += 1
        rows.append(Use(
            chain_id=CHAIN_ID, genesis_hash=GENESIS, license_id=licence, twin_id=LICENCE_TWINS[licence], seq=seq,
            use_ref=tx(900_000 + n), category=rnd.randrange(4), territory=rnd.randrange(3), used_at=NOW - 40 * 86_400,
            signer=brands[licence], signature="0x" + "00" * 65, digest=tx(800_000 + n), label=f"look {n}",
            accepted_at=BASE + timedelta(hours=6 * (n // 3)),  # three uses share each time
        ))
    rows.append(Settlement(chain_id=CHAIN_ID, license_id=2, first_seq=3, count=seqs[2] - 5, twin_id=1, amount=80, uses_root=tx(4242),
                           holder=brands[2], tx_hash=tx(4343), log_index=0, block_number=95, block_time=NOW - 86_400))
    with Session(engine) as session:
        session.add_all(rows)
        session.commit()


@pytest.fixture
def log_market(market):  # noqa: F811
    _add_uses(market.engine, {1: market.brand_1, 2: market.brand_2, 3: market.brand_1})
    return market


def wait_until(predicate, what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _expected(engine, twins: set[int], **where) -> list[int]:
    with Session(engine) as session:
        uses = session.exec(select(Use).where(Use.twin_id.in_(twins))).all()
    uses = [u for u in uses if all(getattr(u, k) == v for k, v in where.items())]
    uses.sort(key=lambda u: (u.accepted_at, u.use_id), reverse=True)
    return [u.use_id for u in uses]


def _walk(client, cookies, limit: int, **params) -> list[int]:
    ids, cursor, pages = [], None, 0
    while True:
        answer = client.get(LOG, params={**params, "limit": limit, **({"cursor": cursor} if cursor else {})},
                            cookies=cookies)
        assert answer.status_code == 200, answer.text
        page = answer.json()
        assert len(page["data"]) <= limit
        ids += [e["id"] for e in page["data"]]
        cursor, pages = page["next_cursor"], pages + 1
        if cursor is None:
            return ids
        assert pages < 500, "the cursor never ran out"


def test_paging_walks_every_use_once_newest_first_with_and_without_filters(app_client, log_market):  # noqa: F811
    model = open_session(log_market.engine, log_market.model_a)
    every = _walk(app_client, model, 7)
    assert every == _expected(log_market.engine, {1}) and len(every) > 90
    assert len(set(every)) == len(every)
    brand_2 = _walk(app_client, model, 4, brand=log_market.brand_2.lower(), category="1")
    assert brand_2 == _expected(log_market.engine, {1}, signer=log_market.brand_2, category=1) and brand_2
    # Categories and territories by name too; a period (both days included) narrows by time reported.
    day = (BASE + timedelta(days=3)).date().isoformat()
    by_name = _walk(app_client, model, 5, category="social", territory="UK & Ireland", **{"from": day, "to": day})
    expected = [i for i in _expected(log_market.engine, {1}, category=1, territory=1)]
    with Session(log_market.engine) as session:
        expected = [i for i in expected if session.get(Use, i).accepted_at.date().isoformat() == day]
    assert by_name == expected


def test_each_entry_shows_brand_licence_category_territory_label_hash_and_settlement(app_client, log_market):  # noqa: F811
    guild = open_session(log_market.engine, GUILD)
    entries = app_client.get(LOG, params={"twin": 1, "limit": 100}, cookies=guild).json()["data"]
    last = max(e["seq"] for e in entries if e["license_id"] == 2)
    settled = [e for e in entries if e["license_id"] == 2 and 3 <= e["seq"] < last - 1]
    assert settled and all(e["settled"] and e["tx_hash"] == tx(4343) and e["uses_root"] == tx(4242) for e in settled)
    assert all(e["settled_at"].endswith("Z") and e["block_number"] == 95 for e in settled)
    pending = [e for e in entries if e["license_id"] == 2 and e["seq"] >= last - 1]
    assert len(pending) == 2 and all(not e["settled"] and e["tx_hash"] is None for e in pending)
    from_brand_1 = next(e for e in entries if e["license_id"] == 1 and e["seq"] >= 8)
    assert from_brand_1["brand"] == log_market.brand_1 and from_brand_1["brand_label"] == "Brand: Maison Verre"
    assert from_brand_1["label"].startswith("look ") and from_brand_1["use_ref"].startswith("0x")
    assert from_brand_1["twin_name"] == "Ava Lindqvist" and from_brand_1["category_name"]
    # The market's own uses 0..4 of licence 1 are settled by two settlements (roots 7001, 7002).
    first = {e["seq"]: e for e in entries if e["license_id"] == 1 and e["seq"] < 8}
    assert first[2]["uses_root"] == tx(7001) and first[3]["uses_root"] == tx(7002) and not first[5]["settled"]


def test_who_sees_which_twins(app_client, log_market):  # noqa: F811
    audiences = [
        ("model_a", {1}), ("agency", {1}), ("crew", {1}), ("model_b", {2}), ("guild", {1, 2, 3}),
        ("brand_1", set()), ("stranger", set()), (None, set()),
    ]
    for who, twins in audiences:
        address = {"guild": GUILD, "stranger": STRANGER}.get(who) or (getattr(log_market, who) if who else None)
        cookies = open_session(log_market.engine, address) if address else {}
        assert _walk(app_client, cookies, 100) == _expected(log_market.engine, twins), who
        for twin in (1, 2):
            answer = app_client.get(LOG, params={"twin": twin}, cookies=cookies)
            if twin in twins:
                assert answer.status_code == 200 and answer.json()["data"], (who, twin)
            else:  # a twin you may not see is answered like one that does not exist
                assert answer.status_code == 404, (who, twin, answer.text)
                assert answer.json()["detail"].startswith("There is no usage log of twin")


BAD_FILTERS = [
    ({"category": "9"}, "There is no usage category \"9\""),
    ({"category": "sculpture"}, "There is no usage category"),
    ({"territory": "Atlantis"}, "There is no territory"),
    ({"from": "2026-11-20", "to": "2026-11-02"}, "before it starts"),
    ({"from": "2999-01-01"}, "after today"),
    ({"to": "yesterday"}, "is not a date"),
    ({"cursor": "bm90LWEtY3Vyc29y"}, "page cursor"),
    ({"brand": "0x1234"}, "brand"),
    ({"limit": "1000"}, "page size"),
]


def test_bad_filters_are_refused_in_one_sentence(app_client, log_market):  # noqa: F811
    model = open_session(log_market.engine, log_market.model_a)
    for params, words in BAD_FILTERS:
        answer = app_client.get(LOG, params=params, cookies=model)
        assert answer.status_code == 422, (params, answer.text)
        detail = answer.json()["detail"]
        assert words in detail and detail.count(". ") == 0 and detail.endswith("."), detail


def test_new_since_last_visit_counts_uses_reported_after_it(app_client, log_market):  # noqa: F811
    model = open_session(log_market.engine, log_market.model_a)
    summary = app_client.get(f"{LOG}/summary", cookies=model).json()
    assert summary["last_visit"] is None and summary["new_since_last_visit"] == len(_expected(log_market.engine, {1}))
    assert [t["twin_id"] for t in summary["twins"]] == [1] and summary["twins"][0]["name"] == "Ava Lindqvist"
    assert app_client.post(f"{LOG}/visit", cookies=model).json()["recorded"] is True
    assert app_client.get(f"{LOG}/summary", cookies=model).json()["new_since_last_visit"] == 0
    with Session(log_market.engine) as session:
        for n, twin_licence in enumerate((1, 3)):  # one of her twin, one of another
            session.add(Use(chain_id=CHAIN_ID, genesis_hash=GENESIS, license_id=twin_licence,
                            twin_id=LICENCE_TWINS[twin_licence], seq=500 + n, use_ref=tx(5000 + n), category=0,
                            territory=0, used_at=NOW, signer=log_market.brand_1, signature="0x" + "00" * 65,
                            digest=tx(6000 + n), accepted_at=datetime.now(timezone.utc) + timedelta(seconds=1)))
        session.commit()
    summary = app_client.get(f"{LOG}/summary", cookies=model).json()
    assert summary["new_since_last_visit"] == 1 and summary["last_visit"].endswith("Z")
    assert app_client.post(f"{LOG}/visit").json() == {"recorded": False, "seen_at": None}  # anonymous: no log
    guild = app_client.get(f"{LOG}/summary", cookies=open_session(log_market.engine, GUILD)).json()
    assert guild["guild"] and [t["twin_id"] for t in guild["twins"]] == [1, 2, 3]


def test_a_use_that_settles_arrives_on_the_stream_for_its_twins_audience_only(app_client, log_market):  # noqa: F811
    settle = threading.Event()
    with Session(log_market.engine) as session:
        last = max(session.exec(select(Use.seq).where(Use.license_id == 2)).all())

    def settle_licence_2_uses() -> None:
        settle.wait(10)
        with Session(log_market.engine) as session:  # first a use of twin 2, which the agency must not see
            session.add(Settlement(chain_id=CHAIN_ID, license_id=3, first_seq=0, count=1, twin_id=2, amount=5,
                                   uses_root=tx(4646), holder=log_market.brand_1, tx_hash=tx(4747), log_index=0,
                                   block_number=100, block_time=NOW))
            session.commit()
            session.add(Settlement(chain_id=CHAIN_ID, license_id=2, first_seq=last - 1, count=2, twin_id=1, amount=4,
                                   uses_root=tx(4444), holder=log_market.brand_2, tx_hash=tx(4545), log_index=0,
                                   block_number=101, block_time=NOW))
            session.commit()

    settler = threading.Thread(target=settle_licence_2_uses, daemon=True)
    settler.start()
    events = []
    with app_client.stream("GET", f"{LOG}/stream", cookies=open_session(log_market.engine, log_market.agency)) as stream:
        assert stream.status_code == 200 and stream.headers["content-type"].startswith("text/event-stream")
        for line in stream.iter_lines():
            if line.startswith(":"):  # the stream's opening comment: it is listening
                settle.set()
            if line.startswith("data:"):
                events.append(json.loads(line.removeprefix("data:").strip()))
                if len(events) == 2:
                    break
    settler.join(5)
    assert [(e["license_id"], e["seq"]) for e in events] == [(2, last - 1), (2, last)]
    assert all(e["settled"] and e["uses_root"] == tx(4444) and e["tx_hash"] == tx(4545) for e in events)


SERVE = """
import sys
import uvicorn
from kit.read_api import fake_deployment
from twin_licensing.api.app import create_app
from twin_licensing.db.engine import make_engine
from twin_licensing.settings import get_settings
url, scratch, port = sys.argv[1:]
settings = get_settings(rpc_url="http://127.0.0.1:9", deployments_dir=f"{scratch}/deployments",
                        media_dir=f"{scratch}/media", var_dir=scratch)
app = create_app(settings, deployment=fake_deployment(), engine=make_engine(url))
uvicorn.run(app, host="127.0.0.1", port=int(port), log_level="warning")
"""


def test_an_open_stream_ends_when_the_server_stops(market, app_settings, tmp_path):  # noqa: F811
    """A browser holding the log open must not keep the API (or `twinctl up` around it) from stopping: the
    server, in a process of its own as `twinctl serve` runs it, gets SIGINT with a stream open and exits."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "backend"), str(ROOT / "tests")])}
    server = subprocess.Popen([sys.executable, "-c", SERVE, str(market.engine.url), str(tmp_path), str(port)], env=env)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until(lambda: _answers(url), "the server to start", timeout=60)
        with httpx.Client(cookies=open_session(market.engine, market.model_a), timeout=20) as client:
            with client.stream("GET", f"{url}{LOG}/stream") as stream:
                lines = stream.iter_lines()
                assert next(lines).startswith(":")  # listening
                server.send_signal(signal.SIGINT)  # what Ctrl-C, or `twinctl up` stopping its children, sends
                stopped = time.monotonic()
                try:
                    for _ in lines:  # the stream ends (a ReadTimeout here would mean it did not)
                        pass
                except httpx.RemoteProtocolError:  # the server closed the connection as it exited: ended too
                    pass
        assert server.wait(timeout=15) == 0
        assert time.monotonic() - stopped < 10, "the open stream held the server up"
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def _answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=2).status_code < 500
    except httpx.HTTPError:
        return False
