"""A statement as people take it away: a CSV for spreadsheets and a PDF with a chart and the totals check.

The CSV's `amount` column adds up: the opening claimable, every earning line, every withdrawal (negative) give the
closing claimable on the last row. Amounts are exact decimals of the token, never rounded.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Callable
from datetime import datetime, timezone

from fpdf import FPDF
from sqlalchemy import select
from sqlmodel import Session

from ..db.registry_state import Twin
from ..domain.money import DECIMALS, SYMBOL, format_amount, plain_amount
from ..domain.times import when
from ..domain.vocabulary import category_name
from .compute import REFUND, ROUNDING, UNACCEPTED, UPFRONT, WITHDRAWAL, Line, Statement

CSV_COLUMNS = (
    "kind", "time", "block", "twin_id", "twin", "brand", "brand_name", "category", "licence", "first_seq", "uses",
    "gross", "share_bps", "amount", "tx_hash", "uses_root",
)


@dataclass
class Names:
    """How to call twins and accounts in a statement (an address or "Twin #n" when nothing better is known)."""

    twins: dict[int, str] = field(default_factory=dict)
    accounts: dict[str, str] = field(default_factory=dict)
    symbol: str = SYMBOL
    decimals: int = DECIMALS

    def twin(self, twin_id: int | None) -> str:
        return "" if twin_id is None else self.twins.get(twin_id) or f"Twin #{twin_id}"

    def account(self, address: str | None) -> str:
        return "" if not address else self.accounts.get(address.lower()) or self.accounts.get(address) or ""


def gather_names(session: Session, chain_id: int, statement: Statement, label: Callable[[str], str],
                 twin_name: Callable[[str], str | None]) -> Names:
    """The names a statement shows: each twin's (from its metadata URI) and each account's label."""
    twin_ids = {line.twin_id for line in statement.lines if line.twin_id is not None}
    uris = dict(session.execute(
        select(Twin.twin_id, Twin.uri).where(Twin.chain_id == chain_id, Twin.twin_id.in_(twin_ids))
    ).all()) if twin_ids else {}
    accounts = {line.brand for line in statement.lines if line.brand} | {statement.payee}
    return Names(
        twins={t: twin_name(uri) or f"Twin #{t}" for t, uri in uris.items()},
        accounts={a.lower(): label(a) for a in accounts if label(a)},
    )


def _iso(unix: int) -> str:
    return datetime.fromtimestamp(unix, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _category(line: Line) -> str:
    if line.kind == UPFRONT:
        return "upfront fee (vested)"
    if line.kind == REFUND:
        return "upfront refunded to the brand"
    if line.kind in (ROUNDING, WITHDRAWAL, UNACCEPTED):
        return ""
    return category_name(line.category) if line.category is not None else "not recorded"


def ordered_lines(statement: Statement) -> list[Line]:
    """Earning lines grouped by twin, brand and category (oldest first within a group), then the withdrawals."""
    order = {UPFRONT: 0, REFUND: 0, UNACCEPTED: 2, ROUNDING: 3}
    grouped = sorted(
        statement.lines,
        key=lambda l: (l.twin_id or 0, l.brand or "~", order.get(l.kind, 1),
                       -1 if l.category is None else l.category, l.block_number, l.log_index),
    )
    return grouped + statement.withdrawals


def to_csv(statement: Statement, names: Names) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    d = names.decimals

    def summary(kind: str, block: int, unix: int | None, amount: int) -> None:
        writer.writerow([kind, _iso(unix) if unix is not None else "", block, "", "", "", "", "", "", "", "", "", "",
                         plain_amount(amount, d), "", ""])

    summary("opening claimable", statement.opening.block, statement.opening_time or statement.period.start_unix,
            statement.opening.claimable)
    for line in ordered_lines(statement):
        writer.writerow([
            line.kind, _iso(line.block_time), line.block_number, "" if line.twin_id is None else line.twin_id,
            names.twin(line.twin_id), line.brand or "", names.account(line.brand), _category(line),
            "" if line.license_id is None else line.license_id, "" if line.first_seq is None else line.first_seq,
            line.uses, plain_amount(line.gross, d), "" if line.share_bps is None else line.share_bps,
            plain_amount(line.amount, d), line.tx_hash, line.uses_root or "",
        ])
    summary("closing claimable", statement.closing.block, statement.closing_time or statement.head_time,
            statement.closing.claimable)
    return out.getvalue()


def totals_check(statement: Statement, names: Names) -> str:
    """The one sentence a reader checks: "12.00 + 5.00 - 3.00 = 14.00 USDC = closing claimable: ties"."""
    f = lambda v: format_amount(v, names.decimals)  # noqa: E731
    verdict = "ties" if statement.ties else "DOES NOT TIE"
    return (f"opening {f(statement.opening.claimable)} + earned {f(statement.earned)} - withdrawn "
            f"{f(statement.withdrawn)} = {f(statement.opening.claimable + statement.earned - statement.withdrawn)} "
            f"{names.symbol}; closing claimable {f(statement.closing.claimable)} {names.symbol}: {verdict}")


# ------------------------------------------------------------------ PDF

_INK = (33, 33, 38)
_MUTED = (105, 105, 115)
_ACCENT = (122, 46, 92)
_GRID = (220, 220, 226)


class _Pdf(FPDF):
    def __init__(self, title: str) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.title_text = title
        self.set_auto_page_break(auto=True, margin=15)
        self.set_margins(15, 15, 15)

    def footer(self) -> None:
        self.set_y(-10)
        self.set_font("Helvetica", size=7)
        self.set_text_color(*_MUTED)
        self.cell(0, 4, f"{self.title_text} - page {self.page_no()}/{{nb}}", align="C")


def _latin(text: str) -> str:
    """The PDF's core fonts are Latin-1: anything else becomes '?' rather than an error."""
    return text.encode("latin-1", "replace").decode("latin-1")


def to_pdf(statement: Statement, names: Names) -> bytes:
    s, d, sym = statement, names.decimals, names.symbol
    f = lambda v: format_amount(v, d)  # noqa: E731
    title = f"Earnings statement {s.period.label}"
    pdf = _Pdf(title)
    pdf.alias_nb_pages()
    pdf.add_page()
    pdf.set_text_color(*_INK)
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 8, _latin(title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=9)
    who = names.account(s.payee)
    pdf.cell(0, 5, _latin(f"Payee: {who + ' ' if who else ''}{s.payee}"), new_x="LMARGIN", new_y="NEXT")
    last_day = s.period.end_unix - 1
    pdf.cell(0, 5, f"Period: {when(s.period.start_unix)[:10]} to {when(last_day)[:10]} (UTC), chain {s.chain_id}",
             new_x="LMARGIN", new_y="NEXT")
    opening = f"before block {s.opening.block}" + (f" ({when(s.opening_time)})" if s.opening_time else " (the index's head)")
    closing = (f"before block {s.closing.block} ({when(s.closing_time)})" if not s.closes_at_head
               else f"at the index's latest block, {s.head_block}"
               + (" (the period has not ended)" if s.running else " (no later block has an event)"))
    pdf.set_text_color(*_MUTED)
    pdf.multi_cell(0, 4.5, _latin(f"Balances from the chain's events: opening {opening}; closing {closing}."),
                   new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)

    # Totals and their check.
    pdf.set_text_color(*_INK)
    rows = [
        ("Opening claimable", f(s.opening.claimable)),
        ("+ Earned in the period", f(s.earned)),
        ("- Withdrawn in the period", f(s.withdrawn)),
        ("= Closing claimable", f(s.closing.claimable)),
    ]
    for i, (label, value) in enumerate(rows):
        pdf.set_font("Helvetica", "B" if i == 3 else "", 10)
        pdf.cell(70, 6, label, border="B" if i == 2 else 0)
        pdf.cell(45, 6, f"{value} {sym}", border="B" if i == 2 else 0, align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)
    pdf.set_font("Helvetica", "B", 9)
    pdf.set_text_color(*((20, 110, 60) if s.ties else (170, 30, 30)))
    pdf.multi_cell(0, 4.5, _latin("Totals check: " + totals_check(s, names)), new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(*_INK)
    pdf.set_font("Helvetica", size=8)
    pdf.cell(0, 4.5, f"{s.uses} settled uses, {len(s.lines)} lines, {len(s.withdrawals)} withdrawals.",
             new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)

    _chart(pdf, s.daily(), names)
    _groups_table(pdf, s, names)
    _lines_table(pdf, s, names)
    return bytes(pdf.output())


def _nice_step(top: int) -> int:
    """A round axis step (1, 2 or 5 times a power of ten) giving about four gridlines up to `top`."""
    raw = max(1, top // 4)
    power = 10 ** (len(str(raw)) - 1)
    for m in (1, 2, 5, 10):
        if m * power >= raw:
            return m * power
    return 10 * power


def _chart(pdf: FPDF, days: list[tuple[int, int]], names: Names) -> None:
    """Her earnings per day as bars, on one linear scale from zero, drawn with lines and rectangles."""
    pdf.set_font("Helvetica", "B", 10)
    pdf.cell(0, 6, f"Earned per day ({names.symbol})", new_x="LMARGIN", new_y="NEXT")
    left, top, width, height = pdf.l_margin + 16, pdf.get_y() + 2, pdf.epw - 16, 45
    peak = max((v for _, v in days), default=0)
    step = _nice_step(peak) if peak > 0 else 10**names.decimals
    axis_top = max(step, -(-peak // step) * step)
    pdf.set_font("Helvetica", size=6)
    pdf.set_draw_color(*_GRID)
    pdf.set_line_width(0.2)
    value = 0
    while value <= axis_top:
        y = top + height - height * value / axis_top
        pdf.line(left, y, left + width, y)
        pdf.set_text_color(*_MUTED)
        pdf.set_xy(pdf.l_margin, y - 2)
        pdf.cell(15, 4, format_amount(value, names.decimals), align="R")
        value += step
    slot = width / max(1, len(days))
    pdf.set_fill_color(*_ACCENT)
    label_every = 1 if len(days) <= 16 else 2 if len(days) <= 31 else 7 if len(days) <= 120 else 30
    for i, (day, amount) in enumerate(days):
        if amount > 0:
            bar = height * amount / axis_top
            pdf.rect(left + i * slot + slot * 0.15, top + height - bar, slot * 0.7, bar, style="F")
        if i % label_every == 0:
            pdf.set_xy(left + i * slot - 4 + slot / 2, top + height + 0.5)
            stamp = datetime.fromtimestamp(day, timezone.utc)
            pdf.cell(8, 3, stamp.strftime("%d %b") if label_every < 30 else stamp.strftime("%b"), align="C")
    pdf.set_draw_color(*_MUTED)
    pdf.line(left, top + height, left + width, top + height)
    pdf.set_text_color(*_INK)
    pdf.set_xy(pdf.l_margin, top + height + 6)


def _groups_table(pdf: FPDF, s: Statement, names: Names) -> None:
    pdf.set_font("Helvetica", "B", 10)
    pdf.cell(0, 7, "Per twin, brand and category", new_x="LMARGIN", new_y="NEXT")
    widths = (48, 50, 36, 16, 30)
    heads = ("Twin", "Brand", "Category", "Uses", f"Earned ({names.symbol})")
    pdf.set_font("Helvetica", "B", 8)
    for w, head in zip(widths, heads):
        pdf.cell(w, 5, head, border="B", align="R" if head.startswith(("Uses", "Earned")) else "L")
    pdf.ln()
    pdf.set_font("Helvetica", size=8)
    for g in s.groups():
        brand = names.account(g.brand) or (g.brand[:10] + "..." if g.brand else "")
        category = ("upfront fee (vested)" if g.kind == UPFRONT else "upfront refunded" if g.kind == REFUND
                    else "split rounding" if g.kind == ROUNDING
                    else "until accepted" if g.kind == UNACCEPTED
                    else category_name(g.category) if g.category is not None else "not recorded")
        for w, text, right in ((widths[0], names.twin(g.twin_id), False), (widths[1], brand, False),
                               (widths[2], category, False), (widths[3], str(g.uses), True),
                               (widths[4], format_amount(g.amount, names.decimals), True)):
            pdf.cell(w, 4.5, _latin(text)[:34], align="R" if right else "L")
        pdf.ln()
    pdf.ln(3)


def _lines_table(pdf: FPDF, s: Statement, names: Names) -> None:
    pdf.set_font("Helvetica", "B", 10)
    pdf.cell(0, 7, "Lines (each with its settlement transaction and Merkle root)", new_x="LMARGIN", new_y="NEXT")
    widths = (26, 34, 34, 30, 12, 16, 28)
    heads = ("Time (UTC)", "Twin", "Brand", "Category", "Uses", "Share", f"Amount ({names.symbol})")
    pdf.set_font("Helvetica", "B", 7)
    for w, head in zip(widths, heads):
        pdf.cell(w, 4.5, head, border="B", align="R" if head.startswith(("Uses", "Share", "Amount")) else "L")
    pdf.ln()
    for line in ordered_lines(s):
        if pdf.will_page_break(8):
            pdf.add_page()
        pdf.set_font("Helvetica", size=7)
        pdf.set_text_color(*_INK)
        brand = names.account(line.brand) or (line.brand[:10] + "..." if line.brand else "")
        kind = ("withdrawal" if line.kind == WITHDRAWAL else "split rounding" if line.kind == ROUNDING
                else "until accepted" if line.kind == UNACCEPTED else _category(line))
        share = f"{line.share_bps / 100:g} %" if line.share_bps is not None else ""
        cells = (
            (datetime.fromtimestamp(line.block_time, timezone.utc).strftime("%Y-%m-%d %H:%M"), False),
            (names.twin(line.twin_id), False), (brand, False), (kind, False),
            (str(line.uses) if line.uses else "", True), (share, True),
            (format_amount(line.amount, names.decimals), True),
        )
        for w, (text, right) in zip(widths, cells):
            pdf.cell(w, 3.8, _latin(text)[:26], align="R" if right else "L")
        pdf.ln()
        if line.tx_hash:
            pdf.set_font("Courier", size=5.5)
            pdf.set_text_color(*_MUTED)
            proof = f"  tx {line.tx_hash}" + (f"  root {line.uses_root}" if line.uses_root else "")
            pdf.cell(0, 3, f"block {line.block_number}{proof}", new_x="LMARGIN", new_y="NEXT")
