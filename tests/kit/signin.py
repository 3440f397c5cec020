"""Signing in from tests: as a private key, through the API's own Sign-In with Ethereum routes (`sign_in`), or, for
the read-API fixtures' made-up addresses that have no key, by opening a session row directly (`open_session`).

    cookies = sign_in(client, dev_account(37).key)          # a fastapi TestClient or an httpx.Client
    client.get("/api/v1/licenses/1")                        # the client keeps the cookie
    other.get("/api/v1/licenses/1", cookies=cookies)        # or pass it

    cookies = open_session(market.engine, market.brand_1)   # read_api's market: no private keys

    cookie = session_cookie("http://127.0.0.1:8000", key)   # a live server through urllib: a Cookie header
"""

from __future__ import annotations

import json
import secrets
import time
import urllib.request

from eth_account import Account
from sqlmodel import Session

from twin_licensing.api.sessions import COOKIE_NAME, SESSION_TTL, session_id_hash
from twin_licensing.chain.signin import sign_message
from twin_licensing.db.signin import SigninSession

API = "/api/v1"


def signed_message(client, private_key) -> tuple[str, str]:
    """(message, signature): the message the API asks `private_key`'s account to sign, signed."""
    address = Account.from_key(private_key).address
    answer = client.post(f"{API}/auth/nonce", json={"address": address})
    assert answer.status_code == 200, answer.text
    message = answer.json()["message"]
    return message, sign_message(private_key, message)


def sign_in(client, private_key) -> dict[str, str]:
    """Signs `client` in as the account of `private_key`; returns the cookies to pass to other clients.

    `client` is a `fastapi.testclient.TestClient` or an `httpx.Client` with a base URL (a live server): the domain
    signed is the host the client talks to, as a browser's would be.
    """
    message, signature = signed_message(client, private_key)
    answer = client.post(f"{API}/auth/sign-in", json={"message": message, "signature": signature})
    assert answer.status_code == 200, answer.text
    session_id = answer.cookies.get(COOKIE_NAME)
    assert session_id, "the sign-in answer set no session cookie"
    return {COOKIE_NAME: session_id}


def sign_out(client) -> None:
    """Signs `client` out and forgets its cookie."""
    client.post(f"{API}/auth/sign-out")
    client.cookies.clear()


def session_cookie(base_url: str, private_key) -> str:
    """Signs in to the live server at `base_url` as `private_key`'s account with urllib; the `Cookie` header value
    that carries the session."""

    def post(path: str, body: dict) -> urllib.request.addinfourl:
        request = urllib.request.Request(base_url.rstrip("/") + API + path, data=json.dumps(body).encode(),
                                         headers={"content-type": "application/json"}, method="POST")
        return urllib.request.urlopen(request, timeout=10)

    address = Account.from_key(private_key).address
    with post("/auth/nonce", {"address": address}) as answer:
        message = json.loads(answer.read())["message"]
    with post("/auth/sign-in", {"message": message, "signature": sign_message(private_key, message)}) as answer:
        for header in answer.headers.get_all("set-cookie") or []:
            name, _, rest = header.partition("=")
            if name.strip() == COOKIE_NAME:
                return f"{COOKIE_NAME}={rest.split(';', 1)[0]}"
    raise AssertionError("the sign-in answer set no session cookie")


def open_session(engine, address: str, chain_id: int = 31337) -> dict[str, str]:
    """A session for `address` written straight into the database (for addresses without a key); its cookies."""
    session_id = secrets.token_urlsafe(32)
    now = int(time.time())
    with Session(engine) as session:
        session.add(SigninSession(id_hash=session_id_hash(session_id), chain_id=chain_id, address=address, created_at=now,
                                  expires_at=now + SESSION_TTL))
        session.commit()
    return {COOKIE_NAME: session_id}
