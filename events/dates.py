"""Valid-time values: a date that may be known only within bounds.

Sources are often imprecise ("submitted by the due date", "during the period"). A `DateRange`
keeps exactly what is known: the earliest and the latest possible day. An exact date is a range
of one day. It serialises as ``"2024-04-30"`` when exact and ``"2024-01-01..2024-04-30"`` when not,
so JSON, CSV and the database all carry the same two bounds and nothing is invented.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema

#: The Convention was adopted in Dublin on 30 May 2008; nothing valid happens before that year.
EARLIEST_VALID_DATE = date(2008, 1, 1)
#: Far-future dates are typos (2204 for 2024), not deadlines.
LATEST_VALID_DATE = date(2100, 12, 31)


class DateRange:
    """The day something happened, or the bounds of the days it may have happened."""

    __slots__ = ("not_after", "not_before")

    not_before: date
    not_after: date

    def __init__(self, not_before: date, not_after: date | None = None) -> None:
        upper = not_before if not_after is None else not_after
        if upper < not_before:
            raise ValueError(
                f"date range ends ({upper.isoformat()}) before it starts ({not_before.isoformat()})"
            )
        for bound in (not_before, upper):
            if not EARLIEST_VALID_DATE <= bound <= LATEST_VALID_DATE:
                raise ValueError(
                    f"date {bound.isoformat()} is outside {EARLIEST_VALID_DATE.isoformat()}"
                    f"..{LATEST_VALID_DATE.isoformat()}"
                )
        object.__setattr__(self, "not_before", not_before)
        object.__setattr__(self, "not_after", upper)

    def __reduce__(self) -> tuple[type[DateRange], tuple[date, date]]:
        # The default reduction of a slotted object sets attributes, which this class forbids.
        return DateRange, (self.not_before, self.not_after)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("DateRange is immutable")

    @classmethod
    def exact(cls, day: date) -> DateRange:
        return cls(day, day)

    @classmethod
    def parse(cls, text: str) -> DateRange:
        """Parse ``YYYY-MM-DD`` or ``YYYY-MM-DD..YYYY-MM-DD``; the error names what was wrong."""
        raw = text.strip()
        parts = raw.split("..")
        if len(parts) > 2 or not all(parts):
            raise ValueError(
                f"'{text}' is not a date (YYYY-MM-DD) or a range (YYYY-MM-DD..YYYY-MM-DD)"
            )
        days = [_parse_iso_day(p.strip()) for p in parts]
        return cls(days[0], days[-1])

    @property
    def is_exact(self) -> bool:
        return self.not_before == self.not_after

    def certainly_on_or_before(self, day: date) -> bool:
        return self.not_after <= day

    def possibly_on_or_before(self, day: date) -> bool:
        return self.not_before <= day

    def straddles(self, day: date) -> bool:
        """True when the source cannot tell whether it happened by `day`."""
        return self.not_before <= day < self.not_after

    def __str__(self) -> str:
        if self.is_exact:
            return self.not_before.isoformat()
        return f"{self.not_before.isoformat()}..{self.not_after.isoformat()}"

    def describe(self) -> str:
        """Human wording that states the imprecision instead of hiding it."""
        if self.is_exact:
            return self.not_before.isoformat()
        return f"between {self.not_before.isoformat()} and {self.not_after.isoformat()}"

    def __repr__(self) -> str:
        return f"DateRange({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DateRange):
            return NotImplemented
        return (self.not_before, self.not_after) == (other.not_before, other.not_after)

    def __hash__(self) -> int:
        return hash((self.not_before, self.not_after))

    @classmethod
    def _coerce(cls, value: Any) -> DateRange:
        if isinstance(value, DateRange):
            return value
        if isinstance(value, date):
            return cls.exact(value)
        if isinstance(value, str):
            return cls.parse(value)
        if isinstance(value, dict):
            try:
                lower = value["not_before"]
            except KeyError:
                raise ValueError(
                    "a date range needs 'not_before' (and optionally 'not_after')"
                ) from None
            upper = value.get("not_after", lower)
            lo = lower if isinstance(lower, date) else _parse_iso_day(str(lower))
            hi = upper if isinstance(upper, date) else _parse_iso_day(str(upper))
            return cls(lo, hi)
        raise ValueError(f"expected a date or a date range, got {type(value).__name__}")

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source_type: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            cls._coerce,
            serialization=core_schema.plain_serializer_function_ser_schema(str, when_used="always"),
            json_schema_input_schema=core_schema.str_schema(),
        )


def _parse_iso_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"'{text}' is not a real calendar date in the form YYYY-MM-DD") from None
