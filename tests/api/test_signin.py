"""Sign-In with Ethereum: a signed message opens a session cookie; every forged or replayed sign-in is refused with a
4xx and one sentence, and changes nothing (no session, the nonce still usable)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from eth_account import Account
from sqlalchemy import func, select
from sqlmodel import Session

from kit.read_api import app_client, app_settings, market  # noqa: F401
from kit.signin import API, sign_in, sign_out, signed_message
from twin_licensing.api.sessions import COOKIE_NAME, NONCE_TTL
from twin_licensing.api.siwe import MalformedSignInMessage, parse_message
from twin_licensing.chain.signin import sign_message
from twin_licensing.db.signin import SigninNonce, SigninSession

KEY = "0x" + "5a" * 32
OTHER_KEY = "0x" + "6b" * 32
ADDRESS = Account.from_key(KEY).address


def _sessions(engine) -> int:
    with Session(engine) as s:
        return s.execute(select(func.count()).select_from(SigninSession)).scalar_one()


def _nonce_unused(engine, nonce: str) -> bool:
    with Session(engine) as s:
        return s.get(SigninNonce, nonce) is not None


def test_sign_in_sets_an_http_only_cookie_and_who_am_i_answers(app_client):
    assert app_client.get(f"{API}/auth/me").json() == {"signed_in": False, "address": None, "label": "", "guild": False}
    message, signature = signed_message(app_client, KEY)
    answer = app_client.post(f"{API}/auth/sign-in", json={"message": message, "signature": signature})
    assert answer.status_code == 200 and answer.json()["address"] == ADDRESS
    cookie = answer.headers["set-cookie"]
    assert COOKIE_NAME in cookie and "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
    assert "Secure" not in cookie  # plain http here; https requests get Secure
    me = app_client.get(f"{API}/auth/me").json()
    assert me["signed_in"] is True and me["address"] == ADDRESS
    sign_out(app_client)
    assert app_client.get(f"{API}/auth/me").json()["signed_in"] is False


def test_over_https_the_cookie_is_secure(app_client):
    from fastapi.testclient import TestClient

    with TestClient(app_client.app, base_url="https://testserver") as secure:
        message, signature = signed_message(secure, KEY)
        assert "URI: https://testserver/" in message
        answer = secure.post(f"{API}/auth/sign-in", json={"message": message, "signature": signature})
        assert answer.status_code == 200 and "Secure" in answer.headers["set-cookie"]


def test_sign_out_deletes_the_session_server_side(app_client, market):
    cookies = sign_in(app_client, KEY)
    assert _sessions(market.engine) == 1
    app_client.post(f"{API}/auth/sign-out")
    assert _sessions(market.engine) == 0
    app_client.cookies.clear()
    # The old cookie opens nothing any more.
    assert app_client.get(f"{API}/auth/me", cookies=cookies).json()["signed_in"] is False


def test_the_guild_is_recognised(app_client, market):
    from kit.signin import open_session

    cookies = open_session(market.engine, "0x" + "06" * 20)  # the fake deployment's guild (no role events indexed)
    assert app_client.get(f"{API}/auth/me", cookies=cookies).json()["guild"] is True


def _nonce(client) -> str:
    return client.post(f"{API}/auth/nonce").json()["nonce"]


def _message(nonce: str, *, domain="testserver", uri="http://testserver/", chain_id=31337, address=ADDRESS,
             issued: datetime | None = None, expires: datetime | None = None, not_before: datetime | None = None) -> str:
    issued = issued or datetime.now(timezone.utc)
    iso = lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
    lines = [f"{domain} wants you to sign in with your Ethereum account:", address, "", "Sign in.", "",
             f"URI: {uri}", "Version: 1", f"Chain ID: {chain_id}", f"Nonce: {nonce}", f"Issued At: {iso(issued)}"]
    if expires:
        lines.append(f"Expiration Time: {iso(expires)}")
    if not_before:
        lines.append(f"Not Before: {iso(not_before)}")
    return "\n".join(lines)


def _refused(client, engine, message: str, signature: str, status: int, words: str, nonce: str | None) -> None:
    before = _sessions(engine)
    answer = client.post(f"{API}/auth/sign-in", json={"message": message, "signature": signature})
    assert answer.status_code == status, answer.text
    detail = answer.json()["detail"]
    assert words in detail and detail.endswith(".") and "Traceback" not in detail
    assert COOKIE_NAME not in answer.headers.get("set-cookie", "")
    assert _sessions(engine) == before  # nothing opened
    if nonce is not None:
        assert _nonce_unused(engine, nonce)  # and the nonce is still there for an honest retry


NOW = datetime.now(timezone.utc)


@pytest.mark.parametrize(
    "change, status, words",
    [
        ({"domain": "evil.example"}, 422, "“evil.example”, not to testserver"),
        ({"uri": "http://evil.example/"}, 422, "URI is not on testserver"),
        ({"chain_id": 1}, 422, "chain 1, but this site runs on chain 31337"),
        ({"expires": NOW - timedelta(seconds=5)}, 401, "expired"),
        ({"issued": NOW - timedelta(seconds=NONCE_TTL + 3600)}, 401, "too old"),
        ({"issued": NOW + timedelta(hours=2)}, 401, "in the future"),
        ({"not_before": NOW + timedelta(hours=2)}, 401, "not valid yet"),
    ],
    ids=["wrong-domain", "wrong-uri", "wrong-chain", "expired", "too-old", "future", "not-before"],
)
def test_a_message_for_another_site_chain_or_time_is_refused(app_client, market, change, status, words):
    nonce = _nonce(app_client)
    message = _message(nonce, **change)
    _refused(app_client, market.engine, message, sign_message(KEY, message), status, words, nonce)


def test_a_signature_from_another_address_is_refused(app_client, market):
    nonce = _nonce(app_client)
    message = _message(nonce)
    other = Account.from_key(OTHER_KEY).address
    _refused(app_client, market.engine, message, sign_message(OTHER_KEY, message), 401, f"signed by {other}", nonce)
    _refused(app_client, market.engine, message, "0x" + "00" * 65, 401, "cannot be read", nonce)


def test_a_nonce_is_single_use_and_must_be_the_servers(app_client, market):
    message, signature = signed_message(app_client, KEY)
    assert app_client.post(f"{API}/auth/sign-in", json={"message": message, "signature": signature}).status_code == 200
    app_client.cookies.clear()
    _refused(app_client, market.engine, message, signature, 401, "already used", None)  # replayed
    made_up = _message("abcdef0123456789")
    _refused(app_client, market.engine, made_up, sign_message(KEY, made_up), 401, "already used", None)
    assert _sessions(market.engine) == 1


@pytest.mark.parametrize(
    "text, words",
    [
        ("", "empty"),
        ("hello", "first line"),
        (_message("abcdef0123456789").replace(ADDRESS, ADDRESS.lower()), "EIP-55"),
        (_message("abcdef0123456789").replace("Version: 1", "Version: 2"), "version must be 1"),
        (_message("abcdef0123456789").replace("Nonce: abcdef0123456789", "Nonce: abc"), "nonce"),
        (_message("abcdef0123456789").replace("\nVersion: 1", ""), "“Version:” is missing"),
        (_message("abcdef0123456789") + "\nSurprise: 1", "not a known field"),
        (_message("abcdef0123456789").replace("\n", "\r\n"), "carriage returns"),
        (re.sub(r"Issued At: (\d{4})-\d{2}", r"Issued At: \1-13", _message("abcdef0123456789")), "not a real date"),
    ],
    ids=["empty", "prose", "lowercase-address", "version", "short-nonce", "missing-field", "extra-line", "crlf", "bad-date"],
)
def test_a_malformed_message_is_refused(app_client, market, text, words):
    _refused(app_client, market.engine, text, sign_message(KEY, text or "x"), 422, words, None)


def test_the_parser_reads_every_field_and_writes_the_same_text():
    text = (
        "https://example.com:8443 wants you to sign in with your Ethereum account:\n"
        f"{ADDRESS}\n\nI accept.\n\nURI: https://example.com:8443/login\nVersion: 1\nChain ID: 10\nNonce: 32891756ab\n"
        "Issued At: 2026-11-30T16:25:24Z\nExpiration Time: 2026-12-30T16:25:24Z\nNot Before: 2026-11-30T16:25:24Z\n"
        "Request ID: req-1\nResources:\n- ipfs://bafy\n- https://example.com/terms"
    )
    parsed = parse_message(text)
    assert parsed.host == "example.com:8443" and parsed.chain_id == 10 and parsed.statement == "I accept."
    assert parsed.resources == ("ipfs://bafy", "https://example.com/terms") and parsed.request_id == "req-1"
    assert parsed.text() == text
    no_statement = _message("abcdef0123456789").replace("Sign in.\n", "")  # address, three line feeds, URI
    assert parse_message(no_statement).statement is None
    with pytest.raises(MalformedSignInMessage):
        parse_message(no_statement.replace("\n\nURI", "\nURI"))


def test_sign_in_is_rate_limited(app_client):
    statuses = [app_client.post(f"{API}/auth/nonce").status_code for _ in range(70)]
    assert statuses[:60] == [200] * 60 and statuses[-1] == 429
    refused = app_client.post(f"{API}/auth/nonce")
    assert "wait" in refused.json()["detail"] and int(refused.headers["retry-after"]) >= 1
