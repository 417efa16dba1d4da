"""Article 7 transparency reports: who owes, who sent, on time or late, as of a date.

A report counts as submitted by `as_of` only when its recorded date range ends by then; a range
straddling `as_of` (or a due date) is reported as uncertain or "timing unknown", never guessed.
Missing annual reports are listed only for a year the data declares covered (a
`coverage.declared` event for "annual_reports" with that `year_covered`, whose period runs to
`as_of` or later); elsewhere absence of a report event is not evidence of absence.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Literal, cast

from events.dates import DateRange
from events.facts import Fact
from events.schema import AnnualReportSubmitted, FormVersion
from projections.calendar import annual_report_due, initial_report_due
from projections.ledger import Facts, Ledger
from projections.membership import StateRef, earliest, membership_of, memberships
from projections.published import coverage_declarations

ReportKind = Literal["initial", "annual"]


@dataclass(frozen=True)
class ReportRef:
    iso3: str
    kind: ReportKind
    year_covered: int | None
    submitted: DateRange
    form_version: FormVersion | None
    event_id: uuid.UUID
    #: In `reports_received` only: the submission range only partly overlaps the period.
    uncertain: bool = False


def report_ref(event: Fact, uncertain: bool = False) -> ReportRef:
    payload = event.payload
    year = payload.year_covered if isinstance(payload, AnnualReportSubmitted) else None
    return ReportRef(
        iso3=cast(str, event.state),
        kind="initial" if year is None else "annual",
        year_covered=year,
        submitted=event.occurred_on,
        form_version=getattr(payload, "form_version", None),
        event_id=event.event_id,
        uncertain=uncertain,
    )


def first_report(facts: Facts) -> ReportRef | None:
    """The report that certainly arrived first (duplicates and resubmissions are kept apart)."""
    event = earliest(facts)
    return None if event is None else report_ref(event)


def submission_by(facts: Facts, as_of: date) -> tuple[ReportRef | None, ReportRef | None]:
    """(the first report certainly in by `as_of`, else one possibly in by then) of a State."""
    first = first_report(facts)
    if first is not None and first.submitted.not_after <= as_of:
        return first, None
    possible = [e for e in facts.values() if e.occurred_on.not_before <= as_of]
    return None, (first_report({e.event_id.int: e for e in possible}) if possible else None)


@dataclass(frozen=True)
class OverdueInitial:
    iso3: str
    due: date
    days_overdue: int
    year_due: int
    #: A report is recorded with a date range straddling `as_of`: it may already be in.
    uncertain: bool


def overdue_initial(ledger: Ledger, as_of: date) -> tuple[OverdueInitial, ...]:
    """States bound at `as_of` whose initial report was due before it and is not certainly in."""
    overdue = []
    for member in memberships(ledger):
        if not member.is_bound(as_of) or member.entry_into_force is None:
            continue
        due = initial_report_due(member.entry_into_force.not_after, ledger.profile)
        if due >= as_of:
            continue
        certain, possible = submission_by(ledger.states[member.iso3].initial_reports, as_of)
        if certain is not None:
            continue
        uncertain = possible is not None
        overdue.append(OverdueInitial(member.iso3, due, (as_of - due).days, due.year, uncertain))
    return tuple(sorted(overdue, key=lambda o: (o.due, o.iso3)))


@dataclass(frozen=True)
class AnnualStatus:
    """The annual reports covering `year`, as of `as_of`. Lists of States are in ISO3 order."""

    year: int
    as_of: date
    due: date
    #: The data declares annual reports for `year` complete up to `as_of`.
    covered: bool
    coverage_note: str
    #: Bound for the whole year, withdrawal not effective by the due date, initial report
    #: certainly submitted by `as_of`.
    expected: tuple[str, ...]
    #: Bound for the whole year, but the initial report's date straddles `as_of`.
    expected_uncertain: tuple[str, ...]
    #: Submitted by expected States certainly by `as_of`: by the due date, after it, or
    #: within a range that straddles it.
    on_time: tuple[ReportRef, ...]
    late: tuple[ReportRef, ...]
    timing_unknown: tuple[ReportRef, ...]
    #: Recorded with a range straddling `as_of`: may or may not be in by then.
    uncertain: tuple[ReportRef, ...]
    #: Expected, with no report even possibly in by `as_of`; empty unless `covered`.
    missing: tuple[str, ...]
    #: Reports for `year` from States not in `expected` (joined during the year, initial
    #: report not certainly in…).
    unexpected: tuple[ReportRef, ...]

    @property
    def submitted(self) -> int:
        return len(self.on_time) + len(self.late) + len(self.timing_unknown)


def annual_status(ledger: Ledger, year: int, as_of: date) -> AnnualStatus:
    profile = ledger.profile
    due = annual_report_due(year, profile)
    expected: list[str] = []
    expected_uncertain: list[str] = []
    for member in memberships(ledger):
        # Gone by the due date, a State no longer owes the report.
        if not member.is_bound(date(year, 1, 1)) or member.is_withdrawn(due):
            continue
        certain, possible = submission_by(ledger.states[member.iso3].initial_reports, as_of)
        if certain is not None:
            expected.append(member.iso3)
        elif possible is not None:
            expected_uncertain.append(member.iso3)
    on_time: list[ReportRef] = []
    late: list[ReportRef] = []
    timing_unknown: list[ReportRef] = []
    uncertain: list[ReportRef] = []
    unexpected: list[ReportRef] = []
    possibly_in: set[str] = set()
    expected_set = set(expected)
    for iso3 in sorted(ledger.states):
        certain, possible = submission_by(ledger.states[iso3].annual_reports.get(year, {}), as_of)
        report = certain or possible
        if report is None:
            continue
        possibly_in.add(iso3)
        if iso3 not in expected_set:
            unexpected.append(report)
        elif certain is None:
            uncertain.append(report)
        elif report.submitted.not_after <= due:
            on_time.append(report)
        elif report.submitted.not_before > due:
            late.append(report)
        else:
            timing_unknown.append(report)
    covered, note = _annual_coverage(ledger, year, as_of)
    missing = tuple(iso3 for iso3 in expected if iso3 not in possibly_in) if covered else ()
    return AnnualStatus(
        year=year,
        as_of=as_of,
        due=due,
        covered=covered,
        coverage_note=note,
        expected=tuple(expected),
        expected_uncertain=tuple(expected_uncertain),
        on_time=tuple(on_time),
        late=tuple(late),
        timing_unknown=tuple(timing_unknown),
        uncertain=tuple(uncertain),
        missing=missing,
        unexpected=tuple(unexpected),
    )


def _annual_coverage(ledger: Ledger, year: int, as_of: date) -> tuple[bool, str]:
    ends = [
        c.period_end
        for c in coverage_declarations(ledger, "annual_reports")
        if c.year_covered == year
    ]
    if not ends:
        return False, (
            f"the recorded data does not say it holds every annual report for {year}; "
            "States without a recorded report are not listed as missing"
        )
    end = max(ends)
    if as_of > end:
        return False, (
            f"annual reports for {year} are recorded completely only up to {end.isoformat()}; "
            f"a report sent after that date may be missing from the data, so none is listed "
            "as missing"
        )
    return True, f"annual reports for {year} are recorded completely up to {end.isoformat()}"


def reports_received(ledger: Ledger, start: date, end: date) -> tuple[ReportRef, ...]:
    """Initial and annual reports submitted from `start` to `end` inclusive.

    Reports whose recorded range lies wholly in the period come first; those whose range only
    partly overlaps it follow with `uncertain=True`. Every recorded report is listed, including
    a second report for the same year.
    """
    certain: list[ReportRef] = []
    partial: list[ReportRef] = []
    for iso3 in sorted(ledger.states):
        record = ledger.states[iso3]
        events = list(record.initial_reports.values())
        for year in sorted(record.annual_reports):
            events.extend(record.annual_reports[year].values())
        for event in events:
            submitted = event.occurred_on
            if start <= submitted.not_before and submitted.not_after <= end:
                certain.append(report_ref(event))
            elif submitted.not_before <= end and submitted.not_after >= start:
                partial.append(report_ref(event, uncertain=True))
    key = _report_order
    return tuple(sorted(certain, key=key)) + tuple(sorted(partial, key=key))


def _report_order(report: ReportRef) -> tuple[str, int, int, date, str]:
    kind_order = 0 if report.kind == "initial" else 1
    return (
        report.iso3,
        kind_order,
        report.year_covered or 0,
        report.submitted.not_after,
        str(report.event_id),
    )


def revised_form_users(ledger: Ledger, start: date, end: date) -> tuple[StateRef, ...]:
    """States that certainly sent a report on the revised (11MSP) template within the period,
    each with the day its first such report was in by."""
    first: dict[str, date] = {}
    for report in reports_received(ledger, start, end):
        if report.uncertain or report.form_version != "revised":
            continue
        day = report.submitted.not_after
        if report.iso3 not in first or day < first[report.iso3]:
            first[report.iso3] = day
    return tuple(StateRef(iso3, first[iso3]) for iso3 in sorted(first))


def initial_report_due_for(ledger: Ledger, iso3: str) -> date | None:
    """The initial report's due date, once the State has deposited (None before)."""
    member = membership_of(ledger, iso3)
    if member is None or member.entry_into_force is None:
        return None
    return initial_report_due(member.entry_into_force.not_after, ledger.profile)
