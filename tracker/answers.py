"""The one shape every query answer takes, whatever front end renders it.

An `Answer` carries the figure, the rows behind it, the two times it was computed for, the
sources and any caveats (coverage, imprecise dates, published aggregates). The CLI prints it as
a table or JSON, the bot as HTML, exports as CSV: the numbers are computed once, here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from events.dates import DateRange

Cell = str | int | float | bool | None


@dataclass(frozen=True)
class Answer:
    kind: str
    title: str
    as_of: date | None
    known_at: datetime
    #: Newest knowledge time among the events that were known at `known_at`.
    recorded_up_to: datetime | None
    value: int | None = None
    columns: tuple[str, ...] = ()
    rows: tuple[Mapping[str, Cell], ...] = ()
    notes: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    #: Extra keys of the JSON shape (shared/INTERFACES.md), merged into `to_json()`.
    data: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "kind": self.kind,
            "title": self.title,
            "as_of": None if self.as_of is None else self.as_of.isoformat(),
            "known_at": iso_utc(self.known_at),
            "recorded_up_to": None if self.recorded_up_to is None else iso_utc(self.recorded_up_to),
        }
        if self.value is not None:
            body["value"] = self.value
        body["items"] = [dict(row) for row in self.rows]
        body["notes"] = list(self.notes)
        body["sources"] = list(self.sources)
        body.update(jsonable(dict(self.data)))
        return body

    def context_line(self) -> str:
        """Which times the answer is for, said the way users read it."""
        parts = []
        if self.as_of is not None:
            parts.append(f"as of {self.as_of.isoformat()}")
        up_to = self.recorded_up_to or self.known_at
        parts.append(f"data as recorded up to {iso_utc(min(up_to, self.known_at))}")
        return "; ".join(parts)


def iso_utc(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def jsonable(value: Any) -> Any:
    """Dates to ISO strings, ranges to their text form, containers recursively."""
    if isinstance(value, datetime):
        return iso_utc(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, DateRange):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [jsonable(v) for v in value]
    return value


def cell(value: Any) -> Cell:
    """A table cell: ISO dates, range text, plain scalars."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    converted = jsonable(value)
    return converted if isinstance(converted, (str, int, float, bool)) else str(converted)
