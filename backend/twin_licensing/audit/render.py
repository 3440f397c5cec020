"""The audit as a table a person reads: differences first, then a summary line."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from .compare import AuditReport


def _fmt(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def render(report: AuditReport, console: Console, *, all_rows: bool = False) -> None:
    table = Table(title=f"Audit at block {report.block_number}", show_lines=False)
    for column, justify in (("check", "left"), ("subject", "left"), ("events", "right"), ("contract", "right"),
                            ("database", "right"), ("", "center")):
        table.add_column(column, justify=justify)
    rows = sorted(report.rows, key=lambda r: r.ok)
    shown = rows if all_rows else [r for r in rows if not r.ok] + [r for r in rows if r.ok][:40]
    for row in shown:
        mark = "[green]ok[/green]" if row.ok else "[bold red]DIFF[/bold red]"
        table.add_row(row.check, row.subject, _fmt(row.events), _fmt(row.contract), _fmt(row.database), mark)
    console.print(table)
    if len(shown) < len(rows):
        console.print(f"({len(rows) - len(shown)} more matching rows; --all shows them)")
    for problem in report.problems:
        console.print(f"[bold red]problem:[/bold red] {problem}")
    console.print(
        f"uses: {report.uses_total} recorded, {report.uses_settled} settled on chain, {report.uses_proven} proven "
        f"against their settlement roots, {report.uses_pending} pending, {report.uses_rejected} rejected (never "
        "payable: grace over, a final skip or a rejection for good)"
    )
    verdict = "[green]no difference[/green]" if report.ok else (
        f"[bold red]{len(report.differences)} differences, {len(report.problems)} problems[/bold red]"
    )
    console.print(f"audit: {verdict} over {len(report.rows)} checks")
