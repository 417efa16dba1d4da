"""`tracker audit`: where a progress report disagrees with itself or with the computed figures.

Three kinds of finding, each with its paragraph:
- count: a paragraph says "N States Parties (A, B, …)" and names a different number of States;
- spelling/unknown: a State name in such a list is misspelt (resolved with a warning) or unknown;
- date: a date in the text falls after the document's own date, or outside the reporting
  period in a sentence about the period;
- figure: a published LAP figure differs from the same figure computed from State-level events.
The text checks are pure functions of the document text; the figure check also takes the
computed indicators and published figures.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date

from projections.indicators import Indicator
from projections.published import PublishedFigure
from tracker.aliases import StateLookupError, resolve

_UNITS = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_PARAGRAPH = re.compile(r"^(\d{1,3})\.\s+(.*)$")
_CLAIM = re.compile(
    r"\b(?P<count>\d{1,3}|[A-Za-z]+(?:-[a-z]+)?)\s+"
    # "Two of the 12 States Parties (A and B)": the claim is two, not twelve.
    r"(?:of\s+(?:the\s+|these\s+)?\w+\s+)?(?:were\s+|are\s+)?"
    r"(?:other\s+|new\s+|affected\s+)?"
    r"(?P<who>States Parties|States Party|State Party|States|SPs)\b"
    r"(?P<between>(?:(?!States|SPs)[^().;]){0,120}?)\((?P<names>[^()]+)\)"
)
_DATE = re.compile(
    r"\b(\d{1,2}) (January|February|March|April|May|June|July|August|September|October|"
    r"November|December) (\d{4})\b"
)
_MONTH_NAMES = (
    *("January", "February", "March", "April", "May", "June", "July", "August"),
    *("September", "October", "November", "December"),
)
_MONTHS = {m: i for i, m in enumerate(_MONTH_NAMES, start=1)}


@dataclass(frozen=True)
class Finding:
    kind: str  # count | spelling | unknown | date | figure
    paragraph: str
    message: str


def number_value(word: str) -> int | None:
    """'39', 'Thirty-nine', 'twelve' -> int; None when the word is not a number."""
    if word.isdigit():
        return int(word)
    lowered = word.lower()
    if lowered in _UNITS:
        return _UNITS.index(lowered)
    tens, _, unit = lowered.partition("-")
    if tens in _TENS and (not unit or unit in _UNITS[1:10]):
        return (_TENS.index(tens) + 2) * 10 + (_UNITS.index(unit) if unit else 0)
    return None


def paragraphs(text: str) -> Iterator[tuple[str, str]]:
    """(paragraph number, text) for every numbered paragraph."""
    for line in text.splitlines():
        match = _PARAGRAPH.match(line.strip())
        if match:
            yield match.group(1), match.group(2)


def _split_names(names: str) -> list[str]:
    parts: list[str] = []
    for raw in names.split(","):
        piece = raw.strip().removeprefix("and ").strip()
        if not piece:
            continue
        try:
            resolve(piece)
            parts.append(piece)
            continue
        except StateLookupError:
            pass
        # "Albania and Zambia" is two States; "Bosnia and Herzegovina" resolved above.
        parts.extend(p.strip() for p in piece.split(" and ") if p.strip())
    return parts


def text_findings(text: str, document_date: date, period: tuple[date, date]) -> list[Finding]:
    """Counts that differ from the names listed, misspelt or unknown names, impossible dates."""
    findings: list[Finding] = []
    for number, body in paragraphs(text):
        ref = f"para {number}"
        for claim in _CLAIM.finditer(body):
            count = number_value(claim.group("count"))
            if count is None:
                continue
            names = _split_names(claim.group("names"))
            if any(name.isdigit() for name in names):
                continue  # "(2011)": a year after a name, not a list of States
            states, problems = _resolve_all(names, ref)
            findings.extend(problems)
            if len(states) < 2 and count > 1 and len(names) < 2:
                continue  # a parenthesis that is not a list of States
            if count != len(names):
                findings.append(
                    Finding(
                        "count",
                        ref,
                        f"says {claim.group('count')} ({count}) {claim.group('who')} but names "
                        f"{len(names)}: {', '.join(names)}",
                    )
                )
        findings.extend(_date_findings(body, ref, document_date, period))
    return findings


def _resolve_all(names: Sequence[str], ref: str) -> tuple[list[str], list[Finding]]:
    states: list[str] = []
    problems: list[Finding] = []
    for name in names:
        try:
            resolution = resolve(name)
        except StateLookupError as exc:
            if len(name.split()) <= 5:
                problems.append(Finding("unknown", ref, str(exc)))
            continue
        states.append(resolution.iso3)
        if resolution.warning:
            problems.append(Finding("spelling", ref, resolution.warning))
    return states, problems


def _date_findings(
    body: str, ref: str, document_date: date, period: tuple[date, date]
) -> Iterable[Finding]:
    about_period = "period under review" in body or "during the period" in body
    for match in _DATE.finditer(body):
        day = date(int(match.group(3)), _MONTHS[match.group(2)], int(match.group(1)))
        if day > document_date:
            yield Finding(
                "date",
                ref,
                f"'{match.group(0)}' is after the document's own date "
                f"({document_date.isoformat()})",
            )
        elif about_period and not period[0] <= day <= period[1]:
            yield Finding(
                "date",
                ref,
                f"'{match.group(0)}' is outside the reporting period "
                f"{period[0].isoformat()}..{period[1].isoformat()} in a sentence about it",
            )


def figure_findings(
    computed: Sequence[Indicator], published: Sequence[PublishedFigure]
) -> list[Finding]:
    """Published figures that differ from the same figure computed from State-level events."""
    by_figure = {f.figure: f for f in published}
    findings: list[Finding] = []
    for indicator in computed:
        figure = by_figure.get(indicator.published_as or "")
        if figure is None or figure.value is None or figure.value == indicator.value:
            continue
        findings.append(
            Finding(
                "figure",
                figure.source,
                f"{figure.lap_action or figure.figure} publishes {figure.value}; the State-level "
                f"events give {indicator.value} ({indicator.label})",
            )
        )
    return findings


def document_date_of(text: str) -> date | None:
    """The first full date in the document's first lines (its date of issue)."""
    for line in text.splitlines()[:10]:
        match = _DATE.search(line)
        if match:
            return date(int(match.group(3)), _MONTHS[match.group(2)], int(match.group(1)))
    return None


def reporting_period_of(text: str) -> tuple[date, date] | None:
    """The period a report says it covers ("covers the period from 1 July 2023 to 30 June 2024")."""
    match = re.search(r"period from (\d{1,2} \w+ \d{4}) to (\d{1,2} \w+ \d{4})", text)
    if match is None:
        return None
    days = []
    for part in match.groups():
        found = _DATE.fullmatch(part)
        if found is None:
            return None
        days.append(date(int(found.group(3)), _MONTHS[found.group(2)], int(found.group(1))))
    return days[0], days[1]
