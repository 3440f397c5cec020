"""Every refusal as `{"detail": "<one sentence>", "code": ...}`: the web client shows `detail` as it is, so it is
written for the brand or the model reading it, not for a developer; the other fields are for programs.

- domain errors (`TwinLicensingError`) carry their `status_code`, `code` and `reason`, and may carry `fields` for
  programs, added beside the sentence (a use report's 409 sequence_mismatch: `expected_seq`);
- a request that fails validation (422) names the field in words and says what to do; the input is never echoed
  back (a NaN or an unpaired surrogate in it made the answer itself fail);
- unknown addresses (404) and wrong methods (405) get sentences too; anything unexpected is a 500 with a sentence
  and the traceback in the log, never in the answer.
"""

from __future__ import annotations

import json
import logging
import re
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import (
    ArtifactNotFoundError,
    ContractRevert,
    DeploymentNotFoundError,
    RpcConnectionError,
    TwinLicensingError,
)

log = logging.getLogger("twin_licensing.api")

_SURROGATES = re.compile("[\ud800-\udfff]")

# What a person calls each input; a name not listed is shown with its underscores as spaces.
FIELD_WORDS = {
    "license_id": "the licence id",
    "twin_id": "the twin id",
    "use_id": "the use id",
    "use_ref": "the use reference",
    "category": "the usage category",
    "territory": "the territory",
    "used_at": "the time of use",
    "signature": "the signature",
    "label": "the label",
    "min_fee": "the lowest fee",
    "max_fee": "the highest fee",
    "q": "the search text",
    "model": "the model's address",
    "payee": "the payee's address",
    "holder": "the holder's address",
    "available": "the “available only” filter",
    "role": "the role",
    "state": "the state",
    "subject": "the subject's address",
    "current": "the “current only” filter",
    "attestation_id": "the attestation id",
    "status": "the status",
    "kind": "the kind",
    "offset": "the page offset",
    "limit": "the page size",
}

# Patterns of the API's inputs, said in words.
PATTERN_WORDS = {
    r"^0x[0-9a-fA-F]{64}$": "0x followed by 64 hexadecimal digits",
    r"^0x[0-9a-fA-F]{130}$": "0x followed by 130 hexadecimal digits",
    r"^0x[0-9a-fA-F]{40}$": "0x followed by 40 hexadecimal digits",
}


def clean(text: str, limit: int = 300) -> str:
    """Text safe to put in an answer: unpaired surrogates (which no encoder accepts) replaced, length bounded."""
    return _SURROGATES.sub("\ufffd", text)[:limit]


def json_response(status: int, content: dict[str, Any]) -> Response:
    body = json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":"), default=str)
    return Response(clean(body, len(body)).encode("utf-8"), status_code=status, media_type="application/json")


def refusal(status: int, detail: str, code: str, **machine: Any) -> Response:
    return json_response(status, {"detail": clean(detail, 1000), "code": code, **machine})


# ------------------------------------------------------------------ validation errors as sentences


def _field(loc: tuple) -> tuple[str | None, str]:
    """The input's name (the last named part of its location) and how a person calls it."""
    names = [str(part) for part in loc if isinstance(part, str) and part not in ("body", "query", "path", "header")]
    if not names:
        return None, "the request body"
    name = clean(names[-1], 60)
    return name, FIELD_WORDS.get(name, "“" + name.replace("_", " ") + "”")


def _number(value: Any) -> str:
    return f"{value:,}".replace(",", " ") if isinstance(value, int) and abs(value) >= 10_000 else str(value)


def validation_sentence(error: dict[str, Any]) -> str:
    """One sentence for one pydantic / FastAPI validation error: which input, what is wrong, what to enter."""
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    name, words = _field(tuple(error.get("loc") or ()))
    subject = words[0].upper() + words[1:]
    if kind == "json_invalid":
        return "The request body is not valid JSON: check it for a typo or a missing quote or bracket."
    if kind == "missing":
        if name is None:
            return "The request has no body: send the details as a JSON object."
        return f"{subject} is missing: enter it and try again."
    if kind == "extra_forbidden":
        return f"This request does not take {words}: remove it and try again."
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"{subject} must be a JSON object with named fields: check what is sent."
    if kind in ("int_parsing", "int_type", "int_from_float", "finite_number", "float_parsing", "float_type"):
        return f"{subject} must be a whole number, like 12: enter it without decimals, quotes or words."
    if kind in ("bool_parsing", "bool_type"):
        return f"{subject} must be true or false."
    if kind in ("string_type", "string_unicode"):
        return f"{subject} must be text."
    if kind == "greater_than_equal":
        return f"{subject} must be {_number(ctx.get('ge'))} or more: enter a larger number."
    if kind == "greater_than":
        return f"{subject} must be more than {_number(ctx.get('gt'))}: enter a larger number."
    if kind == "less_than_equal":
        return f"{subject} must be {_number(ctx.get('le'))} or less: enter a smaller number."
    if kind == "less_than":
        return f"{subject} must be less than {_number(ctx.get('lt'))}: enter a smaller number."
    if kind == "string_too_long":
        return f"{subject} is too long: keep it to {ctx.get('max_length')} characters."
    if kind == "string_too_short":
        minimum = ctx.get("min_length")
        if minimum == 1:
            return f"{subject} is empty: enter it."
        return f"{subject} is too short: use at least {minimum} characters."
    if kind == "string_pattern_mismatch":
        expected = PATTERN_WORDS.get(str(ctx.get("pattern")), "the documented form")
        return f"{subject} is not in the right form: enter {expected}."
    if kind in ("literal_error", "enum"):
        return f"{subject} must be one of {clean(str(ctx.get('expected')), 200)}."
    if kind == "value_error":
        # The project's own validators word their message to follow the subject: "is not an address: enter ...".
        message = str(ctx.get("error") or error.get("msg", "")).removeprefix("Value error, ")
        return f"{subject} {clean(message, 300).rstrip('.')}."
    return f"{subject} is not valid: check it and try again."


async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
    errors = list(exc.errors())
    first = errors[0] if errors else {"type": "", "loc": ()}
    machine = [
        {"loc": [clean(p, 60) if isinstance(p, str) else p for p in e.get("loc", ())], "type": e.get("type")}
        for e in errors[:20]
    ]
    field, _ = _field(tuple(first.get("loc") or ()))
    return refusal(422, validation_sentence(first), "invalid_request", field=field, errors=machine)


# ------------------------------------------------------------------ domain, HTTP and unexpected errors


async def _domain_error(request: Request, exc: Exception) -> Response:
    if isinstance(exc, (DeploymentNotFoundError, RpcConnectionError)):
        log.warning("not ready on %s: %s", request.url.path, exc)
        return refusal(503, "The blockchain node does not answer right now: try again in a moment.", "not_ready")
    if isinstance(exc, ArtifactNotFoundError):
        log.error("compiled contracts missing on %s: %s", request.url.path, exc)
        return refusal(503, "The server is missing the contracts' descriptions: tell its operators.", "not_ready")
    if isinstance(exc, ContractRevert):
        return refusal(409, f"The blockchain refused this ({exc.name}): check the details and try again.", exc.name)
    status = getattr(exc, "status_code", None)
    code = getattr(exc, "code", None) or type(exc).__name__
    reason = getattr(exc, "reason", None) or str(exc)
    # Fields for programs beside the sentence (a use report's `expected_seq`); never the ones the answer has already.
    fields = {k: v for k, v in (getattr(exc, "fields", None) or {}).items() if k not in ("detail", "code")}
    return refusal(status if isinstance(status, int) and 400 <= status < 600 else 400, reason, code, **fields)


async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
    # Routes raise HTTPException with their own sentence; Starlette's own ones (no route, wrong method) say only
    # the status's phrase.
    generic = not isinstance(exc.detail, str) or exc.detail == HTTPStatus(exc.status_code).phrase
    if not generic:
        detail = exc.detail
    elif exc.status_code == 404:
        detail = "There is nothing at this address: check the link or go back to the start page."
    elif exc.status_code == 405:
        detail = f"This address does not take {clean(request.method, 20)} requests."
    else:
        detail = "The request cannot be served as it is: check it and try again."
    response = refusal(exc.status_code, detail, f"http_{exc.status_code}")
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    return response


async def _database_unavailable(request: Request, exc: Exception) -> Response:
    log.warning("database error on %s: %s", request.url.path, exc)
    return refusal(503, "The database is busy or unavailable: try again in a moment.", "database_unavailable")


async def _unexpected(request: Request, exc: Exception) -> Response:
    # Starlette logs the traceback and re-raises after this answer; the person sees a sentence, not the traceback.
    return refusal(
        500, "Something went wrong on our side: try again, and tell the operators if it keeps happening.", "internal"
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(TwinLicensingError, _domain_error)
    app.add_exception_handler(OperationalError, _database_unavailable)
    app.add_exception_handler(Exception, _unexpected)
