"""Sign-In with Ethereum (EIP-4361) sessions: nonces, the server's checks of a signed message, and the session
cookie.

A sign-in is accepted only when every one of these holds, checked in this order (each refusal is a 4xx with one
sentence, and changes nothing: the nonce stays usable, no session is opened):

1. the text is an EIP-4361 message (`api/siwe.py`, strict);
2. its domain is the host the web client is served at (`TWIN_PUBLIC_HOST`, else the request's Host), and its URI
   is on that host: a message signed for another site is worthless here;
3. its chain id is the deployment's;
4. it was issued within the last `NONCE_TTL` seconds (allowing `CLOCK_SKEW` either way), has not expired and is
   not for later (Not Before);
5. its nonce is one this server issued, unused and unexpired (single use: consumed with the session's creation);
6. the `personal_sign` signature recovers the message's address (`chain/signin.py`).

A session is a random id in an HTTP-only, SameSite=Lax cookie (Secure when the request came over https); the
database keeps its SHA-256, the address and the expiry. Signing out deletes it.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from datetime import datetime, timezone
from urllib.parse import urlsplit

from sqlalchemy import delete, select
from sqlmodel import Session

from ..chain.signin import InvalidSignatureError, recover_message_signer
from ..db.signin import SigninNonce, SigninSession
from ..errors import RequestRefused
from .siwe import SignInMessage, parse_message

COOKIE_NAME = "twin_session"
NONCE_TTL = 10 * 60  # seconds a nonce (and a message issued with it) stays usable
SESSION_TTL = 12 * 3600  # seconds a session lasts, unless the message expires sooner
CLOCK_SKEW = 5 * 60  # seconds a wallet's clock may be ahead of or behind the server's
STATEMENT = "Sign in to Twin Licence to see your licences, uses and earnings. This costs nothing."


class SignInRefused(RequestRefused):
    """A sign-in the server refuses; `reason` says why in a sentence."""

    status_code = 401
    code = "signin_refused"


class SignInMismatch(SignInRefused):
    """The message was written for another site, URI or chain."""

    status_code = 422
    code = "signin_mismatch"


def _now() -> int:
    return int(time.time())


def session_id_hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def issue_nonce(session: Session, chain_id: int, now: int | None = None) -> SigninNonce:
    """A fresh nonce (32 hexadecimal digits), stored until it is used or expires; expired ones are deleted."""
    now = _now() if now is None else now
    session.execute(delete(SigninNonce).where(SigninNonce.expires_at <= now))
    row = SigninNonce(nonce=secrets.token_hex(16), chain_id=chain_id, issued_at=now, expires_at=now + NONCE_TTL)
    issued = SigninNonce.model_validate(row)  # a detached copy: committing expires the row's attributes
    session.add(row)
    session.commit()
    return issued


def expected_message(domain: str, uri: str, address: str, chain_id: int, nonce: str, now: int | None = None) -> str:
    """The message the web client asks a wallet to sign (the same text a client may build itself)."""
    issued = datetime.fromtimestamp(_now() if now is None else now, timezone.utc)
    return SignInMessage(
        domain=domain, address=address, statement=STATEMENT, uri=uri, version="1", chain_id=chain_id, nonce=nonce,
        issued_at=issued,
    ).text()


def check_message(message: SignInMessage, *, host: str, chain_id: int, now: int) -> None:
    """Steps 2 to 4 of the module's list: refuses a message for another host, URI or chain, or out of its time."""
    if message.host.lower() != host.lower():
        raise SignInMismatch(
            f"The message asks to sign in to “{message.host}”, not to {host}: sign in from this site's own page."
        )
    uri = urlsplit(message.uri)
    if uri.scheme not in ("http", "https") or uri.netloc.lower() != host.lower():
        raise SignInMismatch(f"The message's URI is not on {host}: sign in from this site's own page.")
    if message.chain_id != chain_id:
        raise SignInMismatch(
            f"The message is for chain {message.chain_id}, but this site runs on chain {chain_id}: "
            "switch your wallet to it and sign in again."
        )
    issued = int(message.issued_at.timestamp())
    if issued > now + CLOCK_SKEW:
        raise SignInRefused("The message was issued in the future: check your computer's clock and sign in again.")
    if issued < now - NONCE_TTL - CLOCK_SKEW:
        raise SignInRefused("The message is too old to sign in with: sign in again.")
    if message.expiration_time is not None and message.expiration_time.timestamp() <= now:
        raise SignInRefused("The message has expired: sign in again.")
    if message.not_before is not None and message.not_before.timestamp() > now + CLOCK_SKEW:
        raise SignInRefused("The message is not valid yet (its “Not Before” is later): sign in again.")


def sign_in(session: Session, text: str, signature: str, *, host: str, chain_id: int,
            now: int | None = None) -> tuple[str, SigninSession]:
    """Checks the signed message (the module's list) and opens a session: (the cookie's value, the row)."""
    now = _now() if now is None else now
    message = parse_message(text)
    check_message(message, host=host, chain_id=chain_id, now=now)
    nonce = session.get(SigninNonce, message.nonce)
    if nonce is None or nonce.chain_id != chain_id or nonce.expires_at <= now:
        raise SignInRefused("This sign-in message was already used or has expired: sign in again.")
    try:
        signer = recover_message_signer(text, signature)
    except InvalidSignatureError as exc:
        raise SignInRefused(f"The signature cannot be read ({exc}): sign the message again.") from None
    if signer != message.address:
        raise SignInRefused(
            f"The message was signed by {signer}, not by {message.address}: sign it with the account it names."
        )
    consumed = session.execute(
        delete(SigninNonce).where(SigninNonce.nonce == message.nonce, SigninNonce.expires_at > now)
    ).rowcount
    if consumed != 1:  # another request used it in the meantime
        session.rollback()
        raise SignInRefused("This sign-in message was already used or has expired: sign in again.")
    expires = now + SESSION_TTL
    if message.expiration_time is not None:
        expires = min(expires, int(message.expiration_time.timestamp()))
    session.execute(delete(SigninSession).where(SigninSession.expires_at <= now))
    session_id = secrets.token_urlsafe(32)
    row = SigninSession(id_hash=session_id_hash(session_id), chain_id=chain_id, address=message.address, created_at=now,
                        expires_at=expires)
    opened = SigninSession.model_validate(row)
    session.add(row)
    session.commit()
    return session_id, opened


def session_of(session: Session, chain_id: int, session_id: str | None, now: int | None = None) -> SigninSession | None:
    """The live session whose cookie value is `session_id`, or None."""
    if not session_id or len(session_id) > 128:
        return None
    now = _now() if now is None else now
    row = session.execute(
        select(SigninSession).where(
            SigninSession.id_hash == session_id_hash(session_id),
            SigninSession.chain_id == chain_id,
            SigninSession.expires_at > now,
        )
    ).scalar_one_or_none()
    return row


def sign_out(session: Session, session_id: str | None) -> bool:
    """Deletes the session; whether there was one."""
    if not session_id or len(session_id) > 128:
        return False
    deleted = session.execute(delete(SigninSession).where(SigninSession.id_hash == session_id_hash(session_id))).rowcount
    session.commit()
    return bool(deleted)
