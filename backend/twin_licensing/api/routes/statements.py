"""A payee's statement for a month, quarter, year or custom dates: JSON, CSV and PDF. The payee and the guild only."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from ...domain.periods import Period, PeriodError, parse
from ...errors import InvalidRequestError
from ...statements.compute import Statement, build_statement
from ...statements.render import Names, gather_names, to_csv, to_pdf, totals_check
from ..context import ApiContext
from ..deps import ContextDep, ViewerDep
from ..read.http import dump
from ..read.schemas import AddressPath
from ..visibility import Viewer, not_found

router = APIRouter(prefix="/statements", tags=["statements"])

AUDIENCE = "that payee or the guild"
PeriodKind = Annotated[Literal["month", "quarter", "year", "custom"],
                       Query(description="month (value 2026-11), quarter (2026-Q4), year (2026) or custom (from, to)")]
PeriodValue = Annotated[str | None, Query(max_length=10, description="the month, quarter or year")]
FirstDay = Annotated[str | None, Query(alias="from", max_length=10, description="custom: first day, YYYY-MM-DD")]
LastDay = Annotated[str | None, Query(alias="to", max_length=10, description="custom: last day (included)")]


class BalancePublic(BaseModel):
    block_number: int = Field(description="the balance is the state before this block")
    claimable: int
    total_earned: int
    withdrawn: int


class StatementLinePublic(BaseModel):
    kind: str = Field(description="upfront | uses | rounding | unaccepted | withdrawal")
    time: int = Field(description="the block's time, unix seconds")
    block_number: int
    tx_hash: str
    uses_root: str | None
    twin_id: int | None
    twin_name: str | None
    license_id: int | None
    brand: str | None
    brand_label: str | None
    category: int | None
    first_seq: int | None
    uses: int
    gross: int = Field(description="what the twin earned on this line")
    share_bps: int | None
    amount: int = Field(description="the payee's part; negative for a withdrawal")


class StatementGroupPublic(BaseModel):
    kind: str
    twin_id: int | None
    twin_name: str | None
    brand: str | None
    brand_label: str | None
    category: int | None
    uses: int
    gross: int
    amount: int
    lines: int


class StatementPublic(BaseModel):
    payee: str
    label: str
    period: str
    kind: str
    start: int = Field(description="unix seconds, included")
    end: int = Field(description="unix seconds, excluded")
    closes_at_head: bool = Field(description="no block after the period holds an event: closing is the latest state")
    running: bool = Field(description="the period has not ended: its closing balance will still move")
    opening: BalancePublic
    closing: BalancePublic
    earned: int
    withdrawn: int
    uses: int
    ties: bool = Field(description="opening + earned - withdrawn = closing, and the lines add up to the totals")
    check: str = Field(description="the totals check in words")
    groups: list[StatementGroupPublic]
    lines: list[StatementLinePublic]
    withdrawals: list[StatementLinePublic]


def _period(kind: str, value: str | None, first: str | None, last: str | None) -> Period:
    try:
        return parse(kind, value, first_day=first, last_day=last)
    except PeriodError as exc:
        raise InvalidRequestError(str(exc)) from None


def _check_viewer(viewer: Viewer, payee: str) -> None:
    if not (viewer.guild or viewer.is_account(payee)):
        raise not_found(f"statement of {payee}", AUDIENCE)


async def _compute(context: ApiContext, payee: str, period: Period) -> tuple[Statement, Names]:
    version = context.version()

    def work() -> tuple[Statement, Names]:
        with Session(context.engine) as session:
            try:
                statement = build_statement(session, context.chain_id, payee, period, now=context.now(version))
            except PeriodError as exc:
                raise InvalidRequestError(str(exc)) from None
            names = gather_names(session, context.chain_id, statement, context.label,
                                 lambda uri: context.metadata.get(uri).name)
            return statement, names

    return await run_in_threadpool(work)


def _line(line, names: Names) -> StatementLinePublic:
    return StatementLinePublic(
        kind=line.kind, time=line.block_time, block_number=line.block_number, tx_hash=line.tx_hash,
        uses_root=line.uses_root, twin_id=line.twin_id, twin_name=names.twin(line.twin_id) or None,
        license_id=line.license_id, brand=line.brand, brand_label=names.account(line.brand) or None,
        category=line.category, first_seq=line.first_seq, uses=line.uses, gross=line.gross, share_bps=line.share_bps,
        amount=line.amount,
    )


def _public(s: Statement, names: Names) -> StatementPublic:
    def balance(b) -> BalancePublic:
        return BalancePublic(block_number=b.block, claimable=b.claimable, total_earned=b.total_earned,
                             withdrawn=b.withdrawn)

    return StatementPublic(
        payee=s.payee, label=names.account(s.payee), period=s.period.label, kind=s.period.kind,
        start=s.period.start_unix, end=s.period.end_unix, closes_at_head=s.closes_at_head, running=s.running,
        opening=balance(s.opening), closing=balance(s.closing), earned=s.earned, withdrawn=s.withdrawn, uses=s.uses,
        ties=s.ties, check=totals_check(s, names),
        groups=[StatementGroupPublic(kind=g.kind, twin_id=g.twin_id, twin_name=names.twin(g.twin_id) or None,
                                     brand=g.brand, brand_label=names.account(g.brand) or None, category=g.category,
                                     uses=g.uses, gross=g.gross, amount=g.amount, lines=g.lines) for g in s.groups()],
        lines=[_line(line, names) for line in s.lines],
        withdrawals=[_line(line, names) for line in s.withdrawals],
    )


def _filename(s: Statement, ext: str) -> str:
    return f"statement-{s.payee}-{s.period.slug}.{ext}"


async def period_query(period: PeriodKind = "month", value: PeriodValue = None, first: FirstDay = None,
                       last: LastDay = None) -> Period:
    """The period a request names (its four query parameters), or the 422 that says what is wrong with it."""
    return _period(period, value, first, last)


PeriodQuery = Annotated[Period, Depends(period_query)]


async def _statement(payee: str, context: ApiContext, viewer: Viewer, wanted: Period) -> tuple[Statement, Names]:
    # The period's form was checked first (the same 422 for anyone and any address); whether it lies in the future
    # depends on the index, so only the statement's audience learns it (in `_compute`, after this check).
    _check_viewer(viewer, payee)
    return await _compute(context, payee, wanted)


def _attachment(body: bytes | str, media_type: str, statement: Statement, ext: str) -> Response:
    return Response(body, media_type=media_type,
                    headers={"Content-Disposition": f'attachment; filename="{_filename(statement, ext)}"'})


@router.get(
    "/{payee}",
    response_model=StatementPublic,
    summary="A payee's statement for a period: balances at the boundary blocks, lines per twin, brand and category",
    description="Only the payee herself (signed in) and the guild; anyone else gets a 404. A malformed period is a 422 "
    "to anyone before that check: it depends on the query alone, so it tells nothing about the statement.",
)
async def read_statement(payee: AddressPath, context: ContextDep, viewer: ViewerDep, wanted: PeriodQuery) -> Response:
    statement, names = await _statement(payee, context, viewer, wanted)
    return Response(dump(_public(statement, names)), media_type="application/json")


@router.get(
    "/{payee}/csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
    summary="The statement as CSV: opening claimable, every line, closing claimable; the amount column adds up",
)
async def read_statement_csv(payee: AddressPath, context: ContextDep, viewer: ViewerDep,
                             wanted: PeriodQuery) -> Response:
    statement, names = await _statement(payee, context, viewer, wanted)
    return _attachment(to_csv(statement, names), "text/csv; charset=utf-8", statement, "csv")


@router.get(
    "/{payee}/pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
    summary="The statement as PDF, with a chart of the earnings per day and the totals check",
)
async def read_statement_pdf(payee: AddressPath, context: ContextDep, viewer: ViewerDep,
                             wanted: PeriodQuery) -> Response:
    statement, names = await _statement(payee, context, viewer, wanted)
    return _attachment(await run_in_threadpool(to_pdf, statement, names), "application/pdf", statement, "pdf")
