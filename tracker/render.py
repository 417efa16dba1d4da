"""Plain-text rendering of answers for the terminal (CLI and console chat)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence

from tracker.answers import Answer, Cell


def render_text(answer: Answer, max_rows: int | None = None) -> str:
    """Title and figure, the table behind it, then caveats, times and sources."""
    lines = [answer.title + (f": {answer.value}" if answer.value is not None else "")]
    lines.append(f"({answer.context_line()})")
    rows = list(answer.rows)
    if rows and answer.columns:
        shown = rows if max_rows is None else rows[:max_rows]
        lines.append("")
        lines.extend(_table(answer.columns, shown))
        if len(shown) < len(rows):
            lines.append(f"… and {len(rows) - len(shown)} more (use --json or export as CSV)")
    if answer.notes:
        lines.append("")
        lines.extend(f"Note: {note}" for note in answer.notes)
    if answer.sources:
        lines.append("")
        lines.append("Sources: " + "; ".join(answer.sources[:8]))
        if len(answer.sources) > 8:
            lines.append(f"         and {len(answer.sources) - 8} more sources")
    return "\n".join(lines)


def render_json(answer: Answer) -> str:
    return json.dumps(answer.to_json(), ensure_ascii=False, indent=2)


def render_csv(answer: Answer) -> str:
    """The rows behind an answer as CSV: UTF-8, header row, ISO dates."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(answer.columns), extrasaction="ignore")
    writer.writeheader()
    for row in answer.rows:
        writer.writerow({k: _csv_cell(row.get(k)) for k in answer.columns})
    return buffer.getvalue()


def _csv_cell(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _text(value: Cell) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _table(columns: tuple[str, ...], rows: Sequence[Mapping[str, Cell]]) -> list[str]:
    cells = [[_text(row.get(c)) for c in columns] for row in rows]
    headers = [c.replace("_", " ") for c in columns]
    widths = [
        min(48, max(len(h), *(len(r[i]) for r in cells))) if cells else len(h)
        for i, h in enumerate(headers)
    ]

    def line(values: list[str]) -> str:
        clipped = [
            v if len(v) <= w else v[: w - 1] + "…" for v, w in zip(values, widths, strict=True)
        ]
        return "  ".join(v.ljust(w) for v, w in zip(clipped, widths, strict=True)).rstrip()

    return [line(headers), line(["-" * w for w in widths]), *(line(r) for r in cells)]
