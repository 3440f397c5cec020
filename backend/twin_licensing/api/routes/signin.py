"""Sign-In with Ethereum: a nonce (with the message to sign), signing in, signing out, and who is signed in.

The checks are `api/sessions.py`'s; the cookie is HTTP-only and SameSite=Lax (Secure over https), so scripts of
the page cannot read it and other sites' forms cannot use it.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from ..deps import ContextDep, ViewerDep
from ..limits import SIGN_IN_LIMIT
from ..read.schemas import Address
from ..sessions import COOKIE_NAME, NONCE_TTL, STATEMENT, expected_message, issue_nonce, sign_in, sign_out
from ..visibility import Viewer, is_guild

router = APIRouter(prefix="/auth", tags=["sign-in"])


class NonceRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    address: Address | None = Field(default=None, description="the account that will sign: the answer then holds the message")


class NoncePublic(BaseModel):
    nonce: str
    domain: str = Field(description="the host every message must name")
    uri: str
    chain_id: int
    statement: str
    expires_in: int = Field(description="seconds the nonce stays usable")
    message: str | None = Field(description="the EIP-4361 message to sign, when an address was given")


class SignInRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    message: str = Field(max_length=4096, description="the EIP-4361 message, as signed")
    signature: str = Field(max_length=200, description="its personal_sign signature, 0x-hex")


class WhoAmIPublic(BaseModel):
    signed_in: bool
    address: str | None
    label: str = Field(description="the account's label on the local chain, else empty")
    guild: bool = Field(description="whether the account holds the guild role")


def _host(request: Request, context) -> str:
    return context.settings.public_host or request.headers.get("host", "")


def _uri(request: Request, host: str) -> str:
    return f"{request.url.scheme}://{host}/"


def _who(context, viewer) -> WhoAmIPublic:
    return WhoAmIPublic(signed_in=viewer.signed_in, address=viewer.address, label=context.label(viewer.address),
                        guild=viewer.guild)


@router.post("/nonce", response_model=NoncePublic, summary="A fresh single-use nonce, and the message to sign with it",
             dependencies=[Depends(SIGN_IN_LIMIT)])
async def create_nonce(request: Request, context: ContextDep, body: NonceRequest | None = None) -> NoncePublic:
    def build() -> NoncePublic:
        with Session(context.engine) as session:
            row = issue_nonce(session, context.chain_id)
        host = _host(request, context)
        uri = _uri(request, host)
        message = None
        if body is not None and body.address is not None:
            message = expected_message(host, uri, body.address, context.chain_id, row.nonce, row.issued_at)
        return NoncePublic(nonce=row.nonce, domain=host, uri=uri, chain_id=context.chain_id, statement=STATEMENT,
                           expires_in=NONCE_TTL, message=message)

    return await run_in_threadpool(build)


@router.post(
    "/sign-in",
    response_model=WhoAmIPublic,
    summary="Sign in with a signed EIP-4361 message: sets the session cookie",
    responses={401: {"description": "unknown or used nonce, expired message, wrong signer"},
               422: {"description": "malformed message, or one for another site or chain"}},
    dependencies=[Depends(SIGN_IN_LIMIT)],
)
async def create_session(body: SignInRequest, request: Request, response: Response, context: ContextDep) -> WhoAmIPublic:
    def run():
        with Session(context.engine) as session:
            session_id, row = sign_in(session, body.message, body.signature, host=_host(request, context),
                                      chain_id=context.chain_id)
            viewer = Viewer(row.address, is_guild(session, context.chain_id, row.address, context.deployment.guild))
            return session_id, row, viewer

    session_id, row, viewer = await run_in_threadpool(run)
    response.set_cookie(
        COOKIE_NAME, session_id, max_age=max(0, row.expires_at - row.created_at), path="/", httponly=True,
        samesite="lax", secure=request.url.scheme == "https",
    )
    return _who(context, viewer)


@router.post("/sign-out", response_model=WhoAmIPublic, summary="Sign out: deletes the session and its cookie")
async def delete_session(request: Request, response: Response, context: ContextDep) -> WhoAmIPublic:
    session_id = request.cookies.get(COOKIE_NAME)

    def run() -> None:
        with Session(context.engine) as session:
            sign_out(session, session_id)

    await run_in_threadpool(run)
    response.delete_cookie(COOKIE_NAME, path="/", httponly=True, samesite="lax", secure=request.url.scheme == "https")
    return WhoAmIPublic(signed_in=False, address=None, label="", guild=False)


@router.get("/me", response_model=WhoAmIPublic, summary="Who is signed in (signed_in false when nobody is)")
async def who_am_i(context: ContextDep, viewer: ViewerDep) -> WhoAmIPublic:
    return _who(context, viewer)
