"""What a request body may be: at most `MAX_BODY_BYTES` (413 otherwise, whether announced by Content-Length or
streamed), and JSON that every part of the system can store and echo (422 otherwise); and how often a client may
call a write route open to anyone (`RateLimit`, 429 otherwise)."""

from __future__ import annotations

import json
import math
import re
from typing import Sequence
import threading
import time

from fastapi import HTTPException, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from ..errors import TwinLicensingError

MAX_BODY_BYTES = 64 * 1024  # a signed use report is ~400 bytes; a relayed transaction a few kilobytes
_SURROGATE = re.compile("[\ud800-\udfff]")


class BodySizeLimit:
    """`max_bytes` for every request, except the paths matching an `overrides` pattern, which take theirs (the
    images of the provenance routes: 20 MB)."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES,
                 overrides: Sequence[tuple[str, int]] = ()) -> None:
        self.app = app
        self.default_bytes = max_bytes
        self.overrides = [(re.compile(pattern), limit) for pattern, limit in overrides]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        max_bytes = next((limit for pattern, limit in self.overrides if pattern.match(path)), self.default_bytes)
        await _Limited(self.app, max_bytes)(scope, receive, send)


class _Limited:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    announced = int(value)
                except ValueError:
                    await self._refuse(send, 400, "The Content-Length header is not a number: send a correct one.")
                    return
                if announced > self.max_bytes:
                    await self._refuse(send, 413, self._message())
                    return
        received = 0
        started = refused = False

        async def counting_receive() -> Message:
            # Past the limit, answer 413 at once and tell the application the client went away: frameworks turn an
            # exception raised while they read the body into their own 400, so none is raised.
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    refused = True
                    if not started:
                        await self._refuse(send, 413, self._message())
                    return {"type": "http.disconnect"}
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if refused:
                return  # the 413 was the answer
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self.app(scope, counting_receive, tracking_send)

    def _message(self) -> str:
        if self.max_bytes >= 1024 * 1024:
            return f"The request is larger than {self.max_bytes // (1024 * 1024)} MB: send a smaller file."
        return f"The request is larger than {self.max_bytes // 1024} KiB: send less at a time."

    @staticmethod
    async def _refuse(send: Send, status: int, detail: str) -> None:
        await _answer(send, status, detail, "body_too_large" if status == 413 else "bad_request")


class StrictJsonBodies:
    """Refuses JSON bodies that Python's parser accepts but nothing downstream can hold, with 422 and a sentence:
    `NaN`, `Infinity` and numbers too large for a float (not JSON, and no database column or JSON answer takes
    them), and unpaired UTF-16 surrogates such as "\\ud800", in a value or a key (no UTF-8 encoder takes them).

    Pure ASGI: it reads the body (bounded by BodySizeLimit, which runs first), checks it, and hands the same
    messages on. Bodies that are not JSON at all are left to the route, which says so in its own words.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") not in ("POST", "PUT", "PATCH") or not _is_json(scope):
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []
        body = b""
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        problem = unstorable_json(body)
        if problem is not None:
            await _answer(send, 422, problem, "invalid_json")
            return

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)


def _is_json(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            media = value.split(b";", 1)[0].strip().lower()
            return media == b"application/json" or media.endswith(b"+json")
    return True  # no content type: FastAPI reads the body as JSON


class _Unstorable(TwinLicensingError, ValueError):
    pass


def _refuse_constant(name: str) -> float:
    raise _Unstorable(f"The request contains {name}, which is not a number JSON allows: send a plain number.")


def _finite(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise _Unstorable("The request contains a number too large to handle: send a smaller number.")
    return value


def _check_text(value: object) -> None:
    if isinstance(value, str):
        if _SURROGATE.search(value):
            raise _Unstorable(
                "The request contains text with a broken character (an unpaired UTF-16 surrogate): "
                "remove it or retype the text."
            )
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key)
            _check_text(item)
    elif isinstance(value, list):
        for item in value:
            _check_text(item)


def unstorable_json(body: bytes) -> str | None:
    """Why the JSON `body` cannot be accepted, as a sentence; None if it can (or if it is not JSON at all)."""
    if not body:
        return None
    try:
        _check_text(json.loads(body, parse_constant=_refuse_constant, parse_float=_finite))
    except _Unstorable as exc:
        return str(exc)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None  # not JSON: the route's own validation answers
    return None


async def _answer(send: Send, status: int, detail: str, code: str) -> None:
    body = json.dumps({"detail": detail, "code": code}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


# ------------------------------------------------------------------ rate limits of write routes


class RateLimit:
    """A FastAPI dependency allowing each client address `burst` requests at once on the routes that share `name`,
    refilled at `per_minute`; past that the request is refused with 429, a sentence and `Retry-After`.

    Write routes that any visitor may call (sign-in, storing a consent document) take one, so that nobody fills the
    database or spends the server's CPU on signature checks in a loop: `dependencies=[Depends(SIGN_IN_LIMIT)]`.
    The buckets live on the application (`app.state`), in memory: one API process, as `twinctl serve` runs it.
    """

    def __init__(self, name: str, per_minute: float, burst: int) -> None:
        self.name = name
        self.rate = per_minute / 60.0
        self.burst = burst

    async def __call__(self, request: Request) -> None:
        buckets = _buckets(request.app)
        key = (self.name, request.client.host if request.client else "")
        now = time.monotonic()
        with buckets.lock:
            tokens, seen = buckets.levels.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - seen) * self.rate)
            if tokens < 1.0:
                buckets.levels[key] = (tokens, now)
                wait = max(1, math.ceil((1.0 - tokens) / self.rate))
                raise HTTPException(
                    429,
                    f"Too many attempts from your address: wait {wait} second{'' if wait == 1 else 's'} and try again.",
                    headers={"Retry-After": str(wait)},
                )
            buckets.levels[key] = (tokens - 1.0, now)
            if len(buckets.levels) > _MAX_BUCKETS:  # forget the fullest (idlest) buckets first
                for stale in sorted(buckets.levels, key=lambda k: -buckets.levels[k][0])[: _MAX_BUCKETS // 4]:
                    del buckets.levels[stale]


_MAX_BUCKETS = 10_000


class _Buckets:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.levels: dict[tuple[str, str], tuple[float, float]] = {}


def _buckets(app) -> _Buckets:
    found = getattr(app.state, "rate_limits", None)
    if found is None:
        found = app.state.rate_limits = _Buckets()
    return found


# Sign-in: a nonce and a signed message per attempt; a person signs in a few times a day, a test run a few dozen.
SIGN_IN_LIMIT = RateLimit("sign-in", per_minute=60, burst=60)
# Consent documents: a model stores one text per registration or consent change.
CONSENT_DOCUMENT_LIMIT = RateLimit("consent-document", per_minute=20, burst=20)
